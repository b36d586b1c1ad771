package sdktest

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/gatehouse-auth/gatehouse/internal/server/servertest"
	"github.com/gatehouse-auth/gatehouse/sdk"
)

const password = "correct horse battery staple"

// live is a Gatehouse server whose issuer is its URL, with user alice
// (role editor) and a confidential client.
type live struct {
	env    *servertest.Env
	client servertest.Client
	userID string
}

func newLive(t *testing.T, env map[string]string) *live {
	t.Helper()
	e := servertest.NewAtIssuer(t, servertest.Options{Env: env})
	id := e.CreateUser("", map[string]any{"username": "alice", "password": password, "roles": []string{"editor"}})
	return &live{env: e, client: e.CreateOAuthClient("", map[string]any{"name": "backend"}), userID: id}
}

// verifier is an SDK verifier of the live server on the server's clock.
func (l *live) verifier(t *testing.T, cfg sdk.Config) *sdk.Verifier {
	t.Helper()
	cfg.Issuer = l.env.URL
	cfg.HTTPClient = l.env.HTTP.Client()
	cfg.Now = l.env.Clock.Now
	v, err := sdk.NewVerifier(context.Background(), cfg)
	if err != nil {
		t.Fatalf("NewVerifier: %v", err)
	}
	return v
}

func TestLive_VerifiesNativeAndOAuth2Tokens(t *testing.T) {
	l := newLive(t, nil)
	v := l.verifier(t, sdk.Config{Tenant: "default"})
	ctx := context.Background()
	tk := l.env.Login("", "alice", password)
	c, err := v.Verify(ctx, tk.AccessToken)
	if err != nil {
		t.Fatalf("native token: %v", err)
	}
	if c.Subject != l.userID || c.TenantID != "default" || c.SessionID == "" || !c.HasRole("editor") ||
		!slices.Equal(c.AMR, []string{"pwd"}) || c.Issuer != l.env.URL || c.ExpiresAt.Sub(c.IssuedAt) != 15*time.Minute {
		t.Errorf("claims = %+v", c)
	}
	// An OAuth 2.0 token carries its scope and its client as audience.
	r := l.env.OAuth2("/oauth2/token", &l.client, url.Values{"grant_type": {"password"}, "username": {"alice"},
		"password": {password}, "scope": {"openid profile"}})
	if r.Status != http.StatusOK {
		t.Fatalf("password grant: %d %s", r.Status, r.Body)
	}
	at, _ := r.JSON(t)["access_token"].(string)
	mine := l.verifier(t, sdk.Config{Audience: l.client.ID})
	c, err = mine.Verify(ctx, at)
	if err != nil {
		t.Fatalf("oauth2 token with the client as audience: %v", err)
	}
	if c.ClientID != l.client.ID || !c.HasScope("openid") || !c.HasScope("profile") {
		t.Errorf("oauth2 claims = %+v", c)
	}
	// The native token was not issued to that client.
	if _, err := mine.Verify(ctx, tk.AccessToken); !errors.Is(err, sdk.ErrInvalidToken) {
		t.Errorf("native token for the client's audience: %v", err)
	}
	// Another tenant only is refused.
	if _, err := l.verifier(t, sdk.Config{Tenant: "acme"}).Verify(ctx, tk.AccessToken); !errors.Is(err, sdk.ErrInvalidToken) {
		t.Errorf("token of another tenant: %v", err)
	}
	// ID tokens (typ JWT) never pass for access tokens.
	idt, _ := r.JSON(t)["id_token"].(string)
	if _, err := v.Verify(ctx, idt); err == nil || !strings.Contains(err.Error(), "typ") {
		t.Errorf("ID token accepted as an access token: %v", err)
	}
}

// TestLive_KeyRotationPickedUp: after POST /admin/keys/rotate the SDK
// fetches the new kid on its first token and still verifies the old ones.
func TestLive_KeyRotationPickedUp(t *testing.T) {
	l := newLive(t, nil)
	v := l.verifier(t, sdk.Config{KeyRefetchInterval: 20 * time.Millisecond})
	ctx := context.Background()
	old := l.env.Login("", "alice", password)
	if _, err := v.Verify(ctx, old.AccessToken); err != nil {
		t.Fatal(err)
	}
	for _, alg := range []string{"ES256", "RS256", "EdDSA"} {
		r := l.env.Admin("POST", "/admin/keys/rotate", "", map[string]any{"alg": alg})
		if r.Status != http.StatusOK {
			t.Fatalf("rotate: %d %s", r.Status, r.Body)
		}
		fresh := l.env.Login("", "alice", password)
		if kid := headerOf(t, fresh.AccessToken)["kid"]; kid != r.JSON(t)["kid"] {
			t.Fatalf("new token kid %v, rotated to %v", kid, r.JSON(t)["kid"])
		}
		if _, err := v.Verify(ctx, fresh.AccessToken); err != nil {
			t.Fatalf("token of the rotated %s key: %v", alg, err)
		}
		if _, err := v.Verify(ctx, old.AccessToken); err != nil {
			t.Errorf("token of the retired key after rotating to %s: %v", alg, err)
		}
	}
}

