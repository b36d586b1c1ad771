package oauth2_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/server/servertest"
)

// TestErrors_RFC6749Shapes: every bad input of the token, introspection
// and revocation endpoints gets an RFC 6749 §5.2 answer, never a 5xx.
func TestErrors_RFC6749Shapes(t *testing.T) {
	s := newSetup(t, servertest.Options{})
	env := s.env
	long := strings.Repeat("A", 10000)
	form := func(kv ...string) url.Values {
		v := url.Values{}
		for i := 0; i+1 < len(kv); i += 2 {
			v.Add(kv[i], kv[i+1])
		}
		return v
	}
	cases := []struct {
		name   string
		path   string
		form   url.Values
		status int
		code   string
	}{
		{"no grant_type", "/oauth2/token", form(), 400, "invalid_request"},
		{"unknown grant_type", "/oauth2/token", form("grant_type", "implicit"), 400, "unsupported_grant_type"},
		{"odd grant_type", "/oauth2/token", form("grant_type", "' OR 1=1 --"), 400, "unsupported_grant_type"},
		{"password without username", "/oauth2/token", form("grant_type", "password", "password", "x"), 400, "invalid_request"},
		{"password without password", "/oauth2/token", form("grant_type", "password", "username", "alice"), 400, "invalid_request"},
		{"unknown user", "/oauth2/token", form("grant_type", "password", "username", "nobody", "password", "x"), 400, "invalid_grant"},
		{"huge username", "/oauth2/token", form("grant_type", "password", "username", long, "password", long), 400, "invalid_grant"},
		{"unicode username", "/oauth2/token", form("grant_type", "password", "username", "\u202e\u0301ℵ", "password", "x"), 400, "invalid_grant"},
		{"refresh without token", "/oauth2/token", form("grant_type", "refresh_token"), 400, "invalid_request"},
		{"unknown refresh token", "/oauth2/token", form("grant_type", "refresh_token", "refresh_token", "nope"), 400, "invalid_grant"},
		{"huge refresh token", "/oauth2/token", form("grant_type", "refresh_token", "refresh_token", long), 400, "invalid_grant"},
		{"bad scope token", "/oauth2/token", form("grant_type", "password", "username", "alice", "password", alicePassword, "scope", "openid \"x\""), 400, "invalid_scope"},
		{"unknown scope", "/oauth2/token", form("grant_type", "password", "username", "alice", "password", alicePassword, "scope", "admin"), 400, "invalid_scope"},
		{"repeated parameter", "/oauth2/token", form("grant_type", "password", "grant_type", "password"), 400, "invalid_request"},
		{"exchange without subject", "/oauth2/token", form("grant_type", "urn:ietf:params:oauth:grant-type:token-exchange"), 400, "invalid_request"},
		{"exchange wrong type", "/oauth2/token", form("grant_type", "urn:ietf:params:oauth:grant-type:token-exchange",
			"subject_token", "a.b.c", "subject_token_type", "urn:ietf:params:oauth:token-type:access_token"), 400, "invalid_request"},
		{"exchange garbage token", "/oauth2/token", form("grant_type", "urn:ietf:params:oauth:grant-type:token-exchange",
			"subject_token", long, "subject_token_type", "urn:ietf:params:oauth:token-type:id_token"), 400, "invalid_grant"},
		{"exchange actor token", "/oauth2/token", form("grant_type", "urn:ietf:params:oauth:grant-type:token-exchange",
			"subject_token", "a.b.c", "subject_token_type", "urn:ietf:params:oauth:token-type:id_token", "actor_token", "x"), 400, "invalid_request"},
		{"exchange foreign audience", "/oauth2/token", form("grant_type", "urn:ietf:params:oauth:grant-type:token-exchange",
			"subject_token", "a.b.c", "subject_token_type", "urn:ietf:params:oauth:token-type:id_token", "audience", "elsewhere"), 400, "invalid_target"},
		{"introspect without token", "/oauth2/introspect", form(), 400, "invalid_request"},
		{"revoke without token", "/oauth2/revoke", form(), 400, "invalid_request"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := env.OAuth2(tc.path, &s.client, tc.form)
			wantError(t, r, tc.status, tc.code)
			checkNoStore(t, r)
		})
	}
}

