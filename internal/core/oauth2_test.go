package core

import (
	"crypto/sha512"
	"encoding/base64"
	"slices"
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/store"
)

func TestGrantScope(t *testing.T) {
	all := store.Client{}
	limited := store.Client{Scopes: []string{"openid", "offline_access", "orders:read"}}
	cases := []struct {
		name      string
		c         store.Client
		requested string
		withUser  bool
		want      string
		code      string
	}{
		{"default is every allowed scope", all, "", true, "openid profile email phone offline_access", ""},
		{"default of a limited client", limited, "  ", true, "openid offline_access orders:read", ""},
		{"requested subset, duplicates dropped, order kept", all, "email openid email", true, "email openid", ""},
		{"a client's own scope", limited, "orders:read", true, "orders:read", ""},
		{"not allowed", limited, "openid email", true, "", CodeInvalidScope},
		{"malformed scope-token", all, "openid \"x\"", true, "", CodeInvalidScope},
		{"client credentials default drops user scopes", limited, "", false, "orders:read", ""},
		{"client credentials asking for a user scope", limited, "openid", false, "", CodeInvalidScope},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := grantScope(tc.c, tc.requested, tc.withUser)
			if tc.code != "" {
				if ErrorCode(err) != tc.code {
					t.Fatalf("error %v, want code %s", err, tc.code)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("grantScope = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

func TestNarrowScope(t *testing.T) {
	if got, err := narrowScope("openid profile offline_access", "profile"); err != nil || got != "profile" {
		t.Errorf("narrow = %q, %v", got, err)
	}
	if _, err := narrowScope("openid profile", "openid email"); ErrorCode(err) != CodeInvalidScope {
		t.Errorf("widen: %v", err)
	}
	if _, err := narrowScope("", "openid"); ErrorCode(err) != CodeInvalidScope {
		t.Errorf("scope on a session without one: %v", err)
	}
}

func TestClientGrantTypes(t *testing.T) {
	cases := []struct {
		name string
		c    store.Client
		want []string
	}{
		{"confidential default", store.Client{}, GrantTypes},
		{"public default", store.Client{Public: true}, []string{GrantAuthorizationCode, GrantPassword, GrantRefreshToken, GrantTokenExchange}},
		{"registered list", store.Client{GrantTypes: []string{GrantPassword}}, []string{GrantPassword}},
		{"public never gets client_credentials", store.Client{Public: true, GrantTypes: []string{GrantClientCredentials, GrantPassword}}, []string{GrantPassword}},
	}
	for _, tc := range cases {
		if got := ClientGrantTypes(tc.c); !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestAccessTokenHash(t *testing.T) {
	// OpenID Connect Core 1.0, Appendix A.3 (RS256).
	got, err := accessTokenHash("RS256", "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y")
	if err != nil || got != "77QmUPtjPfzWtF2AnpK9RQ" {
		t.Errorf("RS256 at_hash = %q, %v", got, err)
	}
	sum := sha512.Sum512([]byte("token"))
	got, err = accessTokenHash("EdDSA", "token")
	if err != nil || got != base64.RawURLEncoding.EncodeToString(sum[:32]) {
		t.Errorf("EdDSA at_hash = %q, %v", got, err)
	}
	if _, err := accessTokenHash("HS256", "token"); err == nil {
		t.Error("HS256 at_hash computed")
	}
}

func TestMayUseSession(t *testing.T) {
	c := store.Client{TenantID: "t1", ID: "web"}
	cases := []struct {
		sess store.Session
		want bool
	}{
		{store.Session{TenantID: "t1", ClientID: "web"}, true},
		{store.Session{TenantID: "t1", ClientID: DefaultClientID}, true},
		{store.Session{TenantID: "t1", ClientID: "other"}, false},
		{store.Session{TenantID: "t2", ClientID: "web"}, false},
	}
	for _, tc := range cases {
		if got := mayUseSession(c, tc.sess); got != tc.want {
			t.Errorf("mayUseSession(%+v) = %v", tc.sess, got)
		}
	}
}
