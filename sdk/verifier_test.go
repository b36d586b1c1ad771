package sdk_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/gatehouse-auth/gatehouse/sdk"
)

func newVerifier(t *testing.T, f *fakeIssuer, cfg sdk.Config) *sdk.Verifier {
	t.Helper()
	cfg.Issuer = f.URL
	v, err := sdk.NewVerifier(context.Background(), cfg)
	if err != nil {
		t.Fatalf("NewVerifier: %v", err)
	}
	return v
}

func TestVerify_ReturnsTypedClaims(t *testing.T) {
	f := newFakeIssuer()
	defer f.Close()
	v := newVerifier(t, f, sdk.Config{})
	c := f.Claims("42")
	c["act"] = map[string]any{"sub": "admin-7"}
	c["payload"] = "cart=3"
	c["scope"] = "openid profile"
	c["roles"] = []string{"reader", "admin"}
	c["amr"] = []string{"pwd", "otp"}
	got, err := v.Verify(context.Background(), f.Token(c))
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if got.Subject != "42" || got.SessionID != "sid-42" || got.TenantID != "default" || got.ClientID != "my-app" ||
		got.ID != "jti-42" || got.Actor != "admin-7" || got.Payload != "cart=3" || got.Issuer != f.URL {
		t.Errorf("claims = %+v", got)
	}
	if !got.HasRole("admin") || got.HasRole("owner") || !got.HasScope("profile") || got.HasScope("email") {
		t.Errorf("roles %v / scope %q", got.Roles, got.Scope)
	}
	if !slices.Equal(got.AMR, []string{"pwd", "otp"}) || !got.Impersonated() {
		t.Errorf("amr %v, impersonated %v", got.AMR, got.Impersonated())
	}
	if got.ExpiresAt.Unix() != c["exp"].(int64) || got.IssuedAt.IsZero() || got.NotBefore.IsZero() {
		t.Errorf("times exp=%v iat=%v nbf=%v", got.ExpiresAt, got.IssuedAt, got.NotBefore)
	}
}

// TestVerify_RefusesHostileTokens covers every check of Verify with a
// token that breaks exactly that check.
func TestVerify_RefusesHostileTokens(t *testing.T) {
	f := newFakeIssuer()
	defer f.Close()
	v := newVerifier(t, f, sdk.Config{Tenant: "default", KeyRefetchInterval: 50 * time.Millisecond})
	kid := f.active().kid
	pub := f.active().priv.Public().(ed25519.PublicKey)
	_, foreign, _ := ed25519.GenerateKey(rand.Reader)
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	with := func(k string, val any) map[string]any {
		c := f.Claims("42")
		if val == nil {
			delete(c, k)
		} else {
			c[k] = val
		}
		return c
	}
	good := f.Claims("42")
	cases := []struct {
		name, token, want string
	}{
		{"alg none", unsignedJWT(kid, good), `alg "none" is not accepted`},
		{"HS256 keyed with the public key", signJWT(jose.HS256, []byte(pub), kid, "at+jwt", good), `alg "HS256" is not accepted`},
		{"foreign key with the same kid", signJWT(jose.EdDSA, foreign, kid, "at+jwt", good), "signature does not verify"},
		{"RS256 under an Ed25519 kid", signJWT(jose.RS256, rsaKey, kid, "at+jwt", good), `alg "RS256" does not fit key`},
		{"ES256 under an Ed25519 kid", signJWT(jose.ES256, ecKey, kid, "at+jwt", good), `alg "ES256" does not fit key`},
		{"typ JWT (an ID token)", signJWT(jose.EdDSA, f.active().priv, kid, "JWT", good), `typ "JWT" is not at+jwt`},
		{"no typ", signJWT(jose.EdDSA, f.active().priv, kid, "", good), `typ "" is not at+jwt`},
		{"no kid", signJWT(jose.EdDSA, f.active().priv, "", "at+jwt", good), "no kid"},
		{"unknown kid", signJWT(jose.EdDSA, foreign, "nope", "at+jwt", good), `kid "nope" is unknown`},
		{"expired", f.Token(with("exp", time.Now().Add(-time.Minute).Unix())), "expired"},
		{"not yet valid", f.Token(with("nbf", time.Now().Add(time.Minute).Unix())), "not valid before"},
		{"issued in the future", f.Token(with("iat", time.Now().Add(time.Hour).Unix())), "issued in the future"},
		{"other issuer", f.Token(with("iss", "https://evil.example")), "iss"},
		{"other audience", f.Token(with("aud", "someone-else")), "aud"},
		{"no sid", f.Token(with("sid", nil)), "claim sid is missing"},
		{"no exp", f.Token(with("exp", nil)), "claim exp is missing"},
		{"other tenant", f.Token(with("tid", "acme")), `tenant "acme"`},
		{"password change only", f.Token(with("pwd_change_required", true)), "password change"},
		{"garbage", "not.a.token", "not a compact JWS"},
		{"empty", "", "empty token"},
		{"huge", strings.Repeat("a", 20000), "longer than"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := v.Verify(context.Background(), tc.token)
			if err == nil {
				t.Fatalf("accepted: %+v", c)
			}
			if !errors.Is(err, sdk.ErrInvalidToken) {
				t.Errorf("error %v does not wrap ErrInvalidToken", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not mention %q", err, tc.want)
			}
		})
	}
	if _, err := v.Verify(context.Background(), f.Token(with("exp", time.Now().Add(-time.Minute).Unix()))); !errors.Is(err, sdk.ErrTokenExpired) {
		t.Errorf("expired token: %v, want ErrTokenExpired", err)
	}
}