// TestLive_RevokedSessionRefusedWithinInterval: with the revocation feed
// followed, a logout makes the SDK refuse the session's tokens within the
// interval, offline.
func TestLive_RevokedSessionRefusedWithinInterval(t *testing.T) {
	l := newLive(t, nil)
	v := l.verifier(t, sdk.Config{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	gone := l.env.Login("", "alice", password)
	kept := l.env.Login("", "alice", password)
	const interval = 100 * time.Millisecond
	if err := v.FollowRevocations(ctx, sdk.RevocationOptions{ClientID: l.client.ID, ClientSecret: l.client.Secret, Interval: interval}); err != nil {
		t.Fatalf("FollowRevocations: %v", err)
	}
	if _, err := v.Verify(ctx, gone.AccessToken); err != nil {
		t.Fatal(err)
	}
	if r := l.env.Do(servertest.Request{Method: "POST", Path: "/auth/logout", Bearer: gone.AccessToken}); r.Status != http.StatusNoContent {
		t.Fatalf("logout: %d", r.Status)
	}
	revoked := time.Now()
	for {
		_, err := v.Verify(ctx, gone.AccessToken)
		if errors.Is(err, sdk.ErrSessionRevoked) {
			break
		}
		if time.Since(revoked) > interval+2*time.Second {
			t.Fatalf("revoked session still accepted after %s: %v", time.Since(revoked), err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := v.Verify(ctx, kept.AccessToken); err != nil {
		t.Errorf("other session refused: %v", err)
	}
	// Wrong client credentials fail at once.
	other := l.verifier(t, sdk.Config{})
	err := other.FollowRevocations(ctx, sdk.RevocationOptions{ClientID: l.client.ID, ClientSecret: "wrong", Interval: interval})
	if err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("wrong secret: %v", err)
	}
}

// TestLive_HostileTokens: tokens an attacker builds with the server's own
// kid, and a real token once expired.
func TestLive_HostileTokens(t *testing.T) {
	l := newLive(t, nil)
	v := l.verifier(t, sdk.Config{})
	ctx := context.Background()
	real := l.env.Login("", "alice", password)
	kid, pub := serverKey(t, l.env)
	claims := payloadOf(t, real.AccessToken)
	claims["roles"] = []string{"admin"}
	_, foreign, _ := ed25519.GenerateKey(rand.Reader)

	cases := map[string]string{
		"alg none":                        unsigned(kid, claims),
		"foreign key with the same kid":   sign(t, jose.EdDSA, foreign, kid, claims),
		"HS256 keyed with the public key": sign(t, jose.HS256, []byte(pub), kid, claims),
		"tampered payload":                tamper(t, real.AccessToken, claims),
	}
	for name, tok := range cases {
		if c, err := v.Verify(ctx, tok); !errors.Is(err, sdk.ErrInvalidToken) {
			t.Errorf("%s: accepted (%+v) or wrong error %v", name, c, err)
		}
		if r := l.env.Me("", tok); r.Status != http.StatusUnauthorized {
			t.Errorf("%s: the server itself answered %d", name, r.Status)
		}
	}
	l.env.Clock.Advance(16 * time.Minute)
	if _, err := v.Verify(ctx, real.AccessToken); !errors.Is(err, sdk.ErrTokenExpired) {
		t.Errorf("expired token: %v", err)
	}
}

// serverKey returns the kid and raw Ed25519 public key the server publishes.
func serverKey(t *testing.T, env *servertest.Env) (string, ed25519.PublicKey) {
	t.Helper()
	r := env.Do(servertest.Request{Method: "GET", Path: "/.well-known/jwks.json"})
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(r.Body, &set); err != nil || len(set.Keys) == 0 {
		t.Fatalf("jwks: %v %s", err, r.Body)
	}
	pub, ok := set.Keys[0].Key.(ed25519.PublicKey)
	if !ok {
		t.Fatalf("server key is %T", set.Keys[0].Key)
	}
	return set.Keys[0].KeyID, pub
}

func sign(t *testing.T, alg jose.SignatureAlgorithm, key any, kid string, claims map[string]any) string {
	t.Helper()
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, (&jose.SignerOptions{}).WithType("at+jwt").WithHeader("kid", kid))
	if err != nil {
		t.Fatal(err)
	}
	p, _ := json.Marshal(claims)
	jws, err := s.Sign(p)
	if err != nil {
		t.Fatal(err)
	}
	out, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func unsigned(kid string, claims map[string]any) string {
	h, _ := json.Marshal(map[string]any{"alg": "none", "typ": "at+jwt", "kid": kid})
	p, _ := json.Marshal(claims)
	return base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(p) + "."
}

func tamper(t *testing.T, tok string, claims map[string]any) string {
	t.Helper()
	parts := strings.Split(tok, ".")
	p, _ := json.Marshal(claims)
	return parts[0] + "." + base64.RawURLEncoding.EncodeToString(p) + "." + parts[2]
}

func segmentOf(t *testing.T, tok string, i int) map[string]any {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", tok)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[i])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func headerOf(t *testing.T, tok string) map[string]any  { return segmentOf(t, tok, 0) }
func payloadOf(t *testing.T, tok string) map[string]any { return segmentOf(t, tok, 1) }
