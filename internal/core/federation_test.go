package core

import (
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/federation"
	"github.com/gatehouse-auth/gatehouse/internal/store"
)

func TestUsernameCandidates(t *testing.T) {
	p := store.Provider{Name: "corp"}
	tests := []struct {
		name     string
		claims   federation.Claims
		email    string
		wantHead []string // the candidates before the random last one
	}{
		{"preferred username first", federation.Claims{Subject: "s1", PreferredUsername: "alice"}, "alice@corp.example",
			[]string{"alice", "alice@corp.example", "corp_s1"}},
		{"email-like preferred username skipped", federation.Claims{Subject: "s1", PreferredUsername: "x@y.example"}, "",
			[]string{"corp_s1"}},
		{"phone-like preferred username skipped", federation.Claims{Subject: "s1", PreferredUsername: "+1 (555) 0100"}, "",
			[]string{"corp_s1"}},
		{"control characters dropped from the subject", federation.Claims{Subject: "a\x00b\nc"}, "",
			[]string{"corp_abc"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := usernameCandidates(p, tc.claims, tc.email)
			if len(got) != len(tc.wantHead)+2 || !slices.Equal(got[:len(tc.wantHead)], tc.wantHead) {
				t.Fatalf("candidates = %q, want %q and two random ones", got, tc.wantHead)
			}
			random := got[len(got)-2]
			if !strings.HasPrefix(random, tc.wantHead[len(tc.wantHead)-1]+"_") || len(random) != len(tc.wantHead[len(tc.wantHead)-1])+9 {
				t.Errorf("random candidate = %q", random)
			}
			if last := got[len(got)-1]; last != "corp_"+random[len(random)-8:] {
				t.Errorf("last candidate = %q, want the provider name and the random part", last)
			}
		})
	}
	long := usernameCandidates(p, federation.Claims{Subject: strings.Repeat("é", 500)}, "")
	for _, c := range long {
		if err := validateUser(store.User{Username: c, Status: store.StatusActive}); err != nil {
			t.Errorf("candidate of a long subject is not a valid username: %v", err)
		}
	}
}

func TestNormaliseProvider(t *testing.T) {
	s := &Service{policy: Policy{ProviderAllowInsecure: true}}
	normaliseProvider := func(p store.Provider) (store.Provider, error) { return s.normaliseProvider(t.Context(), p) }
	p, err := normaliseProvider(store.Provider{Name: " corp ", Issuer: "https://idp.example", Audiences: []string{"a", " a ", "b"}})
	if err != nil {
		t.Fatalf("normaliseProvider: %v", err)
	}
	if p.Name != "corp" || !slices.Equal(p.Audiences, []string{"a", "b"}) || !slices.Equal(p.Algorithms, federation.DefaultAlgorithms) {
		t.Errorf("normalised = %+v", p)
	}
	// The defaults are a copy: changing them must not change the package's list.
	p.Algorithms[0] = "changed"
	if federation.DefaultAlgorithms[0] != "RS256" {
		t.Fatal("normaliseProvider shares federation.DefaultAlgorithms")
	}
	for _, bad := range []store.Provider{
		{Name: "", Issuer: "https://idp.example", Audiences: []string{"a"}},
		{Name: "p", Issuer: "idp.example", Audiences: []string{"a"}},
		{Name: "p", Issuer: "https://idp.example"},
		{Name: "p", Issuer: "https://idp.example", Audiences: []string{strings.Repeat("a", 257)}},
		{Name: "p", Issuer: "https://idp.example", Audiences: []string{"a"}, JWKSURI: "ldap://keys"},
		{Name: "p", Issuer: "https://idp.example", Audiences: []string{"a"}, Algorithms: []string{"HS512"}},
		{Name: "p", Issuer: "https://idp.example", Audiences: []string{"a"}, Algorithms: []string{"none"}},
	} {
		if _, err := normaliseProvider(bad); ErrorCode(err) != CodeInvalidRequest {
			t.Errorf("normaliseProvider(%+v) = %v, want invalid_request", bad, err)
		}
	}
}

// TestNormaliseProvider_AddressRule: without insecure providers, issuer and
// jwks_uri must be https and must not point at a loopback, private,
// link-local or unspecified address.
func TestNormaliseProvider_AddressRule(t *testing.T) {
	secure := &Service{policy: Policy{}}
	insecure := &Service{policy: Policy{ProviderAllowInsecure: true}}
	cases := []struct {
		issuer, jwks string
		secureOK     bool
	}{
		{"https://8.8.8.8", "", true},
		{"https://8.8.8.8", "https://1.1.1.1/keys", true},
		{"http://8.8.8.8", "", false},
		{"https://8.8.8.8", "http://1.1.1.1/keys", false},
		{"https://127.0.0.1:8443", "", false},
		{"https://localhost", "", false},
		{"https://10.0.0.7", "", false},
		{"https://192.168.0.1", "", false},
		{"https://169.254.169.254", "", false},
		{"https://[::1]", "", false},
		{"https://0.0.0.0", "", false},
		{"https://8.8.8.8", "https://127.0.0.1/keys", false},
	}
	for _, c := range cases {
		p := store.Provider{Name: "p", Issuer: c.issuer, JWKSURI: c.jwks, Audiences: []string{"a"}}
		_, err := secure.normaliseProvider(t.Context(), p)
		if (err == nil) != c.secureOK {
			t.Errorf("secure %s %s: %v, want ok=%v", c.issuer, c.jwks, err, c.secureOK)
		}
		if err != nil && ErrorCode(err) != CodeInvalidRequest {
			t.Errorf("secure %s %s: %v, want invalid_request", c.issuer, c.jwks, err)
		}
		if _, err := insecure.normaliseProvider(t.Context(), p); err != nil {
			t.Errorf("insecure %s %s: %v, want accepted", c.issuer, c.jwks, err)
		}
	}
}

func TestProvisionedProfile(t *testing.T) {
	if got := displayName(federation.Claims{GivenName: "Ada", FamilyName: "Lovelace"}); got != "Ada Lovelace" {
		t.Errorf("displayName from given and family names = %q", got)
	}
	if got := displayName(federation.Claims{Name: strings.Repeat("n", 300)}); len(got) != 256 {
		t.Errorf("displayName of a long name has %d characters, want 256", len(got))
	}
	if got := avatarURL("javascript:alert(1)"); got != "" {
		t.Errorf("avatarURL kept %q", got)
	}
	if got := avatarURL("https://img.example/a.png"); got != "https://img.example/a.png" {
		t.Errorf("avatarURL dropped a good URL: %q", got)
	}
}
