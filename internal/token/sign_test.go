package token

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"reflect"
	"strings"
	"testing"
	"time"
)

// rawJWK is a JWK decoded with encoding/json only.
type rawJWK struct {
	Kty, Kid, Alg, Use, Crv, X, Y, N, E, D string
}

// independentVerify checks tok against the JWKS document with the standard
// library only (no go-jose) and returns its decoded header and claims.
func independentVerify(t *testing.T, jwks []byte, tok string) (map[string]any, map[string]any) {
	t.Helper()
	var set struct{ Keys []rawJWK }
	if err := json.Unmarshal(jwks, &set); err != nil {
		t.Fatalf("JWKS is not JSON: %v", err)
	}
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("token has %d parts", len(parts))
	}
	var header, claims map[string]any
	decodeJSON(t, parts[0], &header)
	decodeJSON(t, parts[1], &claims)
	sig := b64(t, parts[2])
	input := []byte(parts[0] + "." + parts[1])

	var jwk *rawJWK
	for i := range set.Keys {
		if set.Keys[i].Kid == header["kid"] {
			jwk = &set.Keys[i]
		}
	}
	if jwk == nil {
		t.Fatalf("kid %v not in JWKS %s", header["kid"], jwks)
	}
	if jwk.D != "" {
		t.Fatal("JWKS publishes a private key")
	}
	if jwk.Use != "sig" || jwk.Alg != header["alg"] {
		t.Fatalf("JWK use/alg = %q/%q, header alg %v", jwk.Use, jwk.Alg, header["alg"])
	}
	if got := thumbprint(t, jwk); got != jwk.Kid {
		t.Fatalf("kid %q is not the RFC 7638 thumbprint %q", jwk.Kid, got)
	}
	digest := sha256.Sum256(input)
	ok := false
	switch header["alg"] {
	case "EdDSA":
		if jwk.Kty != "OKP" || jwk.Crv != "Ed25519" {
			t.Fatalf("EdDSA key is %s/%s", jwk.Kty, jwk.Crv)
		}
		ok = ed25519.Verify(ed25519.PublicKey(b64(t, jwk.X)), input, sig)
	case "ES256":
		if jwk.Kty != "EC" || jwk.Crv != "P-256" || len(sig) != 64 {
			t.Fatalf("ES256 key %s/%s, signature of %d bytes", jwk.Kty, jwk.Crv, len(sig))
		}
		pub := &ecdsa.PublicKey{Curve: elliptic.P256(), X: new(big.Int).SetBytes(b64(t, jwk.X)), Y: new(big.Int).SetBytes(b64(t, jwk.Y))}
		ok = ecdsa.Verify(pub, digest[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:]))
	case "RS256":
		if jwk.Kty != "RSA" {
			t.Fatalf("RS256 key is %s", jwk.Kty)
		}
		pub := &rsa.PublicKey{N: new(big.Int).SetBytes(b64(t, jwk.N)), E: int(new(big.Int).SetBytes(b64(t, jwk.E)).Int64())}
		ok = rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], sig) == nil
	default:
		t.Fatalf("unexpected alg %v", header["alg"])
	}
	if !ok {
		t.Fatalf("%v signature does not verify independently", header["alg"])
	}
	return header, claims
}

// thumbprint computes the RFC 7638 SHA-256 thumbprint of jwk by hand.
func thumbprint(t *testing.T, jwk *rawJWK) string {
	t.Helper()
	var s string
	switch jwk.Kty {
	case "OKP":
		s = `{"crv":"` + jwk.Crv + `","kty":"OKP","x":"` + jwk.X + `"}`
	case "EC":
		s = `{"crv":"` + jwk.Crv + `","kty":"EC","x":"` + jwk.X + `","y":"` + jwk.Y + `"}`
	case "RSA":
		s = `{"e":"` + jwk.E + `","kty":"RSA","n":"` + jwk.N + `"}`
	}
	sum := sha256.Sum256([]byte(s))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

func b64(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		t.Fatalf("base64url %q: %v", s, err)
	}
	return b
}

func decodeJSON(t *testing.T, part string, v any) {
	t.Helper()
	if err := json.Unmarshal(b64(t, part), v); err != nil {
		t.Fatalf("JSON of %q: %v", part, err)
	}
}

