package oauth2_test

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/server/servertest"
)

func TestIntrospect_AccessAndRefreshTokens(t *testing.T) {
	runIntrospectTokens(t, servertest.Options{})
}

func runIntrospectTokens(t *testing.T, opts servertest.Options) {
	s := newSetup(t, opts)
	a := s.password(t, s.client, "openid profile offline_access")

	m := s.introspect(t, s.client, a.AccessToken)
	if m["active"] != true || m["token_type"] != "Bearer" || m["sub"] != s.userID || m["client_id"] != s.client.ID ||
		m["scope"] != "openid profile offline_access" || m["tid"] != "default" || m["sid"] == "" || m["iss"] != "http://gatehouse.test" {
		t.Errorf("access token introspection %v", m)
	}
	if exp, _ := m["exp"].(float64); int64(exp) != s.env.Clock.Now().Add(15*time.Minute).Unix() {
		t.Errorf("exp %v", m["exp"])
	}
	rm := s.introspect(t, s.client, a.RefreshToken)
	if rm["active"] != true || rm["token_type"] != "refresh_token" || rm["sub"] != s.userID || rm["sid"] != m["sid"] {
		t.Errorf("refresh token introspection %v", rm)
	}
	// After a rotation the old refresh token is inactive, the new one active.
	b := s.grant(t, s.client, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {a.RefreshToken}})
	if rm := s.introspect(t, s.client, a.RefreshToken); rm["active"] != false || len(rm) != 1 {
		t.Errorf("rotated refresh token introspection %v", rm)
	}
	if rm := s.introspect(t, s.client, b.RefreshToken); rm["active"] != true {
		t.Errorf("successor introspection %v", rm)
	}
	// Expiry: the access token is inactive once expired.
	s.env.Clock.Advance(16 * time.Minute)
	if m := s.introspect(t, s.client, b.AccessToken); m["active"] != false {
		t.Errorf("expired access token %v", m)
	}
	// Anything else: inactive, never an error.
	for _, junk := range []string{"x", "a.b.c", "' OR 1=1 --", string(make([]byte, 10000)), "\u202e\u0000"} {
		if m := s.introspect(t, s.client, junk); m["active"] != false || len(m) != 1 {
			t.Errorf("junk %q: %v", junk[:min(len(junk), 10)], m)
		}
	}
	wantError(t, s.env.OAuth2("/oauth2/introspect", &s.client, url.Values{}), http.StatusBadRequest, "invalid_request")
}

// TestIntrospect_RevokedSessionInactiveAtOnce: a revocation (here RFC 7009
// by the client) makes every token of the session inactive immediately.
func TestIntrospect_RevokedSessionInactiveAtOnce(t *testing.T) {
	s := newSetup(t, servertest.Options{})
	a := s.password(t, s.client, "offline_access")
	r := s.env.OAuth2("/oauth2/revoke", &s.client, url.Values{"token": {a.AccessToken}})
	if r.Status != http.StatusOK {
		t.Fatalf("revoke: %d %s", r.Status, r.Body)
	}
	for _, tok := range []string{a.AccessToken, a.RefreshToken} {
		if m := s.introspect(t, s.client, tok); m["active"] != false {
			t.Errorf("token of a revoked session: %v", m)
		}
	}
}

// TestIntrospect_TenantIsolation: a client sees only its own tenant's tokens.
func TestIntrospect_TenantIsolation(t *testing.T) { runIntrospectIsolation(t, servertest.Options{}) }

func runIntrospectIsolation(t *testing.T, opts servertest.Options) {
	s := newSetup(t, opts)
	env := s.env
	if r := env.Admin("POST", "/admin/tenants", "", map[string]any{"id": "acme", "name": "Acme"}); r.Status != http.StatusCreated {
		t.Fatalf("tenant: %d %s", r.Status, r.Body)
	}
	acme := env.CreateOAuthClient("acme", map[string]any{"name": "acme-api"})
	a := s.password(t, s.client, "offline_access")
	for _, tok := range []string{a.AccessToken, a.RefreshToken} {
		if m := s.introspect(t, acme, tok); m["active"] != false || len(m) != 1 {
			t.Errorf("other tenant's token introspected: %v", m)
		}
	}
	// Nor can it revoke them, or refresh them.
	env.OAuth2("/oauth2/revoke", &acme, url.Values{"token": {a.AccessToken}})
	env.OAuth2("/oauth2/revoke", &acme, url.Values{"token": {a.RefreshToken}})
	wantError(t, s.refresh(t, acme, a.RefreshToken), http.StatusBadRequest, "invalid_grant")
	if m := s.introspect(t, s.client, a.AccessToken); m["active"] != true {
		t.Errorf("another tenant's client revoked the token: %v", m)
	}
	// Another client of the same tenant (a resource server) does see it.
	api := env.CreateOAuthClient("", map[string]any{"name": "api"})
	if m := s.introspect(t, api, a.AccessToken); m["active"] != true {
		t.Errorf("same-tenant resource server: %v", m)
	}
}

// TestRevoke_RFC7009: revoking either token ends the session; unknown,
// foreign and already revoked tokens answer 200 all the same.
func TestRevoke_RFC7009(t *testing.T) { runRevoke(t, servertest.Options{}) }

func runRevoke(t *testing.T, opts servertest.Options) {
	s := newSetup(t, opts)
	env := s.env
	revoke := func(c servertest.Client, tok, hint string) {
		t.Helper()
		form := url.Values{"token": {tok}}
		if hint != "" {
			form.Set("token_type_hint", hint)
		}
		r := env.OAuth2("/oauth2/revoke", &c, form)
		if r.Status != http.StatusOK || len(r.Body) != 0 {
			t.Fatalf("revoke: %d %q", r.Status, r.Body)
		}
		checkNoStore(t, r)
	}
	// Refresh token (with a misleading hint): the whole session goes.
	a := s.password(t, s.client, "offline_access")
	revoke(s.client, a.RefreshToken, "access_token")
	wantError(t, s.refresh(t, s.client, a.RefreshToken), http.StatusBadRequest, "invalid_grant")
	if r := env.Me("", a.AccessToken); r.Status != http.StatusUnauthorized {
		t.Errorf("access token after its refresh token was revoked: %d", r.Status)
	}
	revoke(s.client, a.RefreshToken, "") // again: still 200

	// Access token: its session goes, refresh token included.
	b := s.password(t, s.client, "offline_access")
	revoke(s.client, b.AccessToken, "access_token")
	if m := s.introspect(t, s.client, b.AccessToken); m["active"] != false {
		t.Errorf("revoked access token: %v", m)
	}
	wantError(t, s.refresh(t, s.client, b.RefreshToken), http.StatusBadRequest, "invalid_grant")

	// Unknown tokens, and another client's tokens: 200, nothing revoked.
	revoke(s.client, "never-issued", "refresh_token")
	c := s.password(t, s.client, "offline_access")
	other := env.CreateOAuthClient("", map[string]any{"name": "other"})
	revoke(other, c.AccessToken, "")
	revoke(other, c.RefreshToken, "")
	if m := s.introspect(t, s.client, c.AccessToken); m["active"] != true {
		t.Errorf("another client revoked the token: %v", m)
	}
	r := env.Admin("GET", "/admin/audit?type=session_revoked", "", nil)
	if n := len(r.JSON(t)["events"].([]any)); n != 2 {
		t.Errorf("%d session_revoked events, want 2", n)
	}
	wantError(t, env.OAuth2("/oauth2/revoke", &s.client, url.Values{}), http.StatusBadRequest, "invalid_request")
}