func TestVerify_LeewayAndAudience(t *testing.T) {
	f := newFakeIssuer()
	defer f.Close()
	// Within the default 5 s skew an expired token still passes; beyond it
	// not (exp is in whole seconds, so "2 s ago" is 2 to 3 s ago).
	v := newVerifier(t, f, sdk.Config{})
	c := f.Claims("1")
	c["exp"] = time.Now().Add(-2 * time.Second).Unix()
	if _, err := v.Verify(context.Background(), f.Token(c)); err != nil {
		t.Errorf("token expired 2 s ago refused with the default leeway: %v", err)
	}
	strict := newVerifier(t, f, sdk.Config{Leeway: -1})
	if _, err := strict.Verify(context.Background(), f.Token(c)); !errors.Is(err, sdk.ErrTokenExpired) {
		t.Errorf("no leeway: %v, want ErrTokenExpired", err)
	}
	c["exp"] = time.Now().Add(-6 * time.Second).Unix()
	if _, err := v.Verify(context.Background(), f.Token(c)); !errors.Is(err, sdk.ErrTokenExpired) {
		t.Errorf("token expired 6 s ago with the default leeway: %v, want ErrTokenExpired", err)
	}
	// An explicit audience: the client's own.
	app := newVerifier(t, f, sdk.Config{Audience: "my-app"})
	if _, err := app.Verify(context.Background(), f.Token(f.Claims("1"))); err != nil {
		t.Errorf("audience my-app: %v", err)
	}
	other := newVerifier(t, f, sdk.Config{Audience: "other-app"})
	if _, err := other.Verify(context.Background(), f.Token(f.Claims("1"))); !errors.Is(err, sdk.ErrInvalidToken) {
		t.Errorf("audience other-app: %v, want invalid", err)
	}
}

// TestVerify_DefaultAudienceIsFirstParty: a token Gatehouse issued to a
// client that is not first-party carries only that client as audience: a
// default Verifier refuses it, one with Audience set to the client accepts
// it, and that one refuses first-party tokens.
func TestVerify_DefaultAudienceIsFirstParty(t *testing.T) {
	f := newFakeIssuer()
	defer f.Close()
	thirdParty := f.Claims("1")
	thirdParty["aud"], thirdParty["client_id"] = []string{"orders-app"}, "orders-app"
	firstParty := f.Claims("2")
	firstParty["aud"], firstParty["client_id"] = []string{f.URL}, ""
	ctx := context.Background()
	def := newVerifier(t, f, sdk.Config{})
	if _, err := def.Verify(ctx, f.Token(thirdParty)); !errors.Is(err, sdk.ErrInvalidToken) || !strings.Contains(err.Error(), "aud") {
		t.Errorf("default verifier, client token: %v, want an aud refusal", err)
	}
	if _, err := def.Verify(ctx, f.Token(firstParty)); err != nil {
		t.Errorf("default verifier, first-party token: %v", err)
	}
	orders := newVerifier(t, f, sdk.Config{Audience: "orders-app"})
	if c, err := orders.Verify(ctx, f.Token(thirdParty)); err != nil || c.ClientID != "orders-app" {
		t.Errorf("client verifier, client token: %+v %v", c, err)
	}
	if _, err := orders.Verify(ctx, f.Token(firstParty)); !errors.Is(err, sdk.ErrInvalidToken) {
		t.Errorf("client verifier, first-party token: %v, want invalid", err)
	}
}

