package native_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/gatehouse-auth/gatehouse/internal/server/servertest"
)

func jwks(t *testing.T, env *servertest.Env) jose.JSONWebKeySet {
	t.Helper()
	r := env.Do(servertest.Request{Method: "GET", Path: "/.well-known/jwks.json"})
	if r.Status != http.StatusOK {
		t.Fatalf("jwks: %d", r.Status)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(r.Body, &set); err != nil {
		t.Fatalf("jwks: %v", err)
	}
	return set
}

func segments(t *testing.T, tok string) (header, payload map[string]any, parts []string) {
	t.Helper()
	parts = strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("not a compact JWS: %q", tok)
	}
	for i, dst := range []*map[string]any{&header, &payload} {
		b, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, dst); err != nil {
			t.Fatal(err)
		}
	}
	return header, payload, parts
}

func encodeSeg(t *testing.T, v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func TestAccessToken_VerifiesAgainstJWKS(t *testing.T) {
	env, tk := newUser(t, servertest.Options{})
	header, claims, parts := segments(t, tk.AccessToken)
	if header["typ"] != "at+jwt" || header["alg"] != "EdDSA" || header["kid"] == nil {
		t.Fatalf("header: %v", header)
	}
	set := jwks(t, env)
	keys := set.Key(header["kid"].(string))
	if len(keys) != 1 {
		t.Fatalf("kid %v not in the JWKS", header["kid"])
	}
	// Verify with the standard library alone, independently of Gatehouse's code.
	pub, ok := keys[0].Key.(ed25519.PublicKey)
	if !ok {
		t.Fatalf("key is %T", keys[0].Key)
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		t.Fatal(err)
	}
	if !ed25519.Verify(pub, []byte(parts[0]+"."+parts[1]), sig) {
		t.Fatal("signature does not verify against the published key")
	}
	for _, c := range []string{"iss", "sub", "aud", "exp", "iat", "nbf", "jti", "sid", "tid", "client_id", "roles", "amr"} {
		if _, ok := claims[c]; !ok {
			t.Fatalf("claim %q missing: %v", c, claims)
		}
	}
	if claims["iss"] != "http://gatehouse.test" || claims["tid"] != "default" {
		t.Fatalf("claims: %v", claims)
	}
	if amr := claims["amr"].([]any); len(amr) != 1 || amr[0] != "pwd" {
		t.Fatalf("amr: %v", claims["amr"])
	}
}

func TestAccessToken_HostileTokensRefused(t *testing.T) {
	env, tk := newUser(t, servertest.Options{})
	header, claims, parts := segments(t, tk.AccessToken)

	sig := []byte(parts[2])
	sig[5] ^= 1
	tampered := parts[0] + "." + parts[1] + "." + string(sig)

	claims["sub"] = "someone-else"
	forgedPayload := parts[0] + "." + encodeSeg(t, claims) + "." + parts[2]

	none := encodeSeg(t, map[string]any{"alg": "none", "typ": "at+jwt", "kid": header["kid"]}) + "." + parts[1] + "."

	_, foreign, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	fh := encodeSeg(t, header) + "." + parts[1]
	foreignKid := fh + "." + base64.RawURLEncoding.EncodeToString(ed25519.Sign(foreign, []byte(fh)))

	for name, tok := range map[string]string{"tampered signature": tampered, "changed payload": forgedPayload,
		"alg none": none, "foreign key with the same kid": foreignKid} {
		if r := env.Me("", tok); r.Status != http.StatusUnauthorized {
			t.Errorf("%s: got %d", name, r.Status)
		}
	}
	if r := env.Me("", tk.AccessToken); r.Status != http.StatusOK {
		t.Fatalf("genuine token refused: %d", r.Status)
	}
	env.Clock.Advance(16 * time.Minute)
	if r := env.Me("", tk.AccessToken); r.Status != http.StatusUnauthorized {
		t.Fatalf("expired token accepted: %d", r.Status)
	}
}

func TestKeyRotation_Overlap(t *testing.T) {
	env, before := newUser(t, servertest.Options{})
	oldKid, _, _ := segments(t, before.AccessToken)
	r := env.Admin("POST", "/admin/keys/rotate", "", nil)
	if r.Status != http.StatusOK {
		t.Fatalf("rotate: %d %s", r.Status, r.Body)
	}
	after := env.Login("", "alice", pw)
	newKid, _, _ := segments(t, after.AccessToken)
	if oldKid["kid"] == newKid["kid"] || newKid["kid"] != r.JSON(t)["kid"] {
		t.Fatalf("new tokens do not use the new key: %v %v", oldKid["kid"], newKid["kid"])
	}
	if n := len(jwks(t, env).Keys); n != 2 {
		t.Fatalf("JWKS has %d keys during the overlap, want 2", n)
	}
	for _, tok := range []string{before.AccessToken, after.AccessToken} {
		if r := env.Me("", tok); r.Status != http.StatusOK {
			t.Fatalf("token refused during the overlap: %d", r.Status)
		}
	}
	// Once every token of the old key has expired, the key is withdrawn.
	env.Clock.Advance(17 * time.Minute)
	if err := env.Server.Keys.Reload(t.Context()); err != nil {
		t.Fatal(err)
	}
	set := jwks(t, env)
	if len(set.Keys) != 1 || set.Keys[0].KeyID != newKid["kid"] {
		t.Fatalf("old key still published: %v", set.Keys)
	}
	// ES256 and RS256 can be selected.
	for _, alg := range []string{"ES256", "RS256"} {
		if r := env.Admin("POST", "/admin/keys/rotate", "", map[string]any{"alg": alg}); r.Status != http.StatusOK {
			t.Fatalf("rotate to %s: %d %s", alg, r.Status, r.Body)
		}
		tk := env.Login("", "alice", pw)
		h, _, _ := segments(t, tk.AccessToken)
		if h["alg"] != alg {
			t.Fatalf("alg %v, want %s", h["alg"], alg)
		}
		if r := env.Me("", tk.AccessToken); r.Status != http.StatusOK {
			t.Fatalf("%s token refused: %d", alg, r.Status)
		}
	}
}
