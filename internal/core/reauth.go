package core

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/password"
	"github.com/gatehouse-auth/gatehouse/internal/store"
)

// CodeReauthenticationRequired: a sensitive action needs a recent
// interactive sign-in (§11 "Recent authentication").
const CodeReauthenticationRequired = "reauthentication_required"

// DefaultReauthMaxAge is the age of the last interactive sign-in beyond
// which sensitive actions need a new one, when the policy sets none.
const DefaultReauthMaxAge = 5 * time.Minute

func (p Policy) reauthMaxAge() time.Duration {
	if p.ReauthMaxAge > 0 {
		return p.ReauthMaxAge
	}
	return DefaultReauthMaxAge
}

// Account is a signed-in user acting on their own account: the bearer of a
// first-party access token (see AccountOf) or a signed-in browser, whose
// adapter fills it from its own session.
type Account struct {
	TenantID  string
	UserID    string
	SessionID string
	// AuthTime is the time of the session's last interactive sign-in.
	AuthTime time.Time
	// Actor is the acting administrator of an impersonation session; empty otherwise.
	Actor string
}

// AccountOf returns the Account of an access token's bearer. Only
// first-party tokens (audience containing the issuer) act on an account.
func (s *Service) AccountOf(ctx context.Context, p Principal) (Account, error) {
	if !slices.Contains(p.Audience, s.policy.Issuer) {
		return Account{}, errUnauthorized
	}
	sess, err := s.store.GetSession(ctx, p.TenantID, p.SessionID)
	if errors.Is(err, store.ErrNotFound) {
		return Account{}, errUnauthorized
	}
	if err != nil {
		return Account{}, fmt.Errorf("get session: %w", err)
	}
	if !sess.Live(s.clock.Now()) || sess.UserID != p.Subject {
		return Account{}, errUnauthorized
	}
	return Account{TenantID: p.TenantID, UserID: p.Subject, SessionID: p.SessionID, AuthTime: sess.AuthTime, Actor: sess.Actor}, nil
}

// requireRecentAuth refuses a sensitive action when the account's last
// interactive sign-in is older than the policy's ReauthMaxAge.
func (s *Service) requireRecentAuth(a Account) error {
	if a.AuthTime.IsZero() || s.clock.Now().Sub(a.AuthTime) > s.policy.reauthMaxAge() {
		return newError(CodeReauthenticationRequired,
			"this action needs a recent sign-in: sign in again and retry within "+s.policy.reauthMaxAge().String())
	}
	return nil
}

// recentOrPassword passes when the account's sign-in is recent or, when
// pw is given, when pw is the user's password. A wrong password counts
// against the account's sign-in throttle, like a failed sign-in.
func (s *Service) recentOrPassword(ctx context.Context, a Account, u store.User, pw string, m Meta) error {
	if pw == "" {
		return s.requireRecentAuth(a)
	}
	wrong := newError(CodeInvalidCredentials, "the password is wrong")
	if len(pw) > maxCredentialLen {
		return wrong
	}
	now := s.clock.Now()
	key := "user:" + strings.ToLower(u.Username)
	if err := s.checkThrottle(ctx, u.TenantID, now, key); err != nil {
		return err
	}
	ok, _, err := s.hasher.Verify(ctx, u.PasswordHash, pw)
	if errors.Is(err, password.ErrBusy) {
		return hashErr(err)
	}
	if err == nil && ok {
		return nil
	}
	p := s.policy
	if _, err := s.store.RecordFailure(ctx, u.TenantID, key, now, p.LoginMaxFailures, p.failureWindow(), p.LoginLockout); err != nil {
		return fmt.Errorf("record failure: %w", err)
	}
	e := event(EventLoginFailed, u.TenantID, u.ID, m, map[string]any{"reason": "bad_password", "purpose": "reauthentication"})
	e.SessionID = a.SessionID
	s.audit(ctx, e)
	return wrong
}
