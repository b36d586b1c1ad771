package oauth2_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/server/servertest"
)

// TestToken_OneSessionAcrossFamilies: a session of the built-in client
// refreshes through the native and the standard family (client_id=gatehouse,
// no secret) alternately, each rotation seen by the other; a confidential
// client's session refreshes only through the standard family with that
// client, and a refusal elsewhere leaves it intact.
func TestToken_OneSessionAcrossFamilies(t *testing.T) { runOneSession(t, servertest.Options{}) }

func runOneSession(t *testing.T, opts servertest.Options) {
	s := newSetup(t, opts)
	env := s.env
	builtin := servertest.Client{ID: "gatehouse"}
	native := env.Login("", "alice", alicePassword)
	r := s.refresh(t, builtin, native.RefreshToken)
	if r.Status != http.StatusOK {
		t.Fatalf("oauth2 refresh of a native token: %d %s", r.Status, r.Body)
	}
	var a tokenAnswer
	r.Decode(t, &a)
	if a.RefreshToken == "" || a.RefreshToken == native.RefreshToken || a.IDToken != "" {
		t.Fatalf("answer %s", r.Body)
	}
	if env.Me("", a.AccessToken).Status != http.StatusOK {
		t.Error("access token of the built-in client refused at /auth/me")
	}
	// ... then natively ...
	r = env.Refresh("", a.RefreshToken)
	if r.Status != http.StatusOK {
		t.Fatalf("native refresh of an oauth2 token: %d %s", r.Status, r.Body)
	}
	var back servertest.Tokens
	r.Decode(t, &back)
	// ... then through OAuth 2.0 again, and through any client of the tenant.
	a2 := s.grant(t, builtin, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {back.RefreshToken}})
	a3 := s.grant(t, s.client, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {a2.RefreshToken}})
	if env.Me("", a3.AccessToken).Status != http.StatusOK {
		t.Error("refreshed access token refused")
	}
	// The built-in client has no secret and only the refresh grant.
	wantError(t, s.refresh(t, servertest.Client{ID: "gatehouse", Secret: "x"}, a3.RefreshToken), http.StatusUnauthorized, "invalid_client")
	wantError(t, env.OAuth2("/oauth2/token", &builtin, url.Values{"grant_type": {"password"}, "username": {"alice"}, "password": {alicePassword}}),
		http.StatusBadRequest, "unauthorized_client")

	// A native sign-in for the confidential client (with its secret) is
	// bound to it: the native and legacy paths and other clients refuse it,
	// without revoking it, and its own client rotates it.
	r = env.Do(servertest.Request{Method: "POST", Path: "/auth/login",
		JSON: map[string]any{"username": "alice", "password": alicePassword, "client_id": s.client.ID, "client_secret": s.client.Secret}})
	if r.Status != http.StatusOK {
		t.Fatalf("native login for the client: %d %s", r.Status, r.Body)
	}
	var bound servertest.Tokens
	r.Decode(t, &bound)
	other := env.CreateOAuthClient("", map[string]any{"name": "other"})
	if r := env.Refresh("", bound.RefreshToken); r.Status != http.StatusBadRequest || r.JSON(t)["error"] != "invalid_grant" {
		t.Errorf("native refresh of a confidential client's session: %d %s", r.Status, r.Body)
	}
	wantError(t, s.refresh(t, other, bound.RefreshToken), http.StatusBadRequest, "invalid_grant")
	wantError(t, s.refresh(t, builtin, bound.RefreshToken), http.StatusBadRequest, "invalid_grant")
	b2 := s.grant(t, s.client, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {bound.RefreshToken}})
	// Its tokens are the client's own: not for Gatehouse's endpoints.
	if r := env.Me("", b2.AccessToken); r.Status != http.StatusUnauthorized {
		t.Errorf("/auth/me with the confidential client's token: %d", r.Status)
	}
	// The rotated token elsewhere is still no reuse: the successor lives.
	if r := env.Refresh("", bound.RefreshToken); r.Status != http.StatusBadRequest {
		t.Errorf("native refresh of the rotated token: %d", r.Status)
	}
	s.grant(t, s.client, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {b2.RefreshToken}})
}

// TestToken_ReuseThroughOAuth2RevokesEverywhere: presenting a rotated
// refresh token at /oauth2/token revokes the family for every family.
func TestToken_ReuseThroughOAuth2RevokesEverywhere(t *testing.T) {
	runReuseEverywhere(t, servertest.Options{})
}

