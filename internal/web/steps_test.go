package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/server/servertest"
)

func TestMFA_TOTPAndRecoveryCode(t *testing.T) {
	f := newFixture(t, servertest.Options{})
	secret, recovery := f.env.EnrollTOTP("", f.env.Login("", "alice", alicePassword).AccessToken)
	a := f.agent(t)
	a.authorize(authParams(f.client))
	p := a.signIn("alice", alicePassword)
	if !strings.Contains(p.Body, `name="code"`) || !strings.Contains(p.Body, `autocomplete="one-time-code"`) {
		t.Fatalf("no second-factor page: %d %s", p.Status, p.Body)
	}
	if p := a.submit("/login/mfa", url.Values{"code": {"000000"}}); p.Status != http.StatusUnauthorized || !strings.Contains(p.Body, "incorrect") {
		t.Fatalf("wrong code: %d", p.Status)
	}
	p = a.submit("/login/mfa", url.Values{"code": {f.env.TOTPCode(secret)}})
	p = a.submit("/login/consent", url.Values{"decision": {"allow"}})
	q := callback(t, p, rpCallback)
	idt := idClaims(t, f.exchange(f.client, q.Get("code"), rpCallback, verifier).JSON(t)["id_token"].(string))
	if amr := idt["amr"].([]any); len(amr) != 2 || amr[1] != "otp" {
		t.Errorf("amr = %v", amr)
	}
	b := f.agent(t)
	b.authorize(authParams(f.client))
	b.signIn("alice", alicePassword)
	q = callback(t, b.submit("/login/mfa", url.Values{"code": {recovery[0]}}), rpCallback) // consent remembered
	if q.Get("code") == "" {
		t.Fatalf("recovery code: %v", q)
	}
}

func TestPasswordChange_ForcedBeforeTheCode(t *testing.T) {
	f := newFixture(t, servertest.Options{})
	if r := f.env.Admin("PATCH", "/admin/users/"+f.userID, "", map[string]any{"must_change_password": true}); r.Status != http.StatusOK {
		t.Fatalf("patch user: %d %s", r.Status, r.Body)
	}
	a := f.agent(t)
	a.authorize(authParams(f.client))
	p := a.signIn("alice", alicePassword)
	if !strings.Contains(p.Body, `name="new_password"`) || !strings.Contains(p.Body, `autocomplete="new-password"`) {
		t.Fatalf("no password page: %d %s", p.Status, p.Body)
	}
	// SSO does not get past it either.
	if p := a.authorize(authParams(f.client)); !strings.Contains(p.Body, `name="new_password"`) {
		t.Fatalf("second authorize skipped the change: %d", p.Status)
	}
	if p := a.submit("/login/password", url.Values{"new_password": {"short"}}); p.Status != http.StatusBadRequest || !strings.Contains(p.Body, "at least") {
		t.Fatalf("short password: %d %s", p.Status, p.Body)
	}
	if p := a.submit("/login/password", url.Values{"new_password": {alicePassword}}); p.Status != http.StatusBadRequest {
		t.Fatalf("same password: %d", p.Status)
	}
	a.submit("/login/password", url.Values{"new_password": {"a brand new passphrase"}})
	q := callback(t, a.submit("/login/consent", url.Values{"decision": {"allow"}}), rpCallback)
	if q.Get("code") == "" {
		t.Fatalf("after the change: %v", q)
	}
	f.env.Login("", "alice", "a brand new passphrase")
}

func TestSignIn_DisabledUser(t *testing.T) {
	f := newFixture(t, servertest.Options{})
	a := f.agent(t)
	f.tokens(t, a, authParams(f.client))
	f.env.Admin("PATCH", "/admin/users/"+f.userID, "", map[string]any{"status": "disabled"})
	if q := callback(t, a.authorize(authParams(f.client, "prompt", "none")), rpCallback); q.Get("error") != "login_required" {
		t.Errorf("disabled user with a browser session: %v", q)
	}
	b := f.agent(t)
	b.authorize(authParams(f.client))
	if p := b.signIn("alice", alicePassword); p.Location != "" || !strings.Contains(p.Body, "cannot sign in") {
		t.Errorf("disabled sign-in: %d %s", p.Status, p.Body)
	}
}

