package federation

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// keySet is the cached key set of one provider. It implements go-oidc's
// KeySet. Keys are fetched on first use and again when a token names a key
// id that is not cached (a rotation at the provider) or when the cache is
// older than the cache lifetime, but never more than once per refetch
// interval: a stream of tokens with made-up key ids cannot make Gatehouse
// hammer the provider.
type keySet struct {
	v       *Verifier
	issuer  string
	jwksURI string // configured; empty means discovery
	algs    []jose.SignatureAlgorithm

	mu        sync.Mutex
	keys      []jose.JSONWebKey
	fetchedAt time.Time // when keys were last fetched successfully
	triedAt   time.Time // when a fetch was last attempted
	resolved  string    // the jwks_uri in use (configured or discovered)
}

// failureKey carries a *failure through go-oidc's Verify, so that the
// reason a signature check failed survives go-oidc's error formatting.
type failureKey struct{}

type failure struct{ err *Error }

func fail(ctx context.Context, e *Error) error {
	if f, ok := ctx.Value(failureKey{}).(*failure); ok {
		f.err = e
	}
	return e
}

// VerifySignature implements oidc.KeySet: it checks the signature of raw
// with the provider's key named by the token's kid (or with each key whose
// type fits when there is no kid) and returns the payload.
func (k *keySet) VerifySignature(ctx context.Context, raw string) ([]byte, error) {
	jws, err := jose.ParseSigned(raw, k.algs)
	if err != nil {
		return nil, fail(ctx, &Error{Reason: ReasonMalformed, Detail: "the token is not a signed JWT with an allowed algorithm", Err: err})
	}
	if len(jws.Signatures) != 1 {
		return nil, fail(ctx, refuse(ReasonMalformed, "the token must carry exactly one signature"))
	}
	h := jws.Signatures[0].Header
	candidates, ferr := k.candidates(ctx, h.KeyID, h.Algorithm)
	if len(candidates) == 0 {
		if ferr != nil {
			return nil, fail(ctx, ferr)
		}
		return nil, fail(ctx, refuse(ReasonUnknownKey, "no key of the provider matches the token's kid"))
	}
	for _, key := range candidates {
		if payload, err := jws.Verify(key.Key); err == nil {
			return payload, nil
		}
	}
	return nil, fail(ctx, refuse(ReasonSignature, "the signature does not verify with the provider's key"))
}

// candidates returns the cached keys that may have signed a token with kid
// and alg, fetching the key set first when it was never fetched, is stale,
// or lacks kid, as far as the refetch interval allows. The error tells why
// a fetch that was needed failed.
func (k *keySet) candidates(ctx context.Context, kid, alg string) ([]jose.JSONWebKey, *Error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	now := k.v.now()
	stale := k.fetchedAt.IsZero() || now.Sub(k.fetchedAt) >= k.v.cacheTTL
	var ferr *Error
	if (stale || (kid != "" && !hasKID(k.keys, kid))) && k.mayFetch(now) {
		ferr = k.fetch(ctx, now)
	}
	if len(k.keys) == 0 && ferr == nil {
		// The last fetch failed and the interval forbids another one yet.
		ferr = refuse(ReasonKeysUnavailable, "the provider's keys could not be fetched")
	}
	var out []jose.JSONWebKey
	for _, key := range k.keys {
		if kid != "" && key.KeyID != kid {
			continue
		}
		if key.Algorithm != "" && key.Algorithm != alg {
			continue
		}
		out = append(out, key)
	}
	return out, ferr
}

// mayFetch reports whether the refetch interval since the last attempt has
// passed. The very first fetch is always allowed.
func (k *keySet) mayFetch(now time.Time) bool {
	return k.triedAt.IsZero() || now.Sub(k.triedAt) >= k.v.refetch || now.Before(k.triedAt)
}

// fetch replaces the cached keys with the provider's current key set. On
// failure the old keys stay in use. Called with k.mu held.
func (k *keySet) fetch(ctx context.Context, now time.Time) *Error {
	k.triedAt = now
	// The fetch serves every later request too: the caller going away must
	// not cut it short (it has its own timeout).
	ctx = context.WithoutCancel(ctx)
	uri := k.jwksURI
	if uri == "" {
		uri = k.resolved
	}
	if uri == "" {
		var err error
		if uri, err = k.v.discoverJWKS(ctx, k.issuer); err != nil {
			k.v.log.WarnContext(ctx, "identity provider discovery failed", "issuer", k.issuer, "err", err)
			return &Error{Reason: ReasonKeysUnavailable, Detail: "the provider's keys could not be fetched", Err: err}
		}
		k.resolved = uri
	}
	keys, err := k.v.fetchKeys(ctx, uri)
	if err != nil {
		k.v.log.WarnContext(ctx, "identity provider keys not fetched", "issuer", k.issuer, "jwks_uri", uri, "err", err)
		if k.jwksURI == "" {
			k.resolved = "" // discover again next time: the location may have moved
		}
		return &Error{Reason: ReasonKeysUnavailable, Detail: "the provider's keys could not be fetched", Err: err}
	}
	k.keys, k.fetchedAt = keys, now
	return nil
}

// fetchKeys downloads a JWKS and keeps its public signature keys. Keys of a
// type go-jose cannot read are skipped rather than failing the whole set.
func (v *Verifier) fetchKeys(ctx context.Context, uri string) ([]jose.JSONWebKey, error) {
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := v.getJSON(ctx, uri, &set); err != nil {
		return nil, fmt.Errorf("jwks: %w", err)
	}
	var keys []jose.JSONWebKey
	for _, raw := range set.Keys {
		var key jose.JSONWebKey
		if err := key.UnmarshalJSON(raw); err != nil {
			continue
		}
		if !key.Valid() || !key.IsPublic() || (key.Use != "" && key.Use != "sig") {
			continue
		}
		keys = append(keys, key)
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("jwks %s: no usable public signature key", uri)
	}
	return keys, nil
}

func hasKID(keys []jose.JSONWebKey, kid string) bool {
	for _, k := range keys {
		if k.KeyID == kid {
			return true
		}
	}
	return false
}
