package federation_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/federation"
	"github.com/gatehouse-auth/gatehouse/internal/federation/fedtest"
	"github.com/gatehouse-auth/gatehouse/internal/safeurl"
	"github.com/gatehouse-auth/gatehouse/internal/store"
	"github.com/gatehouse-auth/gatehouse/internal/store/sqlite"
)

// clock is a test clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// setup is a verifier on a real SQLite replay guard, a test provider and
// the store entry of that provider.
type setup struct {
	v     *federation.Verifier
	idp   *fedtest.Provider
	p     store.Provider
	clock *clock
}

const aud = "web-app"

// newSetup builds a verifier for a test provider on 127.0.0.1, which only
// an insecure verifier may fetch from.
func newSetup(t *testing.T, opts federation.Options) *setup {
	t.Helper()
	opts.AllowInsecure = true
	return newSetupWith(t, opts)
}

func newSetupWith(t *testing.T, opts federation.Options) *setup {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "fed.db"), sqlite.Options{})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(context.Background()); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	c := &clock{now: time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)}
	opts.Replay, opts.Now = st, c.Now
	v, err := federation.New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	idp := fedtest.New(t)
	p := store.Provider{TenantID: "default", Name: "corp", Issuer: idp.Issuer, Audiences: []string{aud, "mobile-app"}}
	return &setup{v: v, idp: idp, p: p, clock: c}
}

func (s *setup) claims() map[string]any { return s.idp.Claims("user-1", aud, s.clock.Now()) }

func (s *setup) verify(t *testing.T, raw string) (federation.Claims, error) {
	t.Helper()
	return s.v.Verify(t.Context(), s.p, raw)
}

func wantReason(t *testing.T, what string, err error, reason string) {
	t.Helper()
	var fe *federation.Error
	if !errors.As(err, &fe) {
		t.Fatalf("%s: error = %v, want a refusal (%s)", what, err, reason)
	}
	if fe.Reason != reason {
		t.Fatalf("%s: reason = %s (%v), want %s", what, fe.Reason, fe, reason)
	}
}

func TestVerify_ValidTokenClaims(t *testing.T) {
	s := newSetup(t, federation.Options{})
	c := s.claims()
	c["email"] = "Alice@Example.com"
	c["email_verified"] = "true" // some providers send a string
	c["name"] = "Alice Liddell"
	c["preferred_username"] = "alice"
	c["nbf"] = s.clock.Now().Unix()
	got, err := s.verify(t, s.idp.Sign(c))
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if got.Issuer != s.idp.Issuer || got.Subject != "user-1" || got.Email != "Alice@Example.com" ||
		!got.EmailVerified || got.Name != "Alice Liddell" || got.PreferredUsername != "alice" || got.ID != c["jti"] {
		t.Errorf("claims = %+v", got)
	}
	if !got.ExpiresAt.Equal(s.clock.Now().Add(10 * time.Minute)) {
		t.Errorf("ExpiresAt = %v", got.ExpiresAt)
	}
}

func TestVerify_ES256AndDiscovery(t *testing.T) {
	s := newSetup(t, federation.Options{})
	s.idp.SetActive(s.idp.Key("ES256").KID)
	if _, err := s.verify(t, s.idp.Sign(s.claims())); err != nil {
		t.Fatalf("Verify ES256: %v", err)
	}
	if d := s.idp.DiscoveryFetches(); d != 1 {
		t.Errorf("discovery fetched %d times, want 1 (no jwks_uri configured)", d)
	}
	// With a configured jwks_uri discovery is not used.
	s2 := newSetup(t, federation.Options{})
	s2.p.JWKSURI = s2.idp.JWKSURI
	if _, err := s2.verify(t, s2.idp.Sign(s2.claims())); err != nil {
		t.Fatalf("Verify with jwks_uri: %v", err)
	}
	if d := s2.idp.DiscoveryFetches(); d != 0 {
		t.Errorf("discovery fetched %d times with a configured jwks_uri, want 0", d)
	}
}