func runReuseEverywhere(t *testing.T, opts servertest.Options) {
	s := newSetup(t, opts)
	env := s.env
	tk := env.Login("", "alice", alicePassword)
	a := s.grant(t, s.client, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tk.RefreshToken}})

	wantError(t, s.refresh(t, s.client, tk.RefreshToken), http.StatusBadRequest, "invalid_grant")
	// The successor is dead natively and through OAuth 2.0, the access tokens too.
	if r := env.Refresh("", a.RefreshToken); r.Status != http.StatusBadRequest {
		t.Errorf("successor after reuse, native: %d %s", r.Status, r.Body)
	}
	wantError(t, s.refresh(t, s.client, a.RefreshToken), http.StatusBadRequest, "invalid_grant")
	for _, at := range []string{tk.AccessToken, a.AccessToken} {
		if r := env.Me("", at); r.Status != http.StatusUnauthorized {
			t.Errorf("/auth/me after reuse: %d", r.Status)
		}
		if m := s.introspect(t, s.client, at); m["active"] != false {
			t.Errorf("introspection after reuse: %v", m)
		}
	}
	r := env.Admin("GET", "/admin/audit?type=refresh_token_reused", "", nil)
	if !strings.Contains(string(r.Body), s.client.ID) {
		t.Errorf("reuse audit event does not name the client: %s", r.Body)
	}
}

// TestToken_LeewayRetryThroughOAuth2: within the leeway a retried refresh
// answers with the same pair, as natively.
func TestToken_LeewayRetryThroughOAuth2(t *testing.T) {
	s := newSetup(t, servertest.Options{Env: map[string]string{"GATEHOUSE_REFRESH_REUSE_LEEWAY": "30s"}})
	tk := s.env.Login("", "alice", alicePassword)
	a := s.grant(t, s.client, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tk.RefreshToken}})
	s.env.Clock.Advance(5 * time.Second)
	b := s.grant(t, s.client, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tk.RefreshToken}})
	if a.RefreshToken != b.RefreshToken || a.AccessToken != b.AccessToken {
		t.Errorf("retry within the leeway answered another pair")
	}
}

// TestToken_PasswordGrantRules: disabled users, second factors and expired
// passwords hold at the token endpoint; none of them yields tokens.
func TestToken_PasswordGrantRules(t *testing.T) {
	s := newSetup(t, servertest.Options{Env: map[string]string{"GATEHOUSE_PASSWORD_MAX_AGE": "90d", "GATEHOUSE_PASSWORD_GRACE": "7d"}})
	env := s.env
	form := func(user, pw string) url.Values {
		return url.Values{"grant_type": {"password"}, "username": {user}, "password": {pw}}
	}
	// Fresh password: fine.
	s.grant(t, s.client, form("alice", alicePassword))

	// Within the grace period: tokens as usual.
	env.Clock.Advance(92 * 24 * time.Hour)
	s.grant(t, s.client, form("alice", alicePassword))
	// Beyond the grace period: refused, no restricted token handed out.
	env.Clock.Advance(10 * 24 * time.Hour)
	r := env.OAuth2("/oauth2/token", &s.client, form("alice", alicePassword))
	wantError(t, r, http.StatusBadRequest, "invalid_grant")
	if !strings.HasPrefix(description(t, r), "password_change_required") {
		t.Errorf("description %q", description(t, r))
	}

	// An administrator's must_change_password, and a refresh of a session
	// whose user must now change the password.
	bob := env.CreateUser("", map[string]any{"username": "bob", "password": alicePassword})
	a := s.grant(t, s.client, form("bob", alicePassword)) // offline_access by default
	if a.RefreshToken == "" {
		t.Fatal("no refresh token by default")
	}
	if r := env.Admin("PATCH", "/admin/users/"+bob, "", map[string]any{"must_change_password": true}); r.Status != http.StatusOK {
		t.Fatalf("patch bob: %d %s", r.Status, r.Body)
	}
	r = env.OAuth2("/oauth2/token", &s.client, form("bob", alicePassword))
	wantError(t, r, http.StatusBadRequest, "invalid_grant")
	r = s.refresh(t, s.client, a.RefreshToken)
	wantError(t, r, http.StatusBadRequest, "invalid_grant")
	if !strings.HasPrefix(description(t, r), "password_change_required") {
		t.Errorf("refresh description %q", description(t, r))
	}

	// A disabled user.
	carol := env.CreateUser("", map[string]any{"username": "carol", "password": alicePassword})
	env.Admin("PATCH", "/admin/users/"+carol, "", map[string]any{"status": "disabled"})
	wantError(t, env.OAuth2("/oauth2/token", &s.client, form("carol", alicePassword)), http.StatusBadRequest, "invalid_grant")
}

