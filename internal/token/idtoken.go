package token

import (
	"context"
	"encoding/json"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// VerifySignedJWT checks a JWT that this key set signed with SignJWT (an
// ID token): one signature, typ JWT, a published key named by kid with
// the header's alg, and iss equal to the issuer. It does not check exp:
// an ID token presented as a logout hint may have expired (OpenID Connect
// RP-Initiated Logout 1.0 §2). It returns the claims. Every error wraps
// ErrInvalidToken.
func (k *KeySet) VerifySignedJWT(ctx context.Context, raw string, now time.Time) (map[string]any, error) {
	if len(raw) > maxTokenSize {
		return nil, invalid("longer than %d bytes", maxTokenSize)
	}
	jws, err := jose.ParseSignedCompact(raw, parseAlgs)
	if err != nil {
		return nil, invalid("not a compact JWS: %v", err)
	}
	if len(jws.Signatures) != 1 {
		return nil, invalid("%d signatures, want exactly one", len(jws.Signatures))
	}
	h := jws.Signatures[0].Protected
	if typ, _ := h.ExtraHeaders[jose.HeaderType].(string); typ != "JWT" {
		return nil, invalid("typ %q is not JWT", typ)
	}
	key, err := k.lookup(ctx, h.KeyID, now)
	if err != nil {
		return nil, err
	}
	if string(key.alg) != h.Algorithm {
		return nil, invalid("alg %q does not match the %s key %s", h.Algorithm, key.alg, key.kid)
	}
	payload, err := jws.Verify(key.public.Key)
	if err != nil {
		return nil, invalid("signature does not verify with key %s", key.kid)
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		return nil, invalid("claims are not a valid JSON object: %v", err)
	}
	if iss, _ := claims["iss"].(string); iss != k.issuer {
		return nil, invalid("iss %q is not %q", iss, k.issuer)
	}
	return claims, nil
}