func TestVerify_Refusals(t *testing.T) {
	s := newSetup(t, federation.Options{})
	now := s.clock.Now()
	with := func(k string, v any) map[string]any {
		c := s.claims()
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
		return c
	}
	cases := []struct {
		name   string
		token  func() string
		reason string
	}{
		{"tampered payload", func() string {
			return s.idp.Tamper(s.idp.Sign(s.claims()), with("sub", "admin"))
		}, federation.ReasonSignature},
		{"key never published", func() string { return s.idp.SignUnpublished("RS256", s.claims()) }, federation.ReasonSignature},
		{"alg none", func() string { return s.idp.SignNone(s.claims()) }, federation.ReasonAlgorithm},
		{"HS256 keyed with the public key", func() string { return s.idp.SignHS256WithPublicKey(s.claims()) }, federation.ReasonAlgorithm},
		{"unknown kid", func() string {
			k := s.idp.AddKey("RS256") // published only after the cache was filled
			return s.idp.SignWith(k, s.claims())
		}, federation.ReasonUnknownKey},
		{"wrong issuer", func() string { return s.idp.Sign(with("iss", "https://evil.example.com")) }, federation.ReasonIssuer},
		{"wrong audience", func() string { return s.idp.Sign(with("aud", "someone-else")) }, federation.ReasonAudience},
		{"several audiences without azp", func() string {
			return s.idp.Sign(with("aud", []string{aud, "other"}))
		}, federation.ReasonAuthorizedParty},
		{"several audiences, azp not ours", func() string {
			c := with("aud", []string{aud, "other"})
			c["azp"] = "other"
			return s.idp.Sign(c)
		}, federation.ReasonAuthorizedParty},
		{"expired", func() string { return s.idp.Sign(with("exp", now.Add(-time.Second).Unix())) }, federation.ReasonExpired},
		{"no exp", func() string { return s.idp.Sign(with("exp", nil)) }, federation.ReasonExpired},
		{"iat in the future", func() string { return s.idp.Sign(with("iat", now.Add(2*time.Minute).Unix())) }, federation.ReasonIssuedInFuture},
		{"no iat", func() string { return s.idp.Sign(with("iat", nil)) }, federation.ReasonMissingClaim},
		{"nbf in the future", func() string { return s.idp.Sign(with("nbf", now.Add(2*time.Minute).Unix())) }, federation.ReasonNotYetValid},
		{"nbf far in the future", func() string { return s.idp.Sign(with("nbf", now.Add(time.Hour).Unix())) }, federation.ReasonNotYetValid},
		{"no sub", func() string { return s.idp.Sign(with("sub", nil)) }, federation.ReasonMissingClaim},
		{"not a JWT", func() string { return "not-a-jwt" }, federation.ReasonMalformed},
		{"garbage segments", func() string { return "eyJhbGciOiJSUzI1NiJ9.@@@.@@@" }, federation.ReasonMalformed},
		{"too long", func() string { return strings.Repeat("a", federation.MaxTokenLen+1) }, federation.ReasonMalformed},
	}
	// Fill the key cache first, so that "unknown kid" meets a warm cache.
	if _, err := s.verify(t, s.idp.Sign(s.claims())); err != nil {
		t.Fatalf("warm-up Verify: %v", err)
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.verify(t, tc.token())
			wantReason(t, tc.name, err, tc.reason)
		})
	}
}

func TestVerify_AlgorithmAllowList(t *testing.T) {
	s := newSetup(t, federation.Options{})
	s.p.Algorithms = []string{"RS256"}
	s.idp.SetActive(s.idp.Key("ES256").KID)
	_, err := s.verify(t, s.idp.Sign(s.claims()))
	wantReason(t, "ES256 token for an RS256-only provider", err, federation.ReasonAlgorithm)
	// HMAC can never be allowed, even when the provider's list names it.
	s.p.Algorithms = []string{"HS256"}
	_, err = s.verify(t, s.idp.SignHS256WithPublicKey(s.claims()))
	wantReason(t, "HS256 listed by the provider", err, federation.ReasonAlgorithm)
}

