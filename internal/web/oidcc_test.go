package web_test

// Tests modelled on the modules of the OpenID Foundation's Basic and
// Config OP certification plans (oidcc-basic-certification-test-plan,
// oidcc-config-certification-test-plan): each test is one module's check,
// run against a real server with plain HTTP.

import (
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/server/servertest"
)

// idClaims decodes the payload of a JWT without verifying it (the browser
// tests verify signatures with go-oidc).
func idClaims(t *testing.T, raw string) map[string]any {
	t.Helper()
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", raw)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// tokens runs one whole authorization for the agent (signing in when the
// page asks) and redeems the code.
func (f *fixture) tokens(t *testing.T, a *agent, params url.Values) map[string]any {
	t.Helper()
	p := a.authorize(params)
	var q url.Values
	switch {
	case p.Status == http.StatusOK && strings.Contains(p.Body, `name="password"`):
		q = a.signInAndAllow("alice", alicePassword)
	case p.Status == http.StatusOK && strings.Contains(p.Body, `value="allow"`):
		q = callback(t, a.submit("/login/consent", url.Values{"decision": {"allow"}}), rpCallback)
	default:
		q = callback(t, p, rpCallback)
	}
	r := f.exchange(f.client, q.Get("code"), rpCallback, verifier)
	if r.Status != http.StatusOK {
		t.Fatalf("exchange: %d %s", r.Status, r.Body)
	}
	return r.JSON(t)
}

func userinfo(t *testing.T, env *servertest.Env, access string) *servertest.Response {
	t.Helper()
	return env.Do(servertest.Request{Method: "GET", Path: "/oauth2/userinfo", Bearer: access})
}

// oidcc-server: the basic flow; the ID token's iss, aud, azp, nonce, sid,
// auth_time, amr and at_hash; userinfo for the same sub.
func TestOIDCC_Server(t *testing.T) {
	for _, pg := range []bool{false, true} {
		name := "sqlite"
		if pg {
			name = "postgres"
		}
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, servertest.Options{Postgres: pg})
			a := f.agent(t)
			tok := f.tokens(t, a, authParams(f.client))
			c := idClaims(t, tok["id_token"].(string))
			iss := f.env.Server.Config.Issuer
			if c["iss"] != iss || c["aud"] != f.client.ID || c["azp"] != f.client.ID || c["sub"] != f.userID {
				t.Errorf("iss/aud/azp/sub = %v %v %v %v", c["iss"], c["aud"], c["azp"], c["sub"])
			}
			if c["nonce"] != "n-0S6_WzA2Mj" {
				t.Errorf("nonce = %v", c["nonce"])
			}
			if at, _ := c["auth_time"].(float64); int64(at) != f.env.Clock.Now().Unix() {
				t.Errorf("auth_time = %v, want %d", c["auth_time"], f.env.Clock.Now().Unix())
			}
			if amr, _ := c["amr"].([]any); len(amr) != 1 || amr[0] != "pwd" {
				t.Errorf("amr = %v", c["amr"])
			}
			sum := sha512.Sum512([]byte(tok["access_token"].(string)))
			if c["at_hash"] != base64.RawURLEncoding.EncodeToString(sum[:32]) {
				t.Errorf("at_hash = %v", c["at_hash"])
			}
			if sid, _ := c["sid"].(string); sid == "" || sid == idClaims(t, tok["access_token"].(string))["sid"] {
				t.Errorf("ID token sid %v must name the browser session, not the access token's session", c["sid"])
			}
			if _, ok := tok["refresh_token"]; ok {
				t.Error("a refresh token without offline_access")
			}
			u := userinfo(t, f.env, tok["access_token"].(string))
			if u.Status != http.StatusOK || u.JSON(t)["sub"] != f.userID || u.JSON(t)["email"] != "alice@example.com" {
				t.Errorf("userinfo: %d %s", u.Status, u.Body)
			}
		})
	}
}

