package token

import (
	"crypto/sha256"
	"slices"
	"sync"
	"time"
)

// verifiedMax bounds the verified-token cache (an entry is a few hundred
// bytes).
const verifiedMax = 16384

// verifiedCache remembers access tokens that passed every check of
// Verify, keyed by the SHA-256 of the token, so that a token presented
// again skips parsing and the signature. An entry is used only while the
// token is within its validity (exp, nbf) and its key is still published;
// revocation of the token's session is not the key set's business and is
// checked by the caller on every request, cached or not.
type verifiedCache struct {
	mu sync.RWMutex
	m  map[[sha256.Size]byte]verified
}

// verified is what the cache keeps of one token.
type verified struct {
	claims Claims
	kid    string
}

func newVerifiedCache() *verifiedCache {
	return &verifiedCache{m: make(map[[sha256.Size]byte]verified)}
}

// get returns the claims of the token whose hash is h when it verified
// before and is still valid at now under the published keys of snap.
func (c *verifiedCache) get(h [sha256.Size]byte, snap *snapshot, now time.Time) (Claims, bool) {
	c.mu.RLock()
	v, ok := c.m[h]
	c.mu.RUnlock()
	if !ok {
		return Claims{}, false
	}
	if !now.Before(v.claims.ExpiresAt) || (!v.claims.NotBefore.IsZero() && now.Before(v.claims.NotBefore)) {
		return Claims{}, false
	}
	k, ok := snap.byKID[v.kid]
	if !ok || (!k.publishUntil.IsZero() && !now.Before(k.publishUntil)) {
		return Claims{}, false
	}
	return v.claims.clone(), true
}

// put remembers a verified token. When the cache is full, expired entries
// go first, then arbitrary ones, down to 7/8 of the bound, so that the
// cost of a sweep is spread over many insertions.
func (c *verifiedCache) put(h [sha256.Size]byte, claims Claims, kid string, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[h]; !ok && len(c.m) >= verifiedMax {
		for k, v := range c.m {
			if !now.Before(v.claims.ExpiresAt) {
				delete(c.m, k)
			}
		}
		for k := range c.m {
			if len(c.m) <= verifiedMax-verifiedMax/8 {
				break
			}
			delete(c.m, k)
		}
	}
	c.m[h] = verified{claims: claims.clone(), kid: kid}
}

// clone copies the slices of c, so that a caller changing its claims does
// not change a cached copy.
func (c Claims) clone() Claims {
	c.Audience = slices.Clone(c.Audience)
	c.Roles = slices.Clone(c.Roles)
	c.AMR = slices.Clone(c.AMR)
	if c.Roles == nil {
		c.Roles = []string{}
	}
	return c
}