func TestVerify_AudienceRules(t *testing.T) {
	s := newSetup(t, federation.Options{})
	c := s.claims()
	c["aud"] = []string{"other", aud}
	c["azp"] = aud
	if _, err := s.verify(t, s.idp.Sign(c)); err != nil {
		t.Errorf("several audiences with our azp: %v", err)
	}
	c = s.claims()
	c["aud"] = "mobile-app" // the provider's second audience
	if _, err := s.verify(t, s.idp.Sign(c)); err != nil {
		t.Errorf("the provider's second audience: %v", err)
	}
	c = s.claims()
	c["azp"] = "other" // one audience, but a foreign azp
	_, err := s.verify(t, s.idp.Sign(c))
	wantReason(t, "one audience with a foreign azp", err, federation.ReasonAuthorizedParty)
}

func TestVerify_ClockSkew(t *testing.T) {
	s := newSetup(t, federation.Options{})
	c := s.claims()
	c["iat"] = s.clock.Now().Add(45 * time.Second).Unix()
	c["nbf"] = s.clock.Now().Add(45 * time.Second).Unix()
	if _, err := s.verify(t, s.idp.Sign(c)); err != nil {
		t.Errorf("iat and nbf 45s ahead (within the 60s skew): %v", err)
	}
}

func TestVerify_Replay(t *testing.T) {
	s := newSetup(t, federation.Options{})
	tok := s.idp.Sign(s.claims())
	if _, err := s.verify(t, tok); err != nil {
		t.Fatalf("first Verify: %v", err)
	}
	_, err := s.verify(t, tok)
	wantReason(t, "the same token again", err, federation.ReasonReplayed)

	// Another token with the same jti is the same token.
	c := s.claims()
	c["jti"] = "fixed"
	if _, err := s.verify(t, s.idp.Sign(c)); err != nil {
		t.Fatalf("token with jti: %v", err)
	}
	c["sub"] = "user-2"
	_, err = s.verify(t, s.idp.Sign(c))
	wantReason(t, "another token reusing a jti", err, federation.ReasonReplayed)

	// Without a jti, the token itself is remembered.
	c = s.claims()
	delete(c, "jti")
	noJTI := s.idp.Sign(c)
	if _, err := s.verify(t, noJTI); err != nil {
		t.Fatalf("token without jti: %v", err)
	}
	_, err = s.verify(t, noJTI)
	wantReason(t, "a token without jti again", err, federation.ReasonReplayed)
}

func TestVerify_ConcurrentReplayOneWinner(t *testing.T) {
	s := newSetup(t, federation.Options{})
	tok := s.idp.Sign(s.claims())
	const n = 20
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() { defer wg.Done(); _, errs[i] = s.verify(t, tok) }()
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		if err == nil {
			ok++
		} else {
			wantReason(t, "concurrent presentation", err, federation.ReasonReplayed)
		}
	}
	if ok != 1 {
		t.Errorf("%d of %d concurrent presentations accepted, want 1", ok, n)
	}
}