// oidcc-ensure-request-without-nonce-succeeds-for-code-flow.
func TestOIDCC_WithoutNonce(t *testing.T) {
	f := newFixture(t, servertest.Options{})
	tok := f.tokens(t, f.agent(t), authParams(f.client, "nonce", ""))
	if _, ok := idClaims(t, tok["id_token"].(string))["nonce"]; ok {
		t.Error("nonce claim without a nonce in the request")
	}
}

// oidcc-ensure-other-scope-order-succeeds and oidcc-scope-profile/email.
func TestOIDCC_ScopeOrderAndClaims(t *testing.T) {
	f := newFixture(t, servertest.Options{})
	tok := f.tokens(t, f.agent(t), authParams(f.client, "scope", "email openid"))
	u := userinfo(t, f.env, tok["access_token"].(string)).JSON(t)
	if u["email"] != "alice@example.com" || u["name"] != nil {
		t.Errorf("userinfo for email openid: %v", u)
	}
	if tok["scope"] != "email openid" {
		t.Errorf("scope = %v", tok["scope"])
	}
}

// oidcc-userinfo-get, -post-header, -post-body.
func TestOIDCC_UserInfoMethods(t *testing.T) {
	f := newFixture(t, servertest.Options{})
	at := f.tokens(t, f.agent(t), authParams(f.client))["access_token"].(string)
	for _, req := range []servertest.Request{
		{Method: "GET", Path: "/oauth2/userinfo", Bearer: at},
		{Method: "POST", Path: "/oauth2/userinfo", Bearer: at},
	} {
		if r := f.env.Do(req); r.Status != http.StatusOK || r.JSON(t)["sub"] != f.userID {
			t.Errorf("%s userinfo: %d %s", req.Method, r.Status, r.Body)
		}
	}
}

// oidcc-prompt-none-not-logged-in: login_required, with state and iss.
func TestOIDCC_PromptNoneNotLoggedIn(t *testing.T) {
	f := newFixture(t, servertest.Options{})
	q := callback(t, f.agent(t).authorize(authParams(f.client, "prompt", "none")), rpCallback)
	if q.Get("error") != "login_required" || q.Get("state") != "st-123" || q.Get("iss") != f.env.Server.Config.Issuer || q.Get("code") != "" {
		t.Errorf("callback %v", q)
	}
}

// oidcc-prompt-none-logged-in: a signed-in browser gets its code at once.
func TestOIDCC_PromptNoneLoggedIn(t *testing.T) {
	f := newFixture(t, servertest.Options{})
	a := f.agent(t)
	f.tokens(t, a, authParams(f.client))
	q := callback(t, a.authorize(authParams(f.client, "prompt", "none")), rpCallback)
	if q.Get("code") == "" {
		t.Fatalf("callback %v", q)
	}
	if r := f.exchange(f.client, q.Get("code"), rpCallback, verifier); r.Status != http.StatusOK {
		t.Fatalf("exchange: %d %s", r.Status, r.Body)
	}
}

// oidcc-prompt-login: the sign-in page again, and a newer auth_time.
func TestOIDCC_PromptLogin(t *testing.T) {
	f := newFixture(t, servertest.Options{})
	a := f.agent(t)
	first := idClaims(t, f.tokens(t, a, authParams(f.client))["id_token"].(string))
	f.env.Clock.Advance(5 * time.Second)
	p := a.authorize(authParams(f.client, "prompt", "login"))
	if !strings.Contains(p.Body, `name="password"`) {
		t.Fatalf("prompt=login did not show the sign-in page: %d %s", p.Status, p.Body)
	}
	q := callback(t, a.signIn("alice", alicePassword), rpCallback) // consent is remembered
	r := f.exchange(f.client, q.Get("code"), rpCallback, verifier)
	second := idClaims(t, r.JSON(t)["id_token"].(string))
	if second["auth_time"].(float64) <= first["auth_time"].(float64) {
		t.Errorf("auth_time %v not after %v", second["auth_time"], first["auth_time"])
	}
	if second["sid"] == first["sid"] {
		t.Error("a new sign-in kept the browser session id")
	}
}