// TestToken_PasswordGrantNeverBypassesMFA: a user with a second factor gets
// invalid_grant with the reason mfa_required, never tokens.
func TestToken_PasswordGrantNeverBypassesMFA(t *testing.T) {
	s := newSetup(t, servertest.Options{})
	env := s.env
	tk := env.Login("", "alice", alicePassword)
	env.EnrollTOTP("", tk.AccessToken)
	r := env.OAuth2("/oauth2/token", &s.client, url.Values{"grant_type": {"password"}, "username": {"alice"}, "password": {alicePassword}})
	wantError(t, r, http.StatusBadRequest, "invalid_grant")
	if !strings.HasPrefix(description(t, r), "mfa_required") {
		t.Errorf("description %q", description(t, r))
	}
	if strings.Contains(string(r.Body), "access_token") {
		t.Errorf("tokens in the answer: %s", r.Body)
	}
}

// TestToken_LockoutIsInvalidGrantWithRetryAfter: the login throttle holds
// at the token endpoint.
func TestToken_LockoutIsInvalidGrantWithRetryAfter(t *testing.T) {
	s := newSetup(t, servertest.Options{Env: map[string]string{"GATEHOUSE_LOGIN_MAX_FAILURES": "3"}})
	bad := url.Values{"grant_type": {"password"}, "username": {"alice"}, "password": {"wrong"}}
	for range 3 {
		wantError(t, s.env.OAuth2("/oauth2/token", &s.client, bad), http.StatusBadRequest, "invalid_grant")
	}
	r := s.env.OAuth2("/oauth2/token", &s.client, url.Values{"grant_type": {"password"}, "username": {"alice"}, "password": {alicePassword}})
	wantError(t, r, http.StatusBadRequest, "invalid_grant")
	if r.Header.Get("Retry-After") == "" {
		t.Error("no Retry-After while locked out")
	}
}

// TestToken_Scopes: RFC 6749 §3.3 — the client's allowed scopes, the
// default, offline_access, and narrowing on refresh.
func TestToken_Scopes(t *testing.T) {
	s := newSetup(t, servertest.Options{})
	env := s.env
	limited := env.CreateOAuthClient("", map[string]any{"name": "limited", "scopes": []string{"openid", "profile", "offline_access"}})

	r := env.OAuth2("/oauth2/token", &limited, url.Values{"grant_type": {"password"}, "username": {"alice"}, "password": {alicePassword}, "scope": {"openid email"}})
	wantError(t, r, http.StatusBadRequest, "invalid_scope")

	def := s.password(t, limited, "")
	if def.Scope != "openid profile offline_access" || def.RefreshToken == "" || def.IDToken == "" {
		t.Errorf("default scope answer = %+v", def)
	}
	noOffline := s.password(t, limited, "profile")
	if noOffline.RefreshToken != "" || noOffline.IDToken != "" || noOffline.Scope != "profile" {
		t.Errorf("scope profile answer = %+v", noOffline)
	}
	// The access token carries the scope.
	if m := s.introspect(t, s.client, def.AccessToken); m["scope"] != "openid profile offline_access" {
		t.Errorf("introspected scope %v", m["scope"])
	}
	// Narrowing on refresh applies to the new access token only.
	r = env.OAuth2("/oauth2/token", &limited, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {def.RefreshToken}, "scope": {"profile"}})
	if r.Status != http.StatusOK {
		t.Fatalf("narrowing refresh: %d %s", r.Status, r.Body)
	}
	var n tokenAnswer
	r.Decode(t, &n)
	if n.Scope != "profile" || n.IDToken != "" || n.RefreshToken == "" {
		t.Errorf("narrowed answer %s", r.Body)
	}
	if m := s.introspect(t, s.client, n.AccessToken); m["scope"] != "profile" {
		t.Errorf("narrowed token scope %v", m["scope"])
	}
	full := s.grant(t, limited, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {n.RefreshToken}})
	if full.Scope != "openid profile offline_access" || full.IDToken == "" {
		t.Errorf("refresh without scope keeps the granted scope: %+v", full)
	}
	// Widening is refused before anything rotates.
	r = env.OAuth2("/oauth2/token", &limited, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {full.RefreshToken}, "scope": {"openid email"}})
	wantError(t, r, http.StatusBadRequest, "invalid_scope")
	s.grant(t, limited, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {full.RefreshToken}})
}