func TestVerify_KeyRotationRefetchAtMostOncePerMinute(t *testing.T) {
	s := newSetup(t, federation.Options{})
	if _, err := s.verify(t, s.idp.Sign(s.claims())); err != nil {
		t.Fatalf("Verify before rotation: %v", err)
	}
	if n := s.idp.JWKSFetches(); n != 1 {
		t.Fatalf("JWKS fetched %d times, want 1", n)
	}
	s.idp.Rotate("ES256")
	// Within a minute of the last fetch, an unknown kid does not fetch again.
	s.clock.Advance(30 * time.Second)
	_, err := s.verify(t, s.idp.Sign(s.claims()))
	wantReason(t, "new kid within the refetch interval", err, federation.ReasonUnknownKey)
	for range 5 {
		_, _ = s.verify(t, s.idp.Sign(s.claims()))
	}
	if n := s.idp.JWKSFetches(); n != 1 {
		t.Fatalf("JWKS fetched %d times within a minute, want 1", n)
	}
	// A minute after the last fetch, the unknown kid triggers one fetch.
	s.clock.Advance(31 * time.Second)
	if _, err := s.verify(t, s.idp.Sign(s.claims())); err != nil {
		t.Fatalf("Verify with the rotated key after the interval: %v", err)
	}
	if n := s.idp.JWKSFetches(); n != 2 {
		t.Errorf("JWKS fetched %d times, want 2", n)
	}
	// Known kids never fetch.
	for range 5 {
		if _, err := s.verify(t, s.idp.Sign(s.claims())); err != nil {
			t.Fatalf("Verify with a cached key: %v", err)
		}
	}
	if n := s.idp.JWKSFetches(); n != 2 {
		t.Errorf("JWKS fetched %d times after more tokens with a cached kid, want 2", n)
	}
}

func TestVerify_StaleKeysRefetched(t *testing.T) {
	s := newSetup(t, federation.Options{CacheTTL: 10 * time.Minute})
	if _, err := s.verify(t, s.idp.Sign(s.claims())); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	old := s.idp.Active()
	s.idp.Rotate("RS256") // the old key is withdrawn by the provider
	s.clock.Advance(11 * time.Minute)
	_, err := s.verify(t, s.idp.SignWith(old, s.claims()))
	wantReason(t, "a key withdrawn by the provider, after the cache lifetime", err, federation.ReasonUnknownKey)
}

func TestVerify_FetchLimits(t *testing.T) {
	huge := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"keys": [], "pad": "` + strings.Repeat("x", 2<<20) + `"}`))
	}))
	t.Cleanup(huge.Close)
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	}))
	t.Cleanup(slow.Close)

	s := newSetup(t, federation.Options{})
	s.p.JWKSURI = huge.URL
	_, err := s.verify(t, s.idp.Sign(s.claims()))
	wantReason(t, "a JWKS over the size limit", err, federation.ReasonKeysUnavailable)

	client := federation.NewHTTPClient(true)
	client.Timeout = 200 * time.Millisecond
	s2 := newSetup(t, federation.Options{HTTPClient: client})
	s2.p.JWKSURI = slow.URL
	start := time.Now()
	_, err = s2.verify(t, s2.idp.Sign(s2.claims()))
	wantReason(t, "a JWKS that never answers", err, federation.ReasonKeysUnavailable)
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("the fetch took %v despite a 200ms timeout", d)
	}
}

func TestVerify_DiscoveryIssuerMismatch(t *testing.T) {
	s := newSetup(t, federation.Options{})
	// A provider whose discovery document names another issuer is refused.
	s.p.Issuer = s.idp.Issuer + "/"
	c := s.claims()
	c["iss"] = s.p.Issuer
	_, err := s.verify(t, s.idp.Sign(c))
	wantReason(t, "discovery naming another issuer", err, federation.ReasonKeysUnavailable)
}

// TestVerify_RefusesPrivateAddressAtFetchTime: a verifier that is not
// insecure never connects to a provider on a loopback address, whatever
// was checked when the provider was registered.
func TestVerify_RefusesPrivateAddressAtFetchTime(t *testing.T) {
	s := newSetupWith(t, federation.Options{})
	_, err := s.verify(t, s.idp.Sign(s.claims()))
	wantReason(t, "a provider on 127.0.0.1", err, federation.ReasonKeysUnavailable)
	if !safeurl.IsRefused(err) {
		t.Fatalf("the fetch failed for another reason: %v", err)
	}
}
