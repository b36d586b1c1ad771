package sdk

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// keySnapshot is one fetched key set.
type keySnapshot struct {
	byKID     map[string]jose.JSONWebKey
	fetchedAt time.Time
}

// keyFetchTimeout bounds one fetch of the key set. A fetch runs detached
// from the request that started it, so that the requests that joined it
// are not failed by that one request's cancellation.
const keyFetchTimeout = defaultHTTPTimeout

// keyCache holds the issuer's public keys. It fetches them on first use,
// again when a token names an unknown kid, and again when the cached set is
// older than maxAge (keeping the old set when that fetch fails). Fetches are
// at least minRefetch apart, and at most one runs at a time: concurrent
// verifications that need one share it.
//
// A token naming an unknown kid is answered only by a fetch that started
// after the token arrived: when the last fetch is too recent, the
// verification waits for the next allowed one (bounded by its context).
// So a token signed with a key published before it was issued is never
// refused because the cache was fetched a moment too early, and during an
// outage such a token is always ErrKeysUnavailable, never invalid.
//
// The fetch cadence runs on the real (monotonic) clock, not Config.Now:
// it is about the load on the issuer, not about the tokens' times.
type keyCache struct {
	url        string
	hc         *http.Client
	minRefetch time.Duration
	maxAge     time.Duration

	mu        sync.Mutex
	snap      *keySnapshot  // the last key set fetched successfully
	lastStart time.Time     // start of the last fetch attempt
	inflight  chan struct{} // closed when the running fetch ends; nil when none runs
	// Outcome of the last fetch that ended: when it started and its error.
	ended      bool
	endedStart time.Time
	endedErr   error
	fetches    int // number of fetch attempts so far
}

// key returns the public key named kid.
func (c *keyCache) key(ctx context.Context, kid string) (jose.JSONWebKey, error) {
	arrived := time.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.snap != nil {
		if k, ok := c.snap.byKID[kid]; ok {
			if time.Since(c.snap.fetchedAt) < c.maxAge {
				return k, nil
			}
			return c.refreshKnown(ctx, kid, k)
		}
	}
	for {
		if c.snap != nil {
			if k, ok := c.snap.byKID[kid]; ok {
				return k, nil
			}
		}
		if c.ended && !c.endedStart.Before(arrived) {
			// A fetch that started after the token arrived has spoken.
			if c.endedErr != nil {
				return jose.JSONWebKey{}, fmt.Errorf("%w: %w", ErrKeysUnavailable, c.endedErr)
			}
			return jose.JSONWebKey{}, invalid("kid %q is unknown", kid)
		}
		if c.inflight != nil {
			if err := c.wait(ctx, c.inflight, nil); err != nil {
				return jose.JSONWebKey{}, err
			}
			continue
		}
		next := c.lastStart.Add(c.minRefetch)
		now := time.Now()
		if c.fetches == 0 || !now.Before(next) {
			c.start(ctx)
			continue
		}
		if c.ended && c.endedErr != nil {
			// The issuer did not answer the last fetch, a moment ago: the
			// key set is unavailable, whatever the kid.
			return jose.JSONWebKey{}, fmt.Errorf("%w: %w", ErrKeysUnavailable, c.endedErr)
		}
		timer := time.NewTimer(next.Sub(now))
		err := c.wait(ctx, nil, timer.C)
		timer.Stop()
		if err != nil {
			return jose.JSONWebKey{}, err
		}
	}
}

// refreshKnown fetches the key set again because it is older than maxAge,
// when a fetch is allowed, so that a key the issuer withdrew stops
// verifying. While the issuer does not answer, or when the fetch is not
// allowed yet, the known key k keeps serving. Called with mu held.
func (c *keyCache) refreshKnown(ctx context.Context, kid string, k jose.JSONWebKey) (jose.JSONWebKey, error) {
	old := c.snap
	if c.inflight == nil && !time.Now().Before(c.lastStart.Add(c.minRefetch)) {
		c.start(ctx)
	}
	if c.inflight != nil {
		if err := c.wait(ctx, c.inflight, nil); err != nil {
			return k, nil // the request ends; the key is still known
		}
	}
	if c.snap == old {
		return k, nil // not fetched again (failed or not allowed yet)
	}
	if nk, ok := c.snap.byKID[kid]; ok {
		return nk, nil
	}
	return jose.JSONWebKey{}, invalid("kid %q is no longer published", kid)
}

// start begins a fetch in the background. Called with mu held and no
// fetch running.
func (c *keyCache) start(ctx context.Context) {
	done := make(chan struct{})
	started := time.Now()
	c.inflight, c.lastStart = done, started
	c.fetches++
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), keyFetchTimeout)
	go func() {
		defer cancel()
		snap, err := c.fetch(fctx)
		c.mu.Lock()
		defer c.mu.Unlock()
		if err == nil {
			c.snap = snap
		}
		c.ended, c.endedStart, c.endedErr = true, started, err
		c.inflight = nil
		close(done)
	}()
}

// wait releases mu until done is closed, tick fires or ctx ends, and takes
// it again. It returns ErrKeysUnavailable when ctx ended first: the token
// was neither accepted nor proven invalid.
func (c *keyCache) wait(ctx context.Context, done <-chan struct{}, tick <-chan time.Time) error {
	c.mu.Unlock()
	defer c.mu.Lock()
	select {
	case <-done:
		return nil
	case <-tick:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("%w: waiting for the key set: %w", ErrKeysUnavailable, context.Cause(ctx))
	}
}

// fetch reads the key set. Keys that cannot be parsed, are not signature
// keys, or have no kid are skipped, so that one odd key does not hide the
// others.
func (c *keyCache) fetch(ctx context.Context) (*keySnapshot, error) {
	var doc struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := fetchJSON(ctx, c.hc, c.url, nil, &doc); err != nil {
		return nil, fmt.Errorf("fetch key set: %w", err)
	}
	snap := &keySnapshot{byKID: make(map[string]jose.JSONWebKey, len(doc.Keys)), fetchedAt: time.Now()}
	for _, raw := range doc.Keys {
		var k jose.JSONWebKey
		if err := k.UnmarshalJSON(raw); err != nil {
			continue
		}
		if k.KeyID == "" || (k.Use != "" && k.Use != "sig") || !k.Valid() {
			continue
		}
		if !k.IsPublic() {
			k = k.Public() // never keep private material, even if published by mistake
		}
		snap.byKID[k.KeyID] = k
	}
	return snap, nil
}

// keyFitsAlg reports whether k may verify a signature of alg: the key's own
// alg, when published, must be alg, and its type must be the one alg needs.
// This is what refuses an HMAC or "none" token and a token whose alg
// header names another key type than the key its kid points to.
func keyFitsAlg(k jose.JSONWebKey, alg string) bool {
	if k.Algorithm != "" && k.Algorithm != alg {
		return false
	}
	switch alg {
	case string(jose.EdDSA):
		_, ok := k.Key.(ed25519.PublicKey)
		return ok
	case string(jose.ES256):
		pk, ok := k.Key.(*ecdsa.PublicKey)
		return ok && pk.Curve == elliptic.P256()
	case string(jose.RS256):
		pk, ok := k.Key.(*rsa.PublicKey)
		return ok && pk.N.BitLen() >= 2048
	}
	return false
}