// TestToken_GrantTypesPerClient: allowed grant types per client, settable
// on creation and with PATCH /admin/clients/{id}; public clients.
func TestToken_GrantTypesPerClient(t *testing.T) {
	s := newSetup(t, servertest.Options{})
	env := s.env
	pwOnly := env.CreateOAuthClient("", map[string]any{"name": "pw-only", "grant_types": []string{"password"}})
	a := s.password(t, pwOnly, "offline_access")
	if a.RefreshToken != "" {
		t.Error("refresh token issued to a client without the refresh_token grant")
	}
	wantError(t, env.OAuth2("/oauth2/token", &pwOnly, url.Values{"grant_type": {"client_credentials"}}), http.StatusBadRequest, "unauthorized_client")

	r := env.Admin("PATCH", "/admin/clients/"+pwOnly.ID, "", map[string]any{"grant_types": []string{"password", "refresh_token"}, "scopes": []string{"offline_access"}})
	if r.Status != http.StatusOK {
		t.Fatalf("PATCH client: %d %s", r.Status, r.Body)
	}
	if m := r.JSON(t); len(m["grant_types"].([]any)) != 2 || m["client_secret"] != nil {
		t.Errorf("PATCH answer %s", r.Body)
	}
	a = s.password(t, pwOnly, "")
	if a.RefreshToken == "" {
		t.Fatal("no refresh token after allowing refresh_token")
	}
	s.grant(t, pwOnly, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {a.RefreshToken}})
	if r := env.Admin("PATCH", "/admin/clients/"+pwOnly.ID, "", map[string]any{"grant_types": []string{"implicit"}}); r.Status != http.StatusBadRequest {
		t.Errorf("PATCH with an unknown grant: %d", r.Status)
	}
	if r := env.Admin("PATCH", "/admin/clients/nope", "", map[string]any{"name": "x"}); r.Status != http.StatusNotFound {
		t.Errorf("PATCH of an unknown client: %d", r.Status)
	}

	// A public client: client_id alone, only the grants safe without a secret.
	pub := env.CreateOAuthClient("", map[string]any{"name": "spa", "public": true})
	if pub.Secret != "" {
		t.Fatal("public client got a secret")
	}
	pa := s.password(t, pub, "openid offline_access")
	s.grant(t, pub, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {pa.RefreshToken}})
	wantError(t, env.OAuth2("/oauth2/token", &pub, url.Values{"grant_type": {"client_credentials"}}), http.StatusBadRequest, "unauthorized_client")
	withSecret := servertest.Client{ID: pub.ID, Secret: "made-up"}
	wantError(t, env.OAuth2("/oauth2/token", &withSecret, url.Values{"grant_type": {"password"}}), http.StatusUnauthorized, "invalid_client")
	wantError(t, env.OAuth2("/oauth2/introspect", &pub, url.Values{"token": {pa.AccessToken}}), http.StatusUnauthorized, "invalid_client")
	if r := env.Admin("POST", "/admin/clients", "", map[string]any{"name": "bad", "public": true, "grant_types": []string{"client_credentials"}}); r.Status != http.StatusBadRequest {
		t.Errorf("public client with client_credentials: %d", r.Status)
	}
}

// TestToken_ClientCredentialsRevocable: a client's own token is backed by
// a session, so revoking it works like any token.
func TestToken_ClientCredentialsRevocable(t *testing.T) {
	runClientCredentialsRevocable(t, servertest.Options{})
}

func runClientCredentialsRevocable(t *testing.T, opts servertest.Options) {
	s := newSetup(t, opts)
	a := s.grant(t, s.client, url.Values{"grant_type": {"client_credentials"}})
	if a.RefreshToken != "" || a.IDToken != "" || a.Scope != "" {
		t.Errorf("client credentials answer %+v", a)
	}
	if r := s.env.OAuth2("/oauth2/revoke", &s.client, url.Values{"token": {a.AccessToken}}); r.Status != http.StatusOK {
		t.Fatalf("revoke: %d %s", r.Status, r.Body)
	}
	if m := s.introspect(t, s.client, a.AccessToken); m["active"] != false {
		t.Errorf("revoked client token: %v", m)
	}
}
