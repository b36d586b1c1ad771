package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/server/servertest"
)

func TestAuthorize_PagesCarryHeadersAndLabels(t *testing.T) {
	f := newFixture(t, servertest.Options{})
	a := f.agent(t)
	first := a.get("/oauth2/authorize?" + authParams(f.client).Encode())
	if first.Status != http.StatusSeeOther || !strings.HasPrefix(first.Location, "/login?req=") {
		t.Fatalf("authorize answered %d %q, want a redirect to the sign-in page", first.Status, first.Location)
	}
	p := a.get(first.Location)
	h := p.Header
	csp := h.Get("Content-Security-Policy")
	for _, want := range []string{"frame-ancestors 'none'", "default-src 'none'", "script-src 'none'", "form-action 'self' https://rp.example"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if h.Get("Cache-Control") != "no-store" || h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") != "no-referrer" {
		t.Errorf("headers %v", h)
	}
	for _, want := range []string{`<html lang="en">`, `name="viewport"`, `<label for="username">`, `<label for="password">`,
		`autocomplete="username"`, `autocomplete="current-password"`, `<form method="post"`, `href="/assets/gatehouse.css"`} {
		if !strings.Contains(p.Body, want) {
			t.Errorf("sign-in page lacks %s", want)
		}
	}
	if strings.Contains(p.Body, "<script") || strings.Contains(p.Body, " on") && regexp.MustCompile(` on[a-z]+=`).MatchString(p.Body) {
		t.Error("the sign-in page has script or inline event handlers")
	}
	css := a.get("/assets/gatehouse.css")
	if css.Status != http.StatusOK || !strings.HasPrefix(css.Header.Get("Content-Type"), "text/css") {
		t.Errorf("stylesheet: %d %s", css.Status, css.Header.Get("Content-Type"))
	}
}

func TestSignIn_WrongPasswordAndUnknownUserReadAlike(t *testing.T) {
	f := newFixture(t, servertest.Options{})
	a := f.agent(t)
	a.authorize(authParams(f.client))
	wrong := a.signIn("alice", "not the password")
	unknown := a.signIn("nobody", "not the password")
	msg := regexp.MustCompile(`<p class="alert" role="alert" id="message">([^<]*)</p>`)
	m1, m2 := msg.FindStringSubmatch(wrong.Body), msg.FindStringSubmatch(unknown.Body)
	if wrong.Status != http.StatusUnauthorized || unknown.Status != http.StatusUnauthorized || m1 == nil || m2 == nil || m1[1] != m2[1] {
		t.Fatalf("wrong password %d %v, unknown user %d %v", wrong.Status, m1, unknown.Status, m2)
	}
	if wrong.Location != "" || !strings.Contains(wrong.Body, `name="password"`) {
		t.Error("a refused sign-in must show the page again, never redirect")
	}
}

func TestSignIn_LockoutShownOnThePage(t *testing.T) {
	f := newFixture(t, servertest.Options{Env: map[string]string{"GATEHOUSE_LOGIN_MAX_FAILURES": "3"}})
	a := f.agent(t)
	a.authorize(authParams(f.client))
	for range 3 {
		a.signIn("alice", "wrong password")
	}
	p := a.signIn("alice", alicePassword) // right password, but locked
	if p.Status != http.StatusTooManyRequests || !strings.Contains(p.Body, "Too many failed attempts") || p.Location != "" {
		t.Fatalf("locked: %d %s", p.Status, p.Body)
	}
}

func TestSignIn_CSRFRefused(t *testing.T) {
	f := newFixture(t, servertest.Options{})
	a := f.agent(t)
	a.authorize(authParams(f.client))
	req := reqField.FindStringSubmatch(a.last.Body)[1]
	for name, form := range map[string]url.Values{
		"no token":     {"req": {req}, "username": {"alice"}, "password": {alicePassword}},
		"forged token": {"req": {req}, "csrf": {strings.Repeat("0", 64)}, "username": {"alice"}, "password": {alicePassword}},
	} {
		if p := a.post("/login", form); p.Status != http.StatusForbidden {
			t.Errorf("%s: %d", name, p.Status)
		}
	}
	// A token of this browser does not work from another browser (no cookie).
	token := csrfField.FindStringSubmatch(a.last.Body)
	other := f.agent(t)
	if p := other.post("/login", url.Values{"req": {req}, "csrf": {csrfField.FindStringSubmatch(a.get("/login?req=" + req).Body)[1]},
		"username": {"alice"}, "password": {alicePassword}}); p.Status != http.StatusForbidden {
		t.Errorf("token of another browser: %d", p.Status)
	}
	_ = token
}