func TestLogout_EndsBrowserSessionAndLinkedSessions(t *testing.T) {
	f := newFixture(t, servertest.Options{})
	second := f.env.CreateOAuthClient("", map[string]any{"name": "Second", "redirect_uris": []string{rpCallback}})
	a := f.agent(t)
	tok := f.tokens(t, a, authParams(f.client, "scope", "openid offline_access"))
	a.authorize(authParams(second))
	q := callback(t, a.submit("/login/consent", url.Values{"decision": {"allow"}}), rpCallback)
	tok2 := f.exchange(second, q.Get("code"), rpCallback, verifier).JSON(t)
	other := f.agent(t) // another browser of the same user stays signed in
	otherTok := f.tokens(t, other, authParams(f.client))

	p := a.get("/oauth2/logout?" + url.Values{"id_token_hint": {tok["id_token"].(string)},
		"post_logout_redirect_uri": {"https://rp.example/bye"}, "state": {"bye-1"}}.Encode())
	if p.Status != http.StatusSeeOther || p.Location != "https://rp.example/bye?state=bye-1" {
		t.Fatalf("logout: %d %q", p.Status, p.Location)
	}
	for name, at := range map[string]string{"first client": tok["access_token"].(string), "second client": tok2["access_token"].(string)} {
		if r := userinfo(t, f.env, at); r.Status != http.StatusUnauthorized {
			t.Errorf("%s after logout: %d", name, r.Status)
		}
	}
	r := f.env.OAuth2("/oauth2/token", &f.client, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok["refresh_token"].(string)}})
	if r.Status != http.StatusBadRequest {
		t.Errorf("refresh after logout: %d", r.Status)
	}
	if r := userinfo(t, f.env, otherTok["access_token"].(string)); r.Status != http.StatusOK {
		t.Errorf("the other browser's session: %d", r.Status)
	}
	if q := callback(t, a.authorize(authParams(f.client, "prompt", "none")), rpCallback); q.Get("error") != "login_required" {
		t.Errorf("after logout: %v", q)
	}
}

func TestLogout_UnregisteredURIShowsSignedOutPage(t *testing.T) {
	f := newFixture(t, servertest.Options{})
	a := f.agent(t)
	tok := f.tokens(t, a, authParams(f.client))
	p := a.get("/oauth2/logout?" + url.Values{"client_id": {f.client.ID}, "post_logout_redirect_uri": {"https://attacker.example/"}}.Encode())
	if p.Status != http.StatusOK || p.Location != "" || !strings.Contains(p.Body, "signed out") {
		t.Fatalf("logout: %d %q %s", p.Status, p.Location, p.Body)
	}
	if r := userinfo(t, f.env, tok["access_token"].(string)); r.Status != http.StatusUnauthorized {
		t.Errorf("session after logout: %d", r.Status)
	}
	// A hint for another client than client_id: no redirect either.
	b := f.agent(t)
	tok = f.tokens(t, b, authParams(f.client))
	other := f.env.CreateOAuthClient("", map[string]any{"name": "Other", "post_logout_redirect_uris": []string{"https://other.example/bye"}})
	p = b.post("/oauth2/logout", url.Values{"id_token_hint": {tok["id_token"].(string)}, "client_id": {other.ID},
		"post_logout_redirect_uri": {"https://other.example/bye"}})
	if p.Location != "" || p.Status != http.StatusOK {
		t.Errorf("hint and client_id disagree: %d %q", p.Status, p.Location)
	}
}

func TestLogout_ByHintWithoutCookie(t *testing.T) {
	f := newFixture(t, servertest.Options{})
	a := f.agent(t)
	tok := f.tokens(t, a, authParams(f.client))
	// The relying party's back end, without the browser's cookie.
	p := f.agent(t).post("/oauth2/logout", url.Values{"id_token_hint": {tok["id_token"].(string)}})
	if p.Status != http.StatusOK {
		t.Fatalf("logout: %d", p.Status)
	}
	if r := userinfo(t, f.env, tok["access_token"].(string)); r.Status != http.StatusUnauthorized {
		t.Errorf("session after logout by hint: %d", r.Status)
	}
	if q := callback(t, a.authorize(authParams(f.client, "prompt", "none")), rpCallback); q.Get("error") != "login_required" {
		t.Errorf("browser after logout by hint: %v", q)
	}
}

func TestLogout_AfterSignInAgainEndsEarlierSessions(t *testing.T) {
	f := newFixture(t, servertest.Options{})
	a := f.agent(t)
	before := f.tokens(t, a, authParams(f.client))
	a.authorize(authParams(f.client, "prompt", "login"))
	q := callback(t, a.signIn("alice", alicePassword), rpCallback)
	after := f.exchange(f.client, q.Get("code"), rpCallback, verifier).JSON(t)
	a.get("/oauth2/logout")
	for name, tok := range map[string]map[string]any{"before the new sign-in": before, "after": after} {
		if r := userinfo(t, f.env, tok["access_token"].(string)); r.Status != http.StatusUnauthorized {
			t.Errorf("session from %s: %d after logout", name, r.Status)
		}
	}
}

func TestCode_DiesWithItsBrowserSession(t *testing.T) {
	f := newFixture(t, servertest.Options{})
	a := f.agent(t)
	a.authorize(authParams(f.client))
	q := a.signInAndAllow("alice", alicePassword)
	a.get("/oauth2/logout")
	if r := f.exchange(f.client, q.Get("code"), rpCallback, verifier); r.Status != http.StatusBadRequest {
		t.Errorf("code of a signed-out browser: %d %s", r.Status, r.Body)
	}
}