// TestVerify_RotatedKeyRightAfterAFetch: a token of a key published a
// moment after the key set was fetched is accepted at once, with the
// default refetch interval: Verify waits for the next allowed fetch.
func TestVerify_RotatedKeyRightAfterAFetch(t *testing.T) {
	f := newFakeIssuer()
	defer f.Close()
	v := newVerifier(t, f, sdk.Config{})
	old := f.Token(f.Claims("1"))
	if _, err := v.Verify(context.Background(), old); err != nil {
		t.Fatalf("first key: %v", err)
	}
	newKID := f.Rotate()
	tok := f.Token(f.Claims("2"))
	c, err := v.Verify(context.Background(), tok)
	if err != nil {
		t.Fatalf("token of rotated key %s: %v", newKID, err)
	}
	if c.Subject != "2" {
		t.Errorf("subject %q", c.Subject)
	}
	if _, err := v.Verify(context.Background(), old); err != nil {
		t.Errorf("old key still published, its token refused: %v", err)
	}
	if got := f.JWKSHits.Load(); got != 2 {
		t.Errorf("key set fetched %d times, want 2 (first use, new kid)", got)
	}
}

// TestVerify_ConcurrentNewKidShareOneFetch: many verifications of tokens
// of a new key, at once, wait for and share one fetch.
func TestVerify_ConcurrentNewKidShareOneFetch(t *testing.T) {
	f := newFakeIssuer()
	defer f.Close()
	v := newVerifier(t, f, sdk.Config{KeyRefetchInterval: 200 * time.Millisecond})
	if _, err := v.Verify(context.Background(), f.Token(f.Claims("1"))); err != nil {
		t.Fatal(err)
	}
	f.Rotate()
	tok := f.Token(f.Claims("2"))
	var wg sync.WaitGroup
	for range 30 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := v.Verify(context.Background(), tok); err != nil {
				t.Errorf("token of the new key: %v", err)
			}
		}()
	}
	wg.Wait()
	if got := f.JWKSHits.Load(); got != 2 {
		t.Errorf("key set fetched %d times, want 2 (first use, one shared fetch)", got)
	}
}

// TestVerify_UnknownKidRefetchIsRateLimited: a flood of tokens naming
// unknown kids costs at most one key-set fetch per interval, each is
// refused as unknown only after a fetch that started after it arrived, and
// the wait is bounded by the request's context.
func TestVerify_UnknownKidRefetchIsRateLimited(t *testing.T) {
	f := newFakeIssuer()
	defer f.Close()
	const interval = 150 * time.Millisecond
	v := newVerifier(t, f, sdk.Config{KeyRefetchInterval: interval})
	if _, err := v.Verify(context.Background(), f.Token(f.Claims("1"))); err != nil {
		t.Fatal(err)
	}
	_, foreign, _ := ed25519.GenerateKey(rand.Reader)
	start := time.Now()
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tok := signJWT(jose.EdDSA, foreign, "unknown-"+string(rune('a'+i%26)), "at+jwt", f.Claims("1"))
			if _, err := v.Verify(context.Background(), tok); !errors.Is(err, sdk.ErrInvalidToken) || !strings.Contains(err.Error(), "unknown") {
				t.Errorf("unknown kid: %v", err)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if got, most := int(f.JWKSHits.Load())-1, int(elapsed/interval)+1; got < 1 || got > most {
		t.Errorf("50 unknown kids in %s caused %d fetches, want 1 to %d (one per interval)", elapsed, got, most)
	}

	// A request that cannot wait for the next fetch is not told "invalid".
	slow := newVerifier(t, f, sdk.Config{KeyRefetchInterval: time.Minute})
	if _, err := slow.Verify(context.Background(), f.Token(f.Claims("1"))); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	tok := signJWT(jose.EdDSA, foreign, "unknown-z", "at+jwt", f.Claims("1"))
	if _, err := slow.Verify(ctx, tok); !errors.Is(err, sdk.ErrKeysUnavailable) || errors.Is(err, sdk.ErrInvalidToken) {
		t.Errorf("unknown kid, context ended before the next fetch: %v, want ErrKeysUnavailable only", err)
	}
}

// TestVerify_IssuerDownIsNotAnInvalidToken: while the issuer does not
// answer, a token whose key the verifier has not seen is ErrKeysUnavailable
// on every try, before and after a first successful fetch; tokens of known
// keys keep verifying.
func TestVerify_IssuerDownIsNotAnInvalidToken(t *testing.T) {
	f := newFakeIssuer()
	defer f.Close()
	v := newVerifier(t, f, sdk.Config{KeyRefetchInterval: 20 * time.Millisecond})
	f.Down.Store(true)
	for i := range 20 {
		_, err := v.Verify(context.Background(), f.Token(f.Claims("1")))
		if !errors.Is(err, sdk.ErrKeysUnavailable) || errors.Is(err, sdk.ErrInvalidToken) {
			t.Fatalf("try %d, never fetched: %v, want ErrKeysUnavailable only", i, err)
		}
		if i%5 == 0 {
			time.Sleep(25 * time.Millisecond) // let some tries start a new fetch
		}
	}
	f.Down.Store(false)
	deadline := time.Now().Add(2 * time.Second)
	for {
		_, err := v.Verify(context.Background(), f.Token(f.Claims("1")))
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("issuer back: %v", err)
		}
		time.Sleep(5 * time.Millisecond)
	}
	known := f.Token(f.Claims("1"))
	f.Rotate()
	unseen := f.Token(f.Claims("2"))
	f.Down.Store(true)
	for i := range 20 {
		_, err := v.Verify(context.Background(), unseen)
		if !errors.Is(err, sdk.ErrKeysUnavailable) || errors.Is(err, sdk.ErrInvalidToken) {
			t.Fatalf("try %d, unseen key: %v, want ErrKeysUnavailable only", i, err)
		}
		if _, err := v.Verify(context.Background(), known); err != nil {
			t.Fatalf("try %d, known key: %v", i, err)
		}
		if i%5 == 0 {
			time.Sleep(25 * time.Millisecond)
		}
	}
}

