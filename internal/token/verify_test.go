package token

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// forge signs payload with key under alg, with the header kid and typ.
func forge(t *testing.T, alg jose.SignatureAlgorithm, signingKey any, kid, typ string, payload []byte) string {
	t.Helper()
	opts := &jose.SignerOptions{}
	if kid != "" {
		opts = opts.WithHeader(jose.HeaderKey("kid"), kid)
	}
	if typ != "" {
		opts = opts.WithType(jose.ContentType(typ))
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: signingKey}, opts)
	if err != nil {
		t.Fatalf("NewSigner(%s): %v", alg, err)
	}
	jws, err := s.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// unsigned builds a compact JWS with the given header and an empty signature.
func unsigned(t *testing.T, header map[string]any, payload []byte) string {
	t.Helper()
	h, err := json.Marshal(header)
	if err != nil {
		t.Fatal(err)
	}
	enc := base64.RawURLEncoding
	return enc.EncodeToString(h) + "." + enc.EncodeToString(payload) + "."
}

func payloadOf(t *testing.T, c Claims) []byte {
	t.Helper()
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// wantInvalid asserts that Verify rejects tok with an error wrapping
// ErrInvalidToken whose message contains want.
func wantInvalid(t *testing.T, ks *KeySet, tok string, now time.Time, want string) {
	t.Helper()
	c, err := ks.Verify(context.Background(), tok, now)
	if err == nil {
		t.Fatalf("Verify accepted the token (claims %+v); want error containing %q", c, want)
	}
	if !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("error %v does not wrap ErrInvalidToken", err)
	}
	if !strings.Contains(err.Error(), want) {
		t.Fatalf("error %q does not contain %q", err, want)
	}
	if c.Subject != "" {
		t.Fatalf("claims returned with an error: %+v", c)
	}
}

func TestVerify_RejectsTampering(t *testing.T) {
	for _, alg := range algs {
		t.Run(alg, func(t *testing.T) {
			e := newEnv(t, alg)
			now := e.clock.Now()
			tok := mustSign(t, e.ks, claimsAt(now))
			parts := strings.Split(tok, ".")

			sig := b64(t, parts[2])
			sig[len(sig)/2] ^= 0x01
			badSig := parts[0] + "." + parts[1] + "." + base64.RawURLEncoding.EncodeToString(sig)
			wantInvalid(t, e.ks, badSig, now, "signature")

			c := claimsAt(now)
			c.Subject = "someone-else"
			badPayload := parts[0] + "." + base64.RawURLEncoding.EncodeToString(payloadOf(t, c)) + "." + parts[2]
			wantInvalid(t, e.ks, badPayload, now, "signature")

			wantInvalid(t, e.ks, parts[0]+"."+parts[1]+".", now, "signature")
		})
	}
}

func TestVerify_RejectsAlgNone(t *testing.T) {
	e := newEnv(t, AlgEdDSA)
	now := e.clock.Now()
	p := payloadOf(t, claimsAt(now))
	for _, alg := range []string{"none", "None", "NONE"} {
		tok := unsigned(t, map[string]any{"alg": alg, "kid": e.ks.ActiveKID(), "typ": "at+jwt"}, p)
		_, err := e.ks.Verify(context.Background(), tok, now)
		if !errors.Is(err, ErrInvalidToken) {
			t.Fatalf("alg %s: err = %v", alg, err)
		}
	}
	tok := unsigned(t, map[string]any{"alg": "none", "kid": e.ks.ActiveKID(), "typ": "at+jwt"}, p)
	wantInvalid(t, e.ks, tok, now, `alg "none" is not accepted`)
}

// The classic key-confusion attack: HMAC keyed with the public key, which
// anyone can read from the JWKS.
func TestVerify_RejectsHMACWithPublicKey(t *testing.T) {
	for _, alg := range algs {
		t.Run(alg, func(t *testing.T) {
			e := newEnv(t, alg)
			now := e.clock.Now()
			active := e.ks.snap.Load().active
			der, err := x509.MarshalPKIXPublicKey(active.public.Key)
			if err != nil {
				t.Fatal(err)
			}
			secrets := [][]byte{der, e.ks.JWKS(), active.publicJSON}
			if ed, ok := active.public.Key.(ed25519.PublicKey); ok {
				secrets = append(secrets, []byte(ed))
			}
			for _, secret := range secrets {
				for _, hs := range []jose.SignatureAlgorithm{jose.HS256, jose.HS512} {
					if len(secret) < 64 && hs == jose.HS512 {
						continue
					}
					tok := forge(t, hs, secret, e.ks.ActiveKID(), "at+jwt", payloadOf(t, claimsAt(now)))
					wantInvalid(t, e.ks, tok, now, "is not accepted")
				}
			}
		})
	}
}

