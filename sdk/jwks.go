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

// keyCache holds the issuer's public keys. It fetches them on first use,
// again when a token names an unknown kid (at most once per minRefetch), and
// again when the cached set is older than maxAge (keeping the old set when
// that fetch fails).
type keyCache struct {
	url        string
	hc         *http.Client
	now        func() time.Time
	minRefetch time.Duration
	maxAge     time.Duration

	// mu guards snap and lastAttempt and is held during a fetch, so that
	// concurrent verifications of a token with a new kid wait for one fetch
	// instead of each starting their own.
	mu          sync.Mutex
	snap        *keySnapshot
	lastAttempt time.Time
	fetches     int // number of fetch attempts, for tests
}

// key returns the public key named kid.
func (c *keyCache) key(ctx context.Context, kid string) (jose.JSONWebKey, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if c.snap != nil {
		k, ok := c.snap.byKID[kid]
		if ok && now.Sub(c.snap.fetchedAt) < c.maxAge {
			return k, nil
		}
		if now.Sub(c.lastAttempt) < c.minRefetch {
			if ok {
				return k, nil
			}
			return jose.JSONWebKey{}, invalid("kid %q is unknown", kid)
		}
	} else if !c.lastAttempt.IsZero() && now.Sub(c.lastAttempt) < c.minRefetch {
		return jose.JSONWebKey{}, fmt.Errorf("%w: the key set could not be fetched recently", ErrKeysUnavailable)
	}

	c.lastAttempt = now
	c.fetches++
	snap, err := c.fetch(ctx, now)
	if err != nil {
		if c.snap != nil {
			if k, ok := c.snap.byKID[kid]; ok {
				return k, nil // stale but known: keep serving it
			}
		}
		return jose.JSONWebKey{}, fmt.Errorf("%w: %w", ErrKeysUnavailable, err)
	}
	c.snap = snap
	if k, ok := snap.byKID[kid]; ok {
		return k, nil
	}
	return jose.JSONWebKey{}, invalid("kid %q is unknown", kid)
}

// fetch reads the key set. Keys that cannot be parsed, are not signature
// keys, or have no kid are skipped, so that one odd key does not hide the
// others.
func (c *keyCache) fetch(ctx context.Context, now time.Time) (*keySnapshot, error) {
	var doc struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := fetchJSON(ctx, c.hc, c.url, nil, &doc); err != nil {
		return nil, fmt.Errorf("fetch key set: %w", err)
	}
	snap := &keySnapshot{byKID: make(map[string]jose.JSONWebKey, len(doc.Keys)), fetchedAt: now}
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

// fetchCount returns the number of fetch attempts so far.
func (c *keyCache) fetchCount() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.fetches
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