func TestPKCE(t *testing.T) {
	f := newFixture(t, servertest.Options{})
	for name, extra := range map[string][]string{
		"missing challenge": {"code_challenge", ""},
		"plain":             {"code_challenge_method", "plain", "code_challenge", strings.Repeat("a", 43)},
		"no method":         {"code_challenge_method", ""},
	} {
		q := callback(t, f.agent(t).authorize(authParams(f.client, extra...)), rpCallback)
		if q.Get("error") != "invalid_request" {
			t.Errorf("%s: %v", name, q)
		}
	}
	a := f.agent(t)
	a.authorize(authParams(f.client))
	q := a.signInAndAllow("alice", alicePassword)
	for name, v := range map[string]string{"wrong verifier": strings.Repeat("x", 43), "no verifier": ""} {
		r := f.exchange(f.client, q.Get("code"), rpCallback, v)
		if r.Status != http.StatusBadRequest || (r.JSON(t)["error"] != "invalid_grant" && r.JSON(t)["error"] != "invalid_request") {
			t.Errorf("%s: %d %s", name, r.Status, r.Body)
		}
	}
	if r := f.exchange(f.client, q.Get("code"), "https://rp.example/other", verifier); r.Status != http.StatusBadRequest {
		t.Errorf("other redirect_uri at the token endpoint: %d", r.Status)
	}
	if r := f.exchange(f.client, q.Get("code"), rpCallback, verifier); r.Status != http.StatusOK {
		t.Errorf("right verifier after refusals: %d %s", r.Status, r.Body)
	}
}

func TestCode_BoundToClientAndExpires(t *testing.T) {
	f := newFixture(t, servertest.Options{})
	other := f.env.CreateOAuthClient("", map[string]any{"name": "Other", "redirect_uris": []string{rpCallback}})
	a := f.agent(t)
	a.authorize(authParams(f.client))
	q := a.signInAndAllow("alice", alicePassword)
	if r := f.exchange(other, q.Get("code"), rpCallback, verifier); r.Status != http.StatusBadRequest {
		t.Errorf("another client's code: %d", r.Status)
	}
	f.env.Clock.Advance(61 * time.Second)
	if r := f.exchange(f.client, q.Get("code"), rpCallback, verifier); r.Status != http.StatusBadRequest {
		t.Errorf("expired code: %d", r.Status)
	}
}

func TestSSO_SecondClientAndConsent(t *testing.T) {
	f := newFixture(t, servertest.Options{})
	second := f.env.CreateOAuthClient("", map[string]any{"name": "Second App", "redirect_uris": []string{rpCallback}})
	a := f.agent(t)
	f.tokens(t, a, authParams(f.client))
	// A second client: no sign-in page, but its own consent page.
	p := a.authorize(authParams(second))
	if strings.Contains(p.Body, `name="password"`) || !strings.Contains(p.Body, "Second App") || !strings.Contains(p.Body, `value="deny"`) {
		t.Fatalf("second client: %d %s", p.Status, p.Body)
	}
	q := callback(t, a.submit("/login/consent", url.Values{"decision": {"deny"}}), rpCallback)
	if q.Get("error") != "access_denied" || q.Get("state") != "st-123" {
		t.Fatalf("deny: %v", q)
	}
	// Consent is remembered: the first client gets its code at once.
	q = callback(t, a.authorize(authParams(f.client)), rpCallback)
	if q.Get("code") == "" {
		t.Fatalf("remembered consent: %v", q)
	}
	// More scopes, prompt=consent, or a revoked consent ask again.
	for name, p := range map[string]page{
		"more scopes":    a.authorize(authParams(f.client, "scope", "openid phone")),
		"prompt=consent": a.authorize(authParams(f.client, "prompt", "consent")),
	} {
		if !strings.Contains(p.Body, `value="allow"`) {
			t.Errorf("%s: no consent page (%d)", name, p.Status)
		}
	}
	list := f.env.Admin("GET", "/admin/users/"+f.userID+"/consents", "", nil)
	if list.Status != http.StatusOK || !strings.Contains(string(list.Body), f.client.ID) {
		t.Fatalf("consents: %d %s", list.Status, list.Body)
	}
	if r := f.env.Admin("DELETE", "/admin/users/"+f.userID+"/consents/"+f.client.ID, "", nil); r.Status != http.StatusNoContent {
		t.Fatalf("revoke consent: %d %s", r.Status, r.Body)
	}
	if p := a.authorize(authParams(f.client)); !strings.Contains(p.Body, `value="allow"`) {
		t.Error("revoked consent not asked again")
	}
	q = callback(t, a.authorize(authParams(f.client, "prompt", "none")), rpCallback)
	if q.Get("error") != "consent_required" {
		t.Errorf("prompt=none without consent: %v", q)
	}
}