// oidcc-max-age-1 and oidcc-max-age-10000.
func TestOIDCC_MaxAge(t *testing.T) {
	f := newFixture(t, servertest.Options{})
	a := f.agent(t)
	first := idClaims(t, f.tokens(t, a, authParams(f.client))["id_token"].(string))
	f.env.Clock.Advance(2 * time.Second)
	q := callback(t, a.authorize(authParams(f.client, "max_age", "10000")), rpCallback)
	long := idClaims(t, f.exchange(f.client, q.Get("code"), rpCallback, verifier).JSON(t)["id_token"].(string))
	if long["auth_time"] != first["auth_time"] {
		t.Errorf("max_age=10000: auth_time %v, want %v", long["auth_time"], first["auth_time"])
	}
	p := a.authorize(authParams(f.client, "max_age", "1"))
	if !strings.Contains(p.Body, `name="password"`) {
		t.Fatalf("max_age=1 after 2 s did not show the sign-in page: %d", p.Status)
	}
	q = callback(t, a.signIn("alice", alicePassword), rpCallback)
	short := idClaims(t, f.exchange(f.client, q.Get("code"), rpCallback, verifier).JSON(t)["id_token"].(string))
	if short["auth_time"].(float64) < first["auth_time"].(float64)+2 {
		t.Errorf("max_age=1: auth_time %v, want a new sign-in", short["auth_time"])
	}
	q = callback(t, a.authorize(authParams(f.client, "max_age", "abc")), rpCallback)
	if q.Get("error") != "invalid_request" {
		t.Errorf("max_age=abc: %v", q)
	}
}

// oidcc-login-hint: the hint fills the username field.
func TestOIDCC_LoginHint(t *testing.T) {
	f := newFixture(t, servertest.Options{})
	p := f.agent(t).authorize(authParams(f.client, "login_hint", "alice@example.com"))
	if !strings.Contains(p.Body, `value="alice@example.com"`) {
		t.Errorf("the sign-in page does not carry the login hint: %s", p.Body)
	}
}

// oidcc-id-token-hint: prompt=none with the ID token of the browser's
// session as hint.
func TestOIDCC_IDTokenHint(t *testing.T) {
	f := newFixture(t, servertest.Options{})
	a := f.agent(t)
	idt := f.tokens(t, a, authParams(f.client))["id_token"].(string)
	q := callback(t, a.authorize(authParams(f.client, "prompt", "none", "id_token_hint", idt)), rpCallback)
	if q.Get("code") == "" {
		t.Errorf("callback %v", q)
	}
}

// oidcc-codereuse: the second use fails and revokes the tokens of the first.
func TestOIDCC_CodeReuseRevokes(t *testing.T) {
	f := newFixture(t, servertest.Options{})
	a := f.agent(t)
	a.authorize(authParams(f.client, "scope", "openid offline_access"))
	q := a.signInAndAllow("alice", alicePassword)
	first := f.exchange(f.client, q.Get("code"), rpCallback, verifier)
	if first.Status != http.StatusOK {
		t.Fatalf("first exchange: %d %s", first.Status, first.Body)
	}
	tok := first.JSON(t)
	again := f.exchange(f.client, q.Get("code"), rpCallback, verifier)
	if again.Status != http.StatusBadRequest || again.JSON(t)["error"] != "invalid_grant" {
		t.Fatalf("second exchange: %d %s", again.Status, again.Body)
	}
	if r := userinfo(t, f.env, tok["access_token"].(string)); r.Status != http.StatusUnauthorized {
		t.Errorf("access token of a replayed code: %d", r.Status)
	}
	r := f.env.OAuth2("/oauth2/token", &f.client, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok["refresh_token"].(string)}})
	if r.Status != http.StatusBadRequest {
		t.Errorf("refresh token of a replayed code: %d %s", r.Status, r.Body)
	}
	if !strings.Contains(string(f.env.Admin("GET", "/admin/audit?type=authorization_code_reused", "", nil).Body), f.userID) {
		t.Error("no authorization_code_reused audit event")
	}
}