// TestErrors_ClientAuthentication: missing, wrong and ambiguous client
// credentials on every client-authenticated endpoint.
func TestErrors_ClientAuthentication(t *testing.T) {
	// Failed client authentications are throttled like logins: allow
	// enough of them for this test, and check the lock at the end.
	s := newSetup(t, servertest.Options{Env: map[string]string{"GATEHOUSE_LOGIN_MAX_FAILURES": "20"}})
	env := s.env
	post := func(path string, header map[string]string, form url.Values) *servertest.Response {
		h := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
		for k, v := range header {
			h[k] = v
		}
		return env.Do(servertest.Request{Method: "POST", Path: path, Body: strings.NewReader(form.Encode()), Header: h})
	}
	basic := servertest.BasicAuth(s.client.ID, s.client.Secret)
	for _, path := range []string{"/oauth2/token", "/oauth2/introspect", "/oauth2/revoke"} {
		t.Run(path, func(t *testing.T) {
			base := url.Values{"grant_type": {"client_credentials"}, "token": {"x"}}
			r := post(path, nil, base)
			wantError(t, r, http.StatusUnauthorized, "invalid_client")
			if got := r.Header.Get("WWW-Authenticate"); got != `Basic realm="gatehouse"` {
				t.Errorf("WWW-Authenticate %q", got)
			}
			wantError(t, post(path, map[string]string{"Authorization": servertest.BasicAuth(s.client.ID, "wrong")}, base), 401, "invalid_client")
			wantError(t, post(path, map[string]string{"Authorization": servertest.BasicAuth("unknown", "x")}, base), 401, "invalid_client")
			wantError(t, post(path, map[string]string{"Authorization": "Basic !!!not-base64"}, base), 401, "invalid_client")
			wantError(t, post(path, map[string]string{"Authorization": servertest.BasicAuth("%zz", "x")}, base), 401, "invalid_client")
			withSecret := url.Values{"client_id": {s.client.ID}, "client_secret": {"wrong"}, "grant_type": {"client_credentials"}, "token": {"x"}}
			wantError(t, post(path, nil, withSecret), 401, "invalid_client")
			// Both methods at once.
			both := url.Values{"client_id": {s.client.ID}, "client_secret": {s.client.Secret}, "grant_type": {"client_credentials"}, "token": {"x"}}
			wantError(t, post(path, map[string]string{"Authorization": basic}, both), 400, "invalid_request")
			// client_secret_post works.
			ok := url.Values{"client_id": {s.client.ID}, "client_secret": {s.client.Secret}, "grant_type": {"client_credentials"}, "token": {"x"}}
			if r := post(path, nil, ok); r.Status != http.StatusOK {
				t.Errorf("client_secret_post: %d %s", r.Status, r.Body)
			}
		})
	}
	// Enough failures lock the client out from this address: even the
	// right secret is refused for a while, with Retry-After.
	for range 20 {
		post("/oauth2/token", map[string]string{"Authorization": servertest.BasicAuth(s.client.ID, "wrong")}, url.Values{"grant_type": {"client_credentials"}})
	}
	r := post("/oauth2/token", map[string]string{"Authorization": basic}, url.Values{"grant_type": {"client_credentials"}})
	wantError(t, r, http.StatusUnauthorized, "invalid_client")
	if r.Header.Get("Retry-After") == "" {
		t.Error("locked client without Retry-After")
	}
}

// TestErrors_Transport: content type, size, methods and unknown paths of
// the family, in its own error style.
func TestErrors_Transport(t *testing.T) {
	s := newSetup(t, servertest.Options{})
	env := s.env
	basic := map[string]string{"Authorization": servertest.BasicAuth(s.client.ID, s.client.Secret)}
	r := env.Do(servertest.Request{Method: "POST", Path: "/oauth2/token", JSON: map[string]any{"grant_type": "client_credentials"}, Header: basic})
	wantError(t, r, http.StatusBadRequest, "invalid_request")

	big := url.Values{"grant_type": {"client_credentials"}, "pad": {strings.Repeat("x", 70<<10)}}
	r = env.OAuth2("/oauth2/token", &s.client, big)
	wantError(t, r, http.StatusBadRequest, "invalid_request")

	r = env.Do(servertest.Request{Method: "GET", Path: "/oauth2/token"})
	wantError(t, r, http.StatusMethodNotAllowed, "invalid_request")
	if r.Header.Get("Allow") == "" {
		t.Error("405 without Allow")
	}
	wantError(t, env.Do(servertest.Request{Method: "GET", Path: "/oauth2/nope"}), http.StatusNotFound, "invalid_request")

	// Parameters in the query string are not read.
	h := map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Authorization": basic["Authorization"]}
	r = env.Do(servertest.Request{Method: "POST", Path: "/oauth2/token?grant_type=client_credentials", Body: strings.NewReader(""), Header: h})
	wantError(t, r, http.StatusBadRequest, "invalid_request")
}

// TestErrors_UserInfoBearer: RFC 6750 answers of the userinfo endpoint.
func TestErrors_UserInfoBearer(t *testing.T) {
	s := newSetup(t, servertest.Options{})
	env := s.env
	r := env.Do(servertest.Request{Method: "GET", Path: "/oauth2/userinfo"})
	if r.Status != http.StatusUnauthorized || r.Header.Get("WWW-Authenticate") != `Bearer realm="gatehouse"` {
		t.Errorf("no token: %d %q", r.Status, r.Header.Get("WWW-Authenticate"))
	}
	r = env.Do(servertest.Request{Method: "GET", Path: "/oauth2/userinfo", Bearer: "garbage"})
	wantError(t, r, http.StatusUnauthorized, "invalid_token")
	if !strings.Contains(r.Header.Get("WWW-Authenticate"), `error="invalid_token"`) {
		t.Errorf("WWW-Authenticate %q", r.Header.Get("WWW-Authenticate"))
	}
	// A token whose scope lacks openid: 403 insufficient_scope.
	a := s.password(t, s.client, "profile")
	r = env.Do(servertest.Request{Method: "GET", Path: "/oauth2/userinfo", Bearer: a.AccessToken})
	wantError(t, r, http.StatusForbidden, "insufficient_scope")
	// A client-credentials token has no user.
	cc := s.grant(t, s.client, url.Values{"grant_type": {"client_credentials"}})
	wantError(t, env.Do(servertest.Request{Method: "GET", Path: "/oauth2/userinfo", Bearer: cc.AccessToken}), http.StatusUnauthorized, "invalid_token")
	// A first-party token (no scope) gets every claim, by GET and POST.
	tk := env.Login("", "alice", alicePassword)
	for _, m := range []string{"GET", "POST"} {
		r = env.Do(servertest.Request{Method: m, Path: "/oauth2/userinfo", Bearer: tk.AccessToken})
		if r.Status != http.StatusOK || r.JSON(t)["email"] != "alice@example.com" || r.JSON(t)["sub"] != s.userID {
			t.Errorf("%s userinfo: %d %s", m, r.Status, r.Body)
		}
	}
}
