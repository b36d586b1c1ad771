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
			if len(got) != len(tc.wantHead)+1 || !slices.Equal(got[:len(tc.wantHead)], tc.wantHead) {
				t.Fatalf("candidates = %q, want %q and a random one", got, tc.wantHead)
			}
			last := got[len(got)-1]
			if !strings.HasPrefix(last, tc.wantHead[len(tc.wantHead)-1]+"_") || len(last) != len(tc.wantHead[len(tc.wantHead)-1])+9 {
				t.Errorf("random candidate = %q", last)
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