// TestVerify_OldKeySetIsFetchedAgain: once the key set is older than
// KeyMaxAge it is fetched again, so that a withdrawn key stops verifying;
// while the issuer does not answer, the known keys keep serving.
func TestVerify_OldKeySetIsFetchedAgain(t *testing.T) {
	f := newFakeIssuer()
	defer f.Close()
	const maxAge = 30 * time.Millisecond
	v := newVerifier(t, f, sdk.Config{KeyMaxAge: maxAge, KeyRefetchInterval: time.Millisecond})
	ctx := context.Background()
	old := f.Token(f.Claims("1"))
	oldKID := f.active().kid
	if _, err := v.Verify(ctx, old); err != nil {
		t.Fatal(err)
	}
	f.Rotate()
	f.Down.Store(true)
	time.Sleep(maxAge + 10*time.Millisecond)
	if _, err := v.Verify(ctx, old); err != nil {
		t.Errorf("old key set, issuer down: %v, want the known key to serve", err)
	}
	f.Down.Store(false)
	f.Withdraw(oldKID)
	time.Sleep(maxAge + 10*time.Millisecond)
	if _, err := v.Verify(ctx, old); !errors.Is(err, sdk.ErrInvalidToken) || !strings.Contains(err.Error(), "no longer published") {
		t.Errorf("withdrawn key: %v, want it refused", err)
	}
	if _, err := v.Verify(ctx, f.Token(f.Claims("2"))); err != nil {
		t.Errorf("token of the published key: %v", err)
	}
}

func TestNewVerifier_Config(t *testing.T) {
	f := newFakeIssuer()
	defer f.Close()
	ctx := context.Background()
	bad := []sdk.Config{
		{},
		{Issuer: "not a url"},
		{Issuer: f.URL, Algorithms: []string{"HS256"}},
		{Issuer: f.URL, Algorithms: []string{"none"}},
		{Issuer: f.URL, Leeway: time.Hour},
		{Issuer: f.URL + "/other"}, // discovery names another issuer (or is absent)
	}
	for _, cfg := range bad {
		if _, err := sdk.NewVerifier(ctx, cfg); err == nil {
			t.Errorf("NewVerifier(%+v) accepted", cfg)
		}
	}
	// With an explicit key set URL no discovery happens.
	v, err := sdk.NewVerifier(ctx, sdk.Config{Issuer: "https://issuer.example", JWKSURL: f.URL + "/.well-known/jwks.json"})
	if err != nil {
		t.Fatal(err)
	}
	c := f.Claims("1")
	c["iss"], c["aud"] = "https://issuer.example", "https://issuer.example"
	if _, err := v.Verify(ctx, f.Token(c)); err != nil {
		t.Errorf("explicit JWKS URL: %v", err)
	}
}