func TestVerify_RejectsForeignKeyWithKnownKID(t *testing.T) {
	for _, alg := range algs {
		t.Run(alg, func(t *testing.T) {
			e := newEnv(t, alg)
			now := e.clock.Now()
			foreign, err := generateKey(alg)
			if err != nil {
				t.Fatal(err)
			}
			tok := forge(t, jose.SignatureAlgorithm(alg), foreign, e.ks.ActiveKID(), "at+jwt", payloadOf(t, claimsAt(now)))
			wantInvalid(t, e.ks, tok, now, "signature does not verify")
		})
	}
}

func TestVerify_RejectsAlgMismatch(t *testing.T) {
	e := newEnv(t, AlgEdDSA)
	now := e.clock.Now()
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tok := forge(t, jose.ES256, ec, e.ks.ActiveKID(), "at+jwt", payloadOf(t, claimsAt(now)))
	wantInvalid(t, e.ks, tok, now, `alg "ES256" does not match`)

	// Algs Gatehouse never signs with are refused before any key is looked up.
	ec384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	tok = forge(t, jose.ES384, ec384, e.ks.ActiveKID(), "at+jwt", payloadOf(t, claimsAt(now)))
	wantInvalid(t, e.ks, tok, now, `alg "ES384" is not accepted`)
}

func TestVerify_Typ(t *testing.T) {
	e := newEnv(t, AlgEdDSA)
	now := e.clock.Now()
	priv := e.ks.snap.Load().active.private
	p := payloadOf(t, claimsAt(now))
	for _, typ := range []string{"at+jwt", "AT+JWT", "At+Jwt", "application/at+jwt", "Application/AT+JWT"} {
		tok := forge(t, jose.EdDSA, priv, e.ks.ActiveKID(), typ, p)
		if _, err := e.ks.Verify(context.Background(), tok, now); err != nil {
			t.Errorf("typ %q rejected: %v", typ, err)
		}
	}
	for _, typ := range []string{"", "JWT", "jwt", "at+jwt2", "application/jwt", "dpop+jwt"} {
		tok := forge(t, jose.EdDSA, priv, e.ks.ActiveKID(), typ, p)
		wantInvalid(t, e.ks, tok, now, "typ")
	}
}

func TestVerify_TimeAndIssuer(t *testing.T) {
	e := newEnv(t, AlgEdDSA)
	now := e.clock.Now()
	c := claimsAt(now)
	tok := mustSign(t, e.ks, c)

	if _, err := e.ks.Verify(context.Background(), tok, c.ExpiresAt.Add(-time.Nanosecond)); err != nil {
		t.Fatalf("just before exp: %v", err)
	}
	wantInvalid(t, e.ks, tok, c.ExpiresAt, "expired")
	wantInvalid(t, e.ks, tok, c.ExpiresAt.Add(time.Hour), "expired")

	c = claimsAt(now)
	c.NotBefore = now.Add(time.Minute)
	tok = mustSign(t, e.ks, c)
	wantInvalid(t, e.ks, tok, now, "not valid before")
	if _, err := e.ks.Verify(context.Background(), tok, c.NotBefore); err != nil {
		t.Fatalf("at nbf: %v", err)
	}

	c = claimsAt(now)
	c.Issuer = "https://evil.example.test"
	wantInvalid(t, e.ks, mustSign(t, e.ks, c), now, "iss")
}

func TestVerify_RequiredClaims(t *testing.T) {
	e := newEnv(t, AlgEdDSA)
	now := e.clock.Now()
	cases := map[string]func(*Claims){
		"sub": func(c *Claims) { c.Subject = "" },
		"sid": func(c *Claims) { c.SessionID = "" },
		"tid": func(c *Claims) { c.TenantID = "" },
		"jti": func(c *Claims) { c.ID = "" },
	}
	for name, clear := range cases {
		c := claimsAt(now)
		clear(&c)
		wantInvalid(t, e.ks, mustSign(t, e.ks, c), now, "claim "+name+" is missing")
	}
	// Sign refuses to omit exp and iat, so build such tokens below it.
	for _, name := range []string{"exp", "iat"} {
		var m map[string]any
		if err := json.Unmarshal(payloadOf(t, claimsAt(now)), &m); err != nil {
			t.Fatal(err)
		}
		delete(m, name)
		p, _ := json.Marshal(m)
		tok, err := e.ks.sign(p, true)
		if err != nil {
			t.Fatal(err)
		}
		wantInvalid(t, e.ks, tok, now, "claim "+name+" is missing")
	}
}