func TestFormPost(t *testing.T) {
	f := newFixture(t, servertest.Options{})
	a := f.agent(t)
	a.authorize(authParams(f.client, "response_mode", "form_post"))
	a.signIn("alice", alicePassword)
	p := a.submit("/login/consent", url.Values{"decision": {"allow"}})
	if p.Status != http.StatusOK || !strings.Contains(p.Body, `action="https://rp.example/cb"`) ||
		!strings.Contains(p.Body, `name="code"`) || !strings.Contains(p.Body, `name="iss"`) || !strings.Contains(p.Body, `<button type="submit">`) {
		t.Fatalf("form_post page: %d %s", p.Status, p.Body)
	}
	m := regexp.MustCompile(`<script nonce="([^"]+)">`).FindStringSubmatch(p.Body)
	if m == nil || !strings.Contains(p.Header.Get("Content-Security-Policy"), "script-src 'nonce-"+m[1]+"'") {
		t.Errorf("script nonce and CSP disagree: %q", p.Header.Get("Content-Security-Policy"))
	}
	q := callback(t, a.authorize(authParams(f.client, "response_mode", "fragment")), rpCallback)
	if q.Get("error") != "invalid_request" {
		t.Errorf("response_mode=fragment: %v", q)
	}
}

func TestPAR(t *testing.T) {
	f := newFixture(t, servertest.Options{})
	push := func(c servertest.Client, v url.Values) *servertest.Response {
		v.Del("client_id")
		return f.env.OAuth2("/oauth2/par", &c, v)
	}
	r := push(f.client, authParams(f.client))
	if r.Status != http.StatusCreated {
		t.Fatalf("par: %d %s", r.Status, r.Body)
	}
	m := r.JSON(t)
	uri, _ := m["request_uri"].(string)
	if !strings.HasPrefix(uri, "urn:ietf:params:oauth:request_uri:") || m["expires_in"] != float64(60) {
		t.Fatalf("par answer %v", m)
	}
	a := f.agent(t)
	p := a.authorize(url.Values{"client_id": {f.client.ID}, "request_uri": {uri}})
	if !strings.Contains(p.Body, `name="password"`) {
		t.Fatalf("pushed request: %d %s", p.Status, p.Body)
	}
	q := a.signInAndAllow("alice", alicePassword)
	if q.Get("state") != "st-123" || f.exchange(f.client, q.Get("code"), rpCallback, verifier).Status != http.StatusOK {
		t.Fatalf("pushed request callback %v", q)
	}
	again := f.agent(t).authorize(url.Values{"client_id": {f.client.ID}, "request_uri": {uri}})
	if again.Status != http.StatusBadRequest || !strings.Contains(again.Body, "invalid_request_uri") {
		t.Errorf("used request_uri: %d %s", again.Status, again.Body)
	}
	r = push(f.client, authParams(f.client, "redirect_uri", "https://attacker.example/cb"))
	if r.Status != http.StatusBadRequest {
		t.Errorf("push with a foreign redirect_uri: %d", r.Status)
	}
	if r := push(servertest.Client{ID: f.client.ID, Secret: "wrong"}, authParams(f.client)); r.Status != http.StatusUnauthorized {
		t.Errorf("push with a wrong secret: %d", r.Status)
	}
	strict := f.env.CreateOAuthClient("", map[string]any{"name": "Strict", "redirect_uris": []string{rpCallback}, "require_par": true})
	q = callback(t, f.agent(t).authorize(authParams(strict)), rpCallback)
	if q.Get("error") != "invalid_request" {
		t.Errorf("require_par without PAR: %v", q)
	}
	r = push(strict, authParams(strict))
	uri = r.JSON(t)["request_uri"].(string)
	if p := f.agent(t).authorize(url.Values{"client_id": {strict.ID}, "request_uri": {uri}}); !strings.Contains(p.Body, `name="password"`) {
		t.Errorf("require_par with PAR: %d", p.Status)
	}
	f.env.Clock.Advance(61 * time.Second)
	uri2 := push(f.client, authParams(f.client)).JSON(t)["request_uri"].(string)
	f.env.Clock.Advance(61 * time.Second)
	if p := f.agent(t).authorize(url.Values{"client_id": {f.client.ID}, "request_uri": {uri2}}); p.Status != http.StatusBadRequest {
		t.Errorf("expired request_uri: %d", p.Status)
	}
}