func TestSign_RoundTripEachAlg(t *testing.T) {
	for _, alg := range algs {
		t.Run(alg, func(t *testing.T) {
			e := newEnv(t, alg)
			now := e.clock.Now()
			c := claimsAt(now)
			c.Actor, c.Scope, c.Payload, c.Restricted = "admin-7", "openid profile", "p1", true
			c.Audience = []string{"a", "b"}
			tok := mustSign(t, e.ks, c)

			got, err := e.ks.Verify(context.Background(), tok, now.Add(time.Minute))
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if !reflect.DeepEqual(got, c) {
				t.Fatalf("claims:\n got %+v\nwant %+v", got, c)
			}
			if got := e.ks.Algs(); !reflect.DeepEqual(got, []string{alg}) {
				t.Fatalf("Algs = %v", got)
			}
		})
	}
}

func TestSign_VerifiesIndependently(t *testing.T) {
	for _, alg := range algs {
		t.Run(alg, func(t *testing.T) {
			e := newEnv(t, alg)
			c := claimsAt(e.clock.Now())
			c.Roles = nil
			c.Actor = "admin-1"
			header, claims := independentVerify(t, e.ks.JWKS(), mustSign(t, e.ks, c))
			want := map[string]any{"alg": alg, "kid": e.ks.ActiveKID(), "typ": "at+jwt"}
			if !reflect.DeepEqual(header, want) {
				t.Fatalf("header = %v, want %v", header, want)
			}
			checks := map[string]any{
				"iss": testIssuer, "sub": "user-1", "aud": "app-1", "sid": "sess-1", "tid": "default",
				"client_id": "app-1", "roles": []any{}, "amr": []any{"pwd"}, "act": map[string]any{"sub": "admin-1"},
				"exp": float64(c.ExpiresAt.Unix()), "iat": float64(c.IssuedAt.Unix()), "nbf": float64(c.NotBefore.Unix()), "jti": c.ID,
			}
			for name, v := range checks {
				if !reflect.DeepEqual(claims[name], v) {
					t.Errorf("claim %s = %#v, want %#v", name, claims[name], v)
				}
			}
		})
	}
}

// Re-signing the same claims with Ed25519 yields the identical token, which
// lets a refresh retried within the leeway return the same access token.
func TestSign_EdDSADeterministic(t *testing.T) {
	e := newEnv(t, AlgEdDSA)
	c := claimsAt(e.clock.Now())
	if a, b := mustSign(t, e.ks, c), mustSign(t, e.ks, c); a != b {
		t.Fatalf("two signatures of the same claims differ:\n%s\n%s", a, b)
	}
}

func TestSign_FillsIssuerAndRequiresTimes(t *testing.T) {
	e := newEnv(t, AlgEdDSA)
	now := e.clock.Now()
	c := claimsAt(now)
	c.Issuer = ""
	got, err := e.ks.Verify(context.Background(), mustSign(t, e.ks, c), now)
	if err != nil || got.Issuer != testIssuer {
		t.Fatalf("Verify = %q, %v; want issuer %q", got.Issuer, err, testIssuer)
	}
	c = claimsAt(now)
	c.ExpiresAt = time.Time{}
	if _, err := e.ks.Sign(c); err == nil {
		t.Error("Sign without exp: no error")
	}
	c = claimsAt(now)
	c.IssuedAt = time.Time{}
	if _, err := e.ks.Sign(c); err == nil {
		t.Error("Sign without iat: no error")
	}
}

func TestSignJWT_TypJWTAndRejectedAsAccessToken(t *testing.T) {
	for _, alg := range algs {
		t.Run(alg, func(t *testing.T) {
			e := newEnv(t, alg)
			now := e.clock.Now()
			tok, err := e.ks.SignJWT(map[string]any{
				"iss": testIssuer, "sub": "user-1", "aud": "client-1", "sid": "s", "tid": "t", "jti": "j",
				"exp": now.Add(time.Hour).Unix(), "iat": now.Unix(), "nonce": "n-1",
			})
			if err != nil {
				t.Fatalf("SignJWT: %v", err)
			}
			header, claims := independentVerify(t, e.ks.JWKS(), tok)
			if header["typ"] != "JWT" || header["kid"] != e.ks.ActiveKID() {
				t.Fatalf("header = %v", header)
			}
			if claims["nonce"] != "n-1" {
				t.Fatalf("claims = %v", claims)
			}
			// An ID token must never pass as an access token.
			if _, err := e.ks.Verify(context.Background(), tok, now); err == nil || !strings.Contains(err.Error(), "typ") {
				t.Fatalf("Verify(ID token) = %v, want a typ error", err)
			}
		})
	}
}