func TestVerify_RejectsMalformed(t *testing.T) {
	e := newEnv(t, AlgEdDSA)
	now := e.clock.Now()
	tok := mustSign(t, e.ks, claimsAt(now))
	parts := strings.Split(tok, ".")

	priv := e.ks.snap.Load().active.private
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.EdDSA, Key: jose.JSONWebKey{Key: priv, KeyID: e.ks.ActiveKID()}},
		(&jose.SignerOptions{}).WithType("at+jwt"))
	if err != nil {
		t.Fatal(err)
	}
	jws, err := s.Sign(payloadOf(t, claimsAt(now)))
	if err != nil {
		t.Fatal(err)
	}
	notJSON, err := e.ks.sign([]byte("not json"), true)
	if err != nil {
		t.Fatal(err)
	}
	noKID := forge(t, jose.EdDSA, priv, "", "at+jwt", payloadOf(t, claimsAt(now)))

	cases := map[string]struct{ tok, want string }{
		"empty":              {"", "not a compact JWS"},
		"garbage":            {"abc", "not a compact JWS"},
		"two parts":          {parts[0] + "." + parts[1], "not a compact JWS"},
		"four parts":         {tok + "." + parts[2], "not a compact JWS"},
		"JWE shape":          {tok + ".a.b", "not a compact JWS"},
		"JSON serialization": {jws.FullSerialize(), "not a compact JWS"},
		"bad base64":         {"!!!." + parts[1] + "." + parts[2], "not a compact JWS"},
		"too long":           {tok + strings.Repeat("A", maxTokenSize), "longer than"},
		"claims not JSON":    {notJSON, "claims are not a valid JSON object"},
		"no kid":             {noKID, "no kid"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) { wantInvalid(t, e.ks, c.tok, now, c.want) })
	}
}

func TestVerify_UnknownKID(t *testing.T) {
	e := newEnv(t, AlgEdDSA)
	now := e.clock.Now()
	foreign, _ := generateKey(AlgEdDSA)
	tok := forge(t, jose.EdDSA, foreign, "no-such-kid", "at+jwt", payloadOf(t, claimsAt(now)))
	wantInvalid(t, e.ks, tok, now, `kid "no-such-kid" is unknown`)
}

// Unknown kids make the key set reload, but at most once per second, so
// that a flood of forged tokens cannot hammer the store.
func TestVerify_UnknownKIDReloadsAtMostOncePerSecond(t *testing.T) {
	e := newEnv(t, AlgEdDSA)
	now := e.clock.Now()
	foreign, _ := generateKey(AlgEdDSA)
	forged := func(kid string) string {
		return forge(t, jose.EdDSA, foreign, kid, "at+jwt", payloadOf(t, claimsAt(now)))
	}
	before := e.store.listCalls()
	for i := range 20 {
		_, _ = e.ks.Verify(context.Background(), forged("kid-"+string(rune('a'+i))), now)
	}
	if got := e.store.listCalls() - before; got != 1 {
		t.Fatalf("20 unknown kids within one second: %d reloads, want 1", got)
	}
	e.clock.Add(999 * time.Millisecond)
	_, _ = e.ks.Verify(context.Background(), forged("x"), now)
	if got := e.store.listCalls() - before; got != 1 {
		t.Fatalf("after 999ms: %d reloads, want 1", got)
	}
	e.clock.Add(time.Millisecond)
	_, _ = e.ks.Verify(context.Background(), forged("y"), now)
	if got := e.store.listCalls() - before; got != 2 {
		t.Fatalf("after 1s: %d reloads, want 2", got)
	}
	// Known kids never touch the store.
	for range 10 {
		if _, err := e.ks.Verify(context.Background(), mustSign(t, e.ks, claimsAt(now)), now); err != nil {
			t.Fatal(err)
		}
	}
	if got := e.store.listCalls() - before; got != 2 {
		t.Fatalf("known kids caused reloads: %d", got)
	}
}