func TestPublicClientLoopbackAnyPort(t *testing.T) {
	f := newFixture(t, servertest.Options{})
	pub := f.env.CreateOAuthClient("", map[string]any{"name": "CLI", "public": true, "redirect_uris": []string{"http://127.0.0.1/callback"}})
	a := f.agent(t)
	p := a.authorize(authParams(pub, "redirect_uri", "http://127.0.0.1:53127/callback"))
	if !strings.Contains(p.Body, `name="password"`) {
		t.Fatalf("loopback with a port: %d %s", p.Status, p.Body)
	}
	a.signIn("alice", alicePassword)
	q := callback(t, a.submit("/login/consent", url.Values{"decision": {"allow"}}), "http://127.0.0.1:53127/callback")
	if r := f.exchange(pub, q.Get("code"), "http://127.0.0.1:53127/callback", verifier); r.Status != http.StatusOK {
		t.Fatalf("public exchange: %d %s", r.Status, r.Body)
	}
	for _, uri := range []string{"http://127.0.0.1:53127/other", "http://localhost:53127/callback", "https://127.0.0.1:53127/callback"} {
		if p := f.agent(t).authorize(authParams(pub, "redirect_uri", uri)); p.Status != http.StatusBadRequest {
			t.Errorf("%s: %d", uri, p.Status)
		}
	}
}

func TestAdminClients_RedirectSettingsValidated(t *testing.T) {
	f := newFixture(t, servertest.Options{})
	for _, body := range []map[string]any{
		{"name": "x", "redirect_uris": []string{"http://rp.example/cb"}},
		{"name": "x", "redirect_uris": []string{"https://rp.example/cb#frag"}},
		{"name": "x", "redirect_uris": []string{"/relative"}},
		{"name": "x", "post_logout_redirect_uris": []string{"javascript:alert(1)"}},
		{"name": "x", "backchannel_logout_uri": "ftp://rp.example/bcl"},
	} {
		if r := f.env.Admin("POST", "/admin/clients", "", body); r.Status != http.StatusBadRequest {
			t.Errorf("%v: %d %s", body, r.Status, r.Body)
		}
	}
	r := f.env.Admin("PATCH", "/admin/clients/"+f.client.ID, "", map[string]any{"redirect_uris": []string{"https://rp.example/new"},
		"require_par": true, "backchannel_logout_uri": "https://rp.example/bcl"})
	m := r.JSON(t)
	if r.Status != http.StatusOK || m["require_par"] != true || m["backchannel_logout_uri"] != "https://rp.example/bcl" {
		t.Fatalf("patch: %d %s", r.Status, r.Body)
	}
	if uris := m["redirect_uris"].([]any); len(uris) != 1 || uris[0] != "https://rp.example/new" {
		t.Errorf("redirect_uris = %v", uris)
	}
}

