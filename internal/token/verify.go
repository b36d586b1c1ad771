package token

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// ErrInvalidToken is wrapped by every error of Verify.
var ErrInvalidToken = errors.New("invalid token")

// maxTokenSize bounds the tokens Verify parses.
const maxTokenSize = 16 << 10

// parseAlgs are the algs the parser lets through, so that Verify itself
// rejects every alg it does not accept, after the typ check and with a
// precise message. Nothing is ever verified with "none" or HMAC: Verify
// accepts only the algs of its own asymmetric keys.
var parseAlgs = []jose.SignatureAlgorithm{
	"none", jose.EdDSA, jose.ES256, jose.ES384, jose.ES512,
	jose.RS256, jose.RS384, jose.RS512, jose.PS256, jose.PS384, jose.PS512,
	jose.HS256, jose.HS384, jose.HS512,
}

// invalid returns an error wrapping ErrInvalidToken.
func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalidToken}, args...)...)
}

// Verify checks an access token at now and returns its claims. The checks,
// each with its own message, in order: compact JWS with exactly one
// signature; typ "at+jwt" (case-insensitive, "application/" prefix allowed,
// RFC 8725 §3.11); alg one of EdDSA, ES256, RS256; kid known (an unknown kid
// makes the key set reload from the store, at most once per second, and
// look again); alg equal to the alg of the key named by kid; signature; iss
// equal to the issuer; exp after now; nbf not after now; the claims sub,
// sid, tid, jti, exp and iat present. Every error wraps ErrInvalidToken.
//
// A token that passed every check is remembered (verifycache.go) and, when
// presented again, served without parsing while it is valid and its key
// published; a token whose header is exactly one of our Ed25519 keys' is
// verified directly (fastjws.go). Both give the same answers as the full path.
func (k *KeySet) Verify(ctx context.Context, raw string, now time.Time) (Claims, error) {
	if len(raw) > maxTokenSize {
		return Claims{}, invalid("longer than %d bytes", maxTokenSize)
	}
	snap := k.snap.Load()
	h := sha256.Sum256([]byte(raw))
	if c, ok := k.verified.get(h, snap, now); ok {
		return c, nil
	}
	key, payload, known, err := snap.fastVerify(raw)
	switch {
	case known && err != nil:
		return Claims{}, err
	case !known:
		if key, payload, err = k.verifyJWS(ctx, raw, now); err != nil {
			return Claims{}, err
		}
	case !key.publishUntil.IsZero() && !now.Before(key.publishUntil):
		return Claims{}, invalid("key %s is no longer published", key.kid)
	}
	c, err := k.checkClaims(payload, now)
	if err != nil {
		return Claims{}, err
	}
	k.verified.put(h, c, key.kid, now)
	return c, nil
}

// verifyJWS is the general path of Verify: it parses raw as a JWS, checks
// its header and key, and returns the verified payload.
func (k *KeySet) verifyJWS(ctx context.Context, raw string, now time.Time) (*key, []byte, error) {
	jws, err := jose.ParseSignedCompact(raw, parseAlgs)
	if err != nil {
		return nil, nil, invalid("not a compact JWS: %v", err)
	}
	if len(jws.Signatures) != 1 {
		return nil, nil, invalid("%d signatures, want exactly one", len(jws.Signatures))
	}
	h := jws.Signatures[0].Protected

	typ, _ := h.ExtraHeaders[jose.HeaderType].(string)
	if !isAccessTokenType(typ) {
		return nil, nil, invalid("typ %q is not at+jwt", typ)
	}
	if !supportedAlg(h.Algorithm) {
		return nil, nil, invalid("alg %q is not accepted", h.Algorithm)
	}
	key, err := k.lookup(ctx, h.KeyID, now)
	if err != nil {
		return nil, nil, err
	}
	if string(key.alg) != h.Algorithm {
		return nil, nil, invalid("alg %q does not match the %s key %s", h.Algorithm, key.alg, key.kid)
	}
	payload, err := jws.Verify(key.public.Key)
	if err != nil {
		return nil, nil, invalid("signature does not verify with key %s", key.kid)
	}
	return key, payload, nil
}

// checkClaims decodes a verified payload and checks its claims at now.
func (k *KeySet) checkClaims(payload []byte, now time.Time) (Claims, error) {
	var w wireClaims
	if err := json.Unmarshal(payload, &w); err != nil {
		return Claims{}, invalid("claims are not a valid JSON object: %v", err)
	}
	if w.Issuer != k.issuer {
		return Claims{}, invalid("iss %q is not %q", w.Issuer, k.issuer)
	}
	if w.ExpiresAt != nil && !now.Before(w.ExpiresAt.Time()) {
		return Claims{}, invalid("expired at %s", w.ExpiresAt.Time().UTC().Format(time.RFC3339))
	}
	if w.NotBefore != nil && now.Before(w.NotBefore.Time()) {
		return Claims{}, invalid("not valid before %s", w.NotBefore.Time().UTC().Format(time.RFC3339))
	}
	if name := missingClaim(&w); name != "" {
		return Claims{}, invalid("claim %s is missing", name)
	}
	return w.claims(), nil
}

// lookup returns the published key named kid, reloading the key set once
// when kid is unknown.
func (k *KeySet) lookup(ctx context.Context, kid string, now time.Time) (*key, error) {
	if kid == "" {
		return nil, invalid("header has no kid")
	}
	key, ok := k.snap.Load().byKID[kid]
	if !ok {
		k.reloadForKID(ctx, kid)
		if key, ok = k.snap.Load().byKID[kid]; !ok {
			return nil, invalid("kid %q is unknown", kid)
		}
	}
	if !key.publishUntil.IsZero() && !now.Before(key.publishUntil) {
		return nil, invalid("key %s is no longer published", kid)
	}
	return key, nil
}

// isAccessTokenType reports whether typ names an RFC 9068 access token.
func isAccessTokenType(typ string) bool {
	return strings.EqualFold(typ, typAccessToken) || strings.EqualFold(typ, "application/"+typAccessToken)
}

// missingClaim returns the name of the first required claim absent from w,
// or "".
func missingClaim(w *wireClaims) string {
	switch {
	case w.Subject == "":
		return "sub"
	case w.SessionID == "":
		return "sid"
	case w.TenantID == "":
		return "tid"
	case w.ID == "":
		return "jti"
	case w.ExpiresAt == nil:
		return "exp"
	case w.IssuedAt == nil:
		return "iat"
	}
	return ""
}
