package core

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/store"
	"github.com/gatehouse-auth/gatehouse/internal/token"
)

// clientThrottleTenant holds the throttle records of client
// authentication. Client ids are unique across tenants, and an unknown id
// has no tenant, so these records live outside every tenant.
const clientThrottleTenant = ""

var errInvalidClient = newError(CodeInvalidClient, "client authentication failed")

// AuthenticateClient checks a client's credentials: a confidential client
// by its secret (SHA-256, compared in constant time), a public client by
// its id alone when secret is empty. The client comes from an in-memory
// cache (ClientCacheTTL), so that a known client costs no database round
// trip. Failures count against the client id from the caller's address and
// against the address alone, like failed logins; while either is locked
// every attempt is refused with CodeTooManyAttempts, right secret or not.
// A lock set by another process is learned at the first failure seen here.
func (s *Service) AuthenticateClient(ctx context.Context, id, secret string, m Meta) (store.Client, error) {
	now := s.clock.Now()
	keys := clientThrottleKeys(id, m.IP)
	if err := s.clientLocked(now, keys); err != nil {
		return store.Client{}, err
	}
	var c store.Client
	found := false
	if validClientID(id) && len(secret) <= maxClientSecret {
		var err error
		c, err = s.lookupClient(ctx, id, now)
		switch {
		case err == nil:
			found = true
			if secretMatches(c, secret) {
				return c, nil
			}
		case !errors.Is(err, store.ErrNotFound):
			return store.Client{}, fmt.Errorf("find client: %w", err)
		}
	}
	return store.Client{}, s.clientAuthFailed(ctx, c, found, m, now, keys)
}

// lookupClient returns the client id from the cache or the store.
func (s *Service) lookupClient(ctx context.Context, id string, now time.Time) (store.Client, error) {
	if c, ok := s.apps.clients.get(id, now); ok {
		return c, nil
	}
	c, err := s.store.FindClient(ctx, id)
	if err != nil {
		return store.Client{}, err
	}
	s.apps.clients.put(id, c, now.Add(ClientCacheTTL), now)
	return c, nil
}

// secretMatches compares the presented secret with the client's stored
// hash in constant time. A public client matches only an empty secret.
func secretMatches(c store.Client, secret string) bool {
	if c.Public {
		return secret == ""
	}
	if c.SecretHash == "" || secret == "" {
		return false
	}
	return token.Equal(token.HashOpaque(secret), c.SecretHash)
}

// clientThrottleKeys are the throttle keys of an authentication attempt:
// the client id from this address, and the address. Counting the id per
// address means that a stranger's guesses cannot lock a client out for
// its own servers.
func clientThrottleKeys(id, ip string) []string {
	ipKey := "client-ip:" + ip
	if !validClientID(id) {
		return []string{ipKey}
	}
	return []string{"client:" + id + "@" + ip, ipKey}
}

// clientLocked refuses the attempt while one of keys is known to be locked.
func (s *Service) clientLocked(now time.Time, keys []string) error {
	for _, k := range keys {
		if _, until, ok := s.apps.locks.lookup(k, now); ok {
			return &Error{Code: CodeTooManyAttempts, Message: "too many failed client authentications; try again later", RetryAfter: until.Sub(now)}
		}
	}
	return nil
}

// clientAuthFailed counts a failed client authentication and answers it.
func (s *Service) clientAuthFailed(ctx context.Context, c store.Client, found bool, m Meta, now time.Time, keys []string) error {
	p := s.policy
	locked := false
	var until time.Time
	for _, k := range keys {
		limit := p.LoginMaxFailures
		if strings.HasPrefix(k, "client-ip:") {
			limit = p.IPMaxFailures
		}
		th, err := s.store.RecordFailure(ctx, clientThrottleTenant, k, now, limit, p.failureWindow(), p.LoginLockout)
		if err != nil {
			return fmt.Errorf("record client failure: %w", err)
		}
		if now.Before(th.LockedUntil) {
			s.apps.locks.put(k, struct{}{}, th.LockedUntil, now)
			locked = true
			until = maxTime(until, th.LockedUntil)
		}
	}
	if found {
		s.audit(ctx, event(EventClientAuthFailed, c.TenantID, "", m, map[string]any{"client_id": c.ID, "locked": locked}))
	}
	if locked {
		return &Error{Code: CodeTooManyAttempts, Message: "too many failed client authentications; try again later", RetryAfter: until.Sub(now)}
	}
	return errInvalidClient
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// validClientID reports whether id has the form of a client id: URL-safe
// base64 characters, at most maxClientIDLen of them.
func validClientID(id string) bool {
	if id == "" || len(id) > maxClientIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		b := id[i]
		if !(b >= 'A' && b <= 'Z' || b >= 'a' && b <= 'z' || b >= '0' && b <= '9' || b == '-' || b == '_') {
			return false
		}
	}
	return true
}