func TestBrowserCookie_Attributes(t *testing.T) {
	for _, issuer := range []string{"http://gatehouse.test", "https://gatehouse.test"} {
		f := newFixture(t, servertest.Options{Env: map[string]string{"GATEHOUSE_ISSUER": issuer}})
		a := f.agent(t)
		a.authorize(authParams(f.client))
		// The jar does not send Secure cookies over http; read the header.
		p := a.signIn("alice", alicePassword)
		var session string
		for _, c := range p.Header.Values("Set-Cookie") {
			if strings.Contains(c, "gh_session=") {
				session = c
			}
		}
		want := []string{"HttpOnly", "SameSite=Lax", "Path=/"}
		if strings.HasPrefix(issuer, "https") {
			want = append(want, "__Host-gh_session=", "Secure")
		}
		for _, w := range want {
			if !strings.Contains(session, w) {
				t.Errorf("%s: session cookie %q lacks %s", issuer, session, w)
			}
		}
		if !strings.HasPrefix(issuer, "https") && strings.Contains(session, "Secure") {
			t.Errorf("%s: Secure cookie on http", issuer)
		}
		if hsts := p.Header.Get("Strict-Transport-Security"); (hsts != "") != strings.HasPrefix(issuer, "https") {
			t.Errorf("%s: Strict-Transport-Security %q", issuer, hsts)
		}
	}
}

func TestBrowserSession_IdleAndAbsoluteLifetime(t *testing.T) {
	f := newFixture(t, servertest.Options{Env: map[string]string{"GATEHOUSE_BROWSER_SESSION_TTL": "1h", "GATEHOUSE_BROWSER_SESSION_MAX_LIFETIME": "3h"}})
	a := f.agent(t)
	f.tokens(t, a, authParams(f.client))
	for range 4 { // used every 50 minutes: the idle expiry moves, until the absolute one
		f.env.Clock.Advance(50 * time.Minute)
		p := a.authorize(authParams(f.client, "prompt", "none"))
		q := callback(t, p, rpCallback)
		if f.env.Clock.Now().Sub(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)) < 3*time.Hour {
			if q.Get("code") == "" {
				t.Fatalf("at %v: %v", f.env.Clock.Now(), q)
			}
		} else if q.Get("error") != "login_required" {
			t.Fatalf("past the absolute lifetime: %v", q)
		}
	}
	b := f.agent(t)
	f.tokens(t, b, authParams(f.client))
	f.env.Clock.Advance(61 * time.Minute)
	if q := callback(t, b.authorize(authParams(f.client, "prompt", "none")), rpCallback); q.Get("error") != "login_required" {
		t.Errorf("idle past the TTL: %v", q)
	}
}

// Bad input is refused as on SQLite, never a 500: a NUL byte in a form
// field or a pushed parameter.
func TestBadInput_NULRefused(t *testing.T) {
	for _, pg := range []bool{false, true} {
		f := newFixture(t, servertest.Options{Postgres: pg})
		a := f.agent(t)
		a.authorize(authParams(f.client))
		if p := a.signIn("ali\x00ce", alicePassword); p.Status != http.StatusBadRequest {
			t.Errorf("postgres=%v: NUL in the username: %d", pg, p.Status)
		}
		v := authParams(f.client, "nonce", "n\x00n")
		v.Del("client_id")
		if r := f.env.OAuth2("/oauth2/par", &f.client, v); r.Status != http.StatusBadRequest {
			t.Errorf("postgres=%v: NUL in a pushed nonce: %d %s", pg, r.Status, r.Body)
		}
		if p := f.agent(t).authorize(authParams(f.client, "state", "s\x00")); p.Status != http.StatusBadRequest {
			t.Errorf("postgres=%v: NUL in state: %d", pg, p.Status)
		}
	}
}

// A pending request belongs to the browser that started it: a sign-in
// link handed to another browser does not work there.
func TestPendingRequest_BoundToItsBrowser(t *testing.T) {
	f := newFixture(t, servertest.Options{})
	a := f.agent(t)
	first := a.get("/oauth2/authorize?" + authParams(f.client).Encode())
	other := f.agent(t)
	p := other.get(first.Location)
	if p.Status != http.StatusBadRequest || !strings.Contains(p.Body, "another browser") {
		t.Fatalf("another browser: %d %s", p.Status, p.Body)
	}
	if p := a.get(first.Location); p.Status != http.StatusOK {
		t.Fatalf("the browser that started it: %d", p.Status)
	}
}