// oidcc-ensure-registered-redirect-uri: never redirected to; a 400 page.
func TestOIDCC_RedirectURIMismatchShown(t *testing.T) {
	f := newFixture(t, servertest.Options{})
	for _, uri := range []string{"https://attacker.example/cb", rpCallback + "/x", rpCallback + "?a=1", "", "HTTPS://rp.example/cb"} {
		p := f.agent(t).authorize(authParams(f.client, "redirect_uri", uri))
		if p.Status != http.StatusBadRequest || p.Location != "" || !strings.Contains(p.Body, "redirect_uri") {
			t.Errorf("redirect_uri %q: %d Location=%q", uri, p.Status, p.Location)
		}
		if !strings.Contains(p.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'") || p.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("error page headers %v", p.Header)
		}
	}
	p := f.agent(t).authorize(authParams(servertest.Client{ID: "unknown-client"}))
	if p.Status != http.StatusBadRequest || p.Location != "" {
		t.Errorf("unknown client: %d %q", p.Status, p.Location)
	}
}

// oidcc-response-type-missing and the refusal of implicit and hybrid flows.
func TestOIDCC_ResponseTypes(t *testing.T) {
	f := newFixture(t, servertest.Options{})
	for rt, want := range map[string]string{"": "invalid_request", "token": "unsupported_response_type",
		"id_token": "unsupported_response_type", "code id_token": "unsupported_response_type"} {
		q := callback(t, f.agent(t).authorize(authParams(f.client, "response_type", rt)), rpCallback)
		if q.Get("error") != want || q.Get("state") != "st-123" || q.Get("iss") == "" || q.Get("error_description") == "" {
			t.Errorf("response_type %q: %v", rt, q)
		}
	}
}

// oidcc-refresh-token: offline_access gives a refresh token that rotates.
func TestOIDCC_RefreshToken(t *testing.T) {
	f := newFixture(t, servertest.Options{})
	tok := f.tokens(t, f.agent(t), authParams(f.client, "scope", "openid offline_access"))
	rt, _ := tok["refresh_token"].(string)
	if rt == "" {
		t.Fatalf("no refresh token: %v", tok)
	}
	r := f.env.OAuth2("/oauth2/token", &f.client, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}})
	if r.Status != http.StatusOK || r.JSON(t)["refresh_token"] == rt {
		t.Errorf("refresh: %d %s", r.Status, r.Body)
	}
}

// oidcc-discovery-* (Config OP): every key of the browser flow.
func TestOIDCC_Discovery(t *testing.T) {
	f := newFixture(t, servertest.Options{})
	d := f.env.Do(servertest.Request{Method: "GET", Path: "/.well-known/openid-configuration"}).JSON(t)
	iss := f.env.Server.Config.Issuer
	for k, want := range map[string]any{
		"authorization_endpoint": iss + "/oauth2/authorize", "pushed_authorization_request_endpoint": iss + "/oauth2/par",
		"end_session_endpoint": iss + "/oauth2/logout", "backchannel_logout_supported": true,
		"backchannel_logout_session_supported": true, "authorization_response_iss_parameter_supported": true,
	} {
		if d[k] != want {
			t.Errorf("%s = %v, want %v", k, d[k], want)
		}
	}
	for k, want := range map[string]string{"response_types_supported": "code", "code_challenge_methods_supported": "S256",
		"response_modes_supported": "query form_post", "prompt_values_supported": "none login consent",
		"grant_types_supported": "authorization_code password refresh_token client_credentials urn:ietf:params:oauth:grant-type:token-exchange"} {
		var got []string
		for _, v := range d[k].([]any) {
			got = append(got, v.(string))
		}
		if strings.Join(got, " ") != want {
			t.Errorf("%s = %v, want %s", k, got, want)
		}
	}
}
