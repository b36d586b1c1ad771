package server_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/server/servertest"
)

// Who a token is for, through the real server on both stores.

const audPassword = "correct horse battery staple"

// onBothStores runs fn on SQLite and on PostgreSQL.
func onBothStores(t *testing.T, fn func(t *testing.T, opts servertest.Options)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, servertest.Options{}) })
	t.Run("postgres", func(t *testing.T) { fn(t, servertest.Options{Postgres: true}) })
}

// audEnv is a server with the administrator alice (role admin) and an
// app-backend client.
type audEnv struct {
	*servertest.Env
	aliceID string
	app     servertest.Client
}

func newAudEnv(t *testing.T, opts servertest.Options) *audEnv {
	t.Helper()
	env := servertest.New(t, opts)
	id := env.CreateUser("", map[string]any{"username": "alice", "password": audPassword, "roles": []string{"admin"}})
	return &audEnv{Env: env, aliceID: id, app: env.CreateClient("", "shop")}
}

// appLogin opens an app session from an access token through
// login/verify and returns the app's data, failing unless code 0.
func (e *audEnv) appLogin(t *testing.T, access string) map[string]any {
	t.Helper()
	r := e.App("POST", "/api/v1/public/login/verify", e.app, url.Values{"token": {access}, "grantType": {"refresh_token"}})
	m := r.JSON(t)
	if m["code"] != float64(0) {
		t.Fatalf("login/verify: %s", r.Body)
	}
	return m["data"].(map[string]any)
}

// appCode is the code of an app-family call.
func (e *audEnv) appCode(t *testing.T, method, path string, form url.Values) float64 {
	t.Helper()
	code, _ := e.App(method, path, e.app, form).JSON(t)["code"].(float64)
	return code
}

// appAlive reports whether an app session's access and refresh tokens
// still work for the app.
func (e *audEnv) appAlive(t *testing.T, access, refresh string) (accessOK, refreshOK bool) {
	t.Helper()
	return e.appCode(t, "POST", "/api/v1/app/token/access/verify", url.Values{"token": {access}}) == 0,
		e.appCode(t, "POST", "/api/v1/app/token/refresh", url.Values{"token": {refresh}}) == 0
}

func (e *audEnv) status(method, path, bearer string, body any) int {
	return e.Do(servertest.Request{Method: method, Path: path, Bearer: bearer, JSON: body}).Status
}

// TestAudience_AppTokenNotAcceptedByGatehouse is the reproduced attack: an
// app backend opens an app session from an administrator's token; the app
// family's access token must not work at /auth/* or /admin/*, and the app
// session must end with the session that opened it (logout, reuse).
func TestAudience_AppTokenNotAcceptedByGatehouse(t *testing.T) {
	onBothStores(t, func(t *testing.T, opts servertest.Options) {
		e := newAudEnv(t, opts)
		user := e.Login("", "alice", audPassword)
		d := e.appLogin(t, user.AccessToken)
		appAccess, appRefresh := d["accessToken"].(string), d["refreshToken"].(string)

		if aud := claimsOf(t, appAccess)["aud"]; !audIs(aud, e.app.ID) {
			t.Errorf("app token aud = %v, want the app's client alone", aud)
		}
		for _, c := range []struct {
			method, path string
			body         any
		}{
			{"GET", "/auth/me", nil},
			{"GET", "/auth/sessions", nil},
			{"POST", "/auth/mfa/totp/enroll", map[string]any{}},
			{"GET", "/admin/users", nil},
			{"POST", "/admin/tickets", map[string]any{"user_id": e.aliceID, "purpose": "signin"}},
		} {
			if got := e.status(c.method, c.path, appAccess, c.body); got != http.StatusUnauthorized {
				t.Errorf("%s %s with an app token: %d, want 401", c.method, c.path, got)
			}
		}
		// The administrator's own token works there.
		if got := e.status("GET", "/admin/users", user.AccessToken, nil); got != http.StatusOK {
			t.Errorf("GET /admin/users with the first-party token: %d", got)
		}
		// An app token cannot open another app session either.
		if code := e.appCode(t, "POST", "/api/v1/public/login/verify", url.Values{"token": {appAccess}, "grantType": {"refresh_token"}}); code != 31 {
			t.Errorf("login/verify with an app token: code %v, want 31", code)
		}

		// Logout ends the child.
		if got := e.status("POST", "/auth/logout", user.AccessToken, nil); got != http.StatusNoContent {
			t.Fatalf("logout: %d", got)
		}
		if a, r := e.appAlive(t, appAccess, appRefresh); a || r {
			t.Errorf("after logout the app session lives: access %v, refresh %v", a, r)
		}

		// A refresh-token reuse ends the child too.
		user = e.Login("", "alice", audPassword)
		d = e.appLogin(t, user.AccessToken)
		appAccess, appRefresh = d["accessToken"].(string), d["refreshToken"].(string)
		if r := e.Refresh("", user.RefreshToken); r.Status != http.StatusOK {
			t.Fatalf("refresh: %d %s", r.Status, r.Body)
		}
		if r := e.Refresh("", user.RefreshToken); r.Status != http.StatusBadRequest {
			t.Fatalf("reuse: %d %s", r.Status, r.Body)
		}
		if a, r := e.appAlive(t, appAccess, appRefresh); a || r {
			t.Errorf("after a reuse revocation the app session lives: access %v, refresh %v", a, r)
		}
	})
}

// TestAudience_ChildSessionsEndWithTheUser: password change, disabling and
// deleting the user end the app sessions; the revocation feed lists them.
func TestAudience_ChildSessionsEndWithTheUser(t *testing.T) {
	onBothStores(t, func(t *testing.T, opts servertest.Options) {
		e := newAudEnv(t, opts)
		bob := e.CreateUser("", map[string]any{"username": "bob", "password": audPassword})
		open := func() (string, string, string) {
			tk := e.Login("", "bob", audPassword)
			d := e.appLogin(t, tk.AccessToken)
			return tk.AccessToken, d["accessToken"].(string), d["refreshToken"].(string)
		}
		feed := servertest.Client{ID: e.app.ID, Secret: e.app.Secret}

		user, access, refresh := open()
		sid, _ := claimsOf(t, access)["sid"].(string)
		newPassword := "another long password 2"
		if got := e.status("POST", "/auth/password/change", user, map[string]any{"old_password": audPassword, "new_password": newPassword}); got != http.StatusNoContent {
			t.Fatalf("password change: %d", got)
		}
		if a, r := e.appAlive(t, access, refresh); a || r {
			t.Errorf("after a password change the app session lives: %v %v", a, r)
		}
		if !feedHas(t, e.Env, feed, sid) {
			t.Errorf("the revocation feed does not list the app session %s", sid)
		}

		audPasswordNow := newPassword
		tk := e.Login("", "bob", audPasswordNow)
		d := e.appLogin(t, tk.AccessToken)
		access, refresh = d["accessToken"].(string), d["refreshToken"].(string)
		if r := e.Admin("PATCH", "/admin/users/"+bob, "", map[string]any{"status": "disabled"}); r.Status != http.StatusOK {
			t.Fatalf("disable: %d %s", r.Status, r.Body)
		}
		if a, r := e.appAlive(t, access, refresh); a || r {
			t.Errorf("after disabling the user the app session lives: %v %v", a, r)
		}
		if r := e.Admin("PATCH", "/admin/users/"+bob, "", map[string]any{"status": "active"}); r.Status != http.StatusOK {
			t.Fatalf("enable: %d %s", r.Status, r.Body)
		}
		tk = e.Login("", "bob", audPasswordNow)
		d = e.appLogin(t, tk.AccessToken)
		access, refresh = d["accessToken"].(string), d["refreshToken"].(string)
		if r := e.Admin("DELETE", "/admin/users/"+bob, "", nil); r.Status != http.StatusNoContent {
			t.Fatalf("delete: %d %s", r.Status, r.Body)
		}
		if a, r := e.appAlive(t, access, refresh); a || r {
			t.Errorf("after deleting the user the app session lives: %v %v", a, r)
		}
	})
}

// TestAudience_LoginVerifyTakesFirstPartyTokensOnly: a token of a
// third-party OAuth 2.0 client cannot open an app session; one of a
// first-party client can.
func TestAudience_LoginVerifyTakesFirstPartyTokensOnly(t *testing.T) {
	e := newAudEnv(t, servertest.Options{})
	third := e.CreateOAuthClient("", map[string]any{"name": "third"})
	first := e.CreateOAuthClient("", map[string]any{"name": "first", "first_party": true})
	for _, c := range []struct {
		client servertest.Client
		want   float64
	}{{third, 31}, {first, 0}} {
		a := passwordGrant(t, e.Env, c.client, "")
		code := e.appCode(t, "POST", "/api/v1/public/login/verify", url.Values{"token": {a["access_token"].(string)}, "grantType": {"refresh_token"}})
		if code != c.want {
			t.Errorf("login/verify with a token of %s: code %v, want %v", c.client.ID, code, c.want)
		}
	}
}

// TestAudience_FirstPartyClients: only first-party tokens at /auth/* and
// /admin/*; the role admin still decides at /admin/*; first_party is set
// on creation and by PATCH and shown in the client views.
func TestAudience_FirstPartyClients(t *testing.T) {
	onBothStores(t, func(t *testing.T, opts servertest.Options) {
		e := newAudEnv(t, opts)
		e.CreateUser("", map[string]any{"username": "carol", "password": audPassword})
		third := e.CreateOAuthClient("", map[string]any{"name": "third"})
		first := e.CreateOAuthClient("", map[string]any{"name": "first", "first_party": true})

		if v := e.Admin("GET", "/admin/clients/"+first.ID, "", nil).JSON(t); v["first_party"] != true {
			t.Errorf("client view: %v", v)
		}
		a := passwordGrant(t, e.Env, third, "")
		at := a["access_token"].(string)
		if aud := claimsOf(t, at)["aud"]; !audIs(aud, third.ID) {
			t.Errorf("third-party aud = %v", aud)
		}
		if got := e.Me("", at).Status; got != http.StatusUnauthorized {
			t.Errorf("/auth/me with a third-party token: %d", got)
		}
		if got := e.status("GET", "/admin/users", at, nil); got != http.StatusUnauthorized {
			t.Errorf("/admin/users with a third-party admin token: %d", got)
		}

		a = passwordGrant(t, e.Env, first, "")
		at = a["access_token"].(string)
		if aud := claimsOf(t, at)["aud"]; !audIs(aud, "http://gatehouse.test", first.ID) {
			t.Errorf("first-party aud = %v", aud)
		}
		if got := e.Me("", at).Status; got != http.StatusOK {
			t.Errorf("/auth/me with a first-party token: %d", got)
		}
		if got := e.status("GET", "/admin/users", at, nil); got != http.StatusOK {
			t.Errorf("/admin/users with a first-party admin token: %d", got)
		}
		carol := passwordGrantAs(t, e.Env, first, "carol", "")
		if got := e.status("GET", "/admin/users", carol["access_token"].(string), nil); got != http.StatusForbidden {
			t.Errorf("/admin/users with a first-party token without role admin: %d, want 403", got)
		}

		// PATCH first_party: new sessions follow.
		r := e.Admin("PATCH", "/admin/clients/"+first.ID, "", map[string]any{"first_party": false})
		if r.Status != http.StatusOK || r.JSON(t)["first_party"] != false {
			t.Fatalf("PATCH first_party: %d %s", r.Status, r.Body)
		}
		at = passwordGrant(t, e.Env, first, "")["access_token"].(string)
		if got := e.Me("", at).Status; got != http.StatusUnauthorized {
			t.Errorf("/auth/me after first_party false: %d", got)
		}
	})
}

// TestAudience_AdminByTokenNeedsAnInteractiveSession: a client_credentials
// token, even of a first-party client, never administers.
func TestAudience_AdminByTokenNeedsAnInteractiveSession(t *testing.T) {
	e := newAudEnv(t, servertest.Options{})
	first := e.CreateOAuthClient("", map[string]any{"name": "first", "first_party": true})
	r := e.OAuth2("/oauth2/token", &first, url.Values{"grant_type": {"client_credentials"}})
	if r.Status != http.StatusOK {
		t.Fatalf("client_credentials: %d %s", r.Status, r.Body)
	}
	cc := r.JSON(t)["access_token"].(string)
	for _, p := range []string{"/admin/users", "/admin/clients"} {
		if got := e.status("GET", p, cc, nil); got != http.StatusUnauthorized {
			t.Errorf("GET %s with a client_credentials token: %d, want 401", p, got)
		}
	}
	if got := e.Me("", cc).Status; got != http.StatusUnauthorized {
		t.Errorf("/auth/me with a client_credentials token: %d", got)
	}
	// Ticket and password sign-ins of the administrator administer.
	ticket := e.IssueTicket("", e.aliceID, "signin")
	tr := e.TicketSignin("", ticket)
	if tr.Status != http.StatusOK {
		t.Fatalf("ticket sign-in: %d %s", tr.Status, tr.Body)
	}
	if got := e.status("GET", "/admin/users", tr.JSON(t)["access_token"].(string), nil); got != http.StatusOK {
		t.Errorf("GET /admin/users with a ticket sign-in: %d", got)
	}
}

// TestAudience_UserInfo: first-party tokens, and third-party tokens granted
// openid; not app tokens, not third-party tokens without openid.
func TestAudience_UserInfo(t *testing.T) {
	e := newAudEnv(t, servertest.Options{})
	third := e.CreateOAuthClient("", map[string]any{"name": "third"})
	userinfo := func(at string) int {
		return e.Do(servertest.Request{Method: "GET", Path: "/oauth2/userinfo", Bearer: at}).Status
	}
	native := e.Login("", "alice", audPassword)
	app := e.appLogin(t, native.AccessToken)["accessToken"].(string)
	for _, c := range []struct {
		name, token string
		want        int
	}{
		{"first-party", native.AccessToken, http.StatusOK},
		{"third-party with openid", passwordGrant(t, e.Env, third, "openid")["access_token"].(string), http.StatusOK},
		{"third-party without openid", passwordGrant(t, e.Env, third, "profile")["access_token"].(string), http.StatusForbidden},
		{"app token", app, http.StatusForbidden},
	} {
		if got := userinfo(c.token); got != c.want {
			t.Errorf("userinfo with a %s token: %d, want %d", c.name, got, c.want)
		}
	}
}

// TestAudience_NativeClientID: client_id must name a client of the tenant;
// a confidential client authenticates (body or Basic); a public client
// needs its id alone.
func TestAudience_NativeClientID(t *testing.T) {
	e := newAudEnv(t, servertest.Options{})
	if r := e.Admin("POST", "/admin/tenants", "", map[string]any{"id": "other", "name": "Other"}); r.Status != http.StatusCreated {
		t.Fatalf("tenant: %d %s", r.Status, r.Body)
	}
	foreign := e.CreateClient("other", "foreign")
	conf := e.CreateOAuthClient("", map[string]any{"name": "conf"})
	pub := e.CreateOAuthClient("", map[string]any{"name": "spa", "public": true})
	login := func(body map[string]any, header map[string]string) *servertest.Response {
		b := map[string]any{"username": "alice", "password": audPassword}
		for k, v := range body {
			b[k] = v
		}
		return e.Do(servertest.Request{Method: "POST", Path: "/auth/login", JSON: b, Header: header})
	}
	for _, c := range []struct {
		name   string
		body   map[string]any
		header map[string]string
		status int
		errID  string
	}{
		{"unknown client", map[string]any{"client_id": "no-such-client"}, nil, 400, "invalid_request"},
		{"malformed client", map[string]any{"client_id": "a b\x00"}, nil, 400, "invalid_request"},
		{"client of another tenant", map[string]any{"client_id": foreign.ID, "client_secret": foreign.Secret}, nil, 400, "invalid_request"},
		{"confidential without secret", map[string]any{"client_id": conf.ID}, nil, 401, "invalid_client"},
		{"confidential with a wrong secret", map[string]any{"client_id": conf.ID, "client_secret": "wrong"}, nil, 401, "invalid_client"},
		{"secret without client", map[string]any{"client_secret": conf.Secret}, nil, 400, "invalid_request"},
		{"built-in with a secret", map[string]any{"client_id": "gatehouse", "client_secret": "x"}, nil, 401, "invalid_client"},
		{"confidential with its secret", map[string]any{"client_id": conf.ID, "client_secret": conf.Secret}, nil, 200, ""},
		{"confidential by Basic", nil, map[string]string{"Authorization": servertest.BasicAuth(conf.ID, conf.Secret)}, 200, ""},
		{"public by id", map[string]any{"client_id": pub.ID}, nil, 200, ""},
		{"built-in by id", map[string]any{"client_id": "gatehouse"}, nil, 200, ""},
	} {
		r := login(c.body, c.header)
		if r.Status != c.status || (c.errID != "" && r.JSON(t)["error"] != c.errID) {
			t.Errorf("%s: %d %s, want %d %s", c.name, r.Status, r.Body, c.status, c.errID)
		}
	}
}

// TestAudience_SessionsBelongToTheirClient: a confidential client's session
// rotates only at the token endpoint with that client; refusals elsewhere,
// even many at once, revoke nothing. A public client's session refreshes
// through native, legacy and standard alike.
func TestAudience_SessionsBelongToTheirClient(t *testing.T) {
	onBothStores(t, func(t *testing.T, opts servertest.Options) {
		e := newAudEnv(t, opts)
		conf := e.CreateOAuthClient("", map[string]any{"name": "conf"})
		other := e.CreateOAuthClient("", map[string]any{"name": "other"})
		pub := e.CreateOAuthClient("", map[string]any{"name": "spa", "public": true})
		builtin := servertest.Client{ID: "gatehouse"}

		a := passwordGrant(t, e.Env, conf, "offline_access")
		rt := a["refresh_token"].(string)
		// Rotate once, so that the refused presentations below include a
		// rotated token, which from its own client would be a reuse.
		b := refreshGrant(t, e.Env, conf, rt, http.StatusOK)
		next := b["refresh_token"].(string)
		var wg sync.WaitGroup
		statuses := make(chan int, 40)
		for i := 0; i < 10; i++ {
			for _, tok := range []string{rt, next} {
				wg.Add(2)
				go func() { defer wg.Done(); statuses <- e.Refresh("", tok).Status }()
				go func() { defer wg.Done(); statuses <- legacyRefresh(e.Env, tok) }()
			}
		}
		wg.Wait()
		close(statuses)
		for s := range statuses {
			if s != http.StatusBadRequest { // native status, legacy body code
				t.Errorf("a refused refresh answered %d", s)
			}
		}
		refreshGrant(t, e.Env, other, next, http.StatusBadRequest)
		refreshGrant(t, e.Env, builtin, next, http.StatusBadRequest)
		// Nothing was revoked: the active token rotates for its client, and
		// the access token still works.
		if got := e.Do(servertest.Request{Method: "GET", Path: "/oauth2/userinfo", Bearer: b["access_token"].(string)}).Status; got != http.StatusForbidden {
			// no openid granted: 403 means the token is live, 401 revoked.
			t.Errorf("userinfo after refusals: %d, want 403 (live, no openid)", got)
		}
		refreshGrant(t, e.Env, conf, next, http.StatusOK)

		// A public client's session: native, legacy and standard alike.
		r := e.Do(servertest.Request{Method: "POST", Path: "/auth/login",
			JSON: map[string]any{"username": "alice", "password": audPassword, "client_id": pub.ID}})
		if r.Status != http.StatusOK {
			t.Fatalf("public login: %d %s", r.Status, r.Body)
		}
		var tk servertest.Tokens
		r.Decode(t, &tk)
		if aud := claimsOf(t, tk.AccessToken)["aud"]; !audIs(aud, pub.ID) {
			t.Errorf("public client aud = %v", aud)
		}
		nr := e.Refresh("", tk.RefreshToken)
		if nr.Status != http.StatusOK {
			t.Fatalf("native refresh of a public session: %d %s", nr.Status, nr.Body)
		}
		nr.Decode(t, &tk)
		refreshGrant(t, e.Env, other, tk.RefreshToken, http.StatusBadRequest)
		s := refreshGrant(t, e.Env, pub, tk.RefreshToken, http.StatusOK)
		if got := legacyRefresh(e.Env, s["refresh_token"].(string)); got != 0 {
			t.Errorf("legacy refresh of a public session: code %d", got)
		}
	})
}

// TestAudience_DeletingAClientRevokesItsSessions: the client's sessions and
// the app sessions opened from them end at once, with records in the feed
// and audit events.
func TestAudience_DeletingAClientRevokesItsSessions(t *testing.T) {
	onBothStores(t, func(t *testing.T, opts servertest.Options) {
		e := newAudEnv(t, opts)
		first := e.CreateOAuthClient("", map[string]any{"name": "first", "first_party": true})
		a := passwordGrant(t, e.Env, first, "openid offline_access")
		at := a["access_token"].(string)
		sid, _ := claimsOf(t, at)["sid"].(string)
		d := e.appLogin(t, at)
		appAccess, appRefresh := d["accessToken"].(string), d["refreshToken"].(string)

		if r := e.Admin("DELETE", "/admin/clients/"+first.ID, "", nil); r.Status != http.StatusNoContent {
			t.Fatalf("delete client: %d %s", r.Status, r.Body)
		}
		if got := e.Me("", at).Status; got != http.StatusUnauthorized {
			t.Errorf("/auth/me after the client's deletion: %d", got)
		}
		if got := e.Do(servertest.Request{Method: "GET", Path: "/oauth2/userinfo", Bearer: at}).Status; got != http.StatusUnauthorized {
			t.Errorf("userinfo after the client's deletion: %d", got)
		}
		if a, r := e.appAlive(t, appAccess, appRefresh); a || r {
			t.Errorf("the app session opened from the client's session lives: %v %v", a, r)
		}
		if !feedHas(t, e.Env, e.app, sid) {
			t.Errorf("the revocation feed does not list the deleted client's session")
		}
		audit := e.Admin("GET", "/admin/audit?type=session_revoked", "", nil)
		if !strings.Contains(string(audit.Body), "client_deleted") || !strings.Contains(string(audit.Body), sid) {
			t.Errorf("no session_revoked event for the deleted client's session: %s", audit.Body)
		}
	})
}

// TestAudience_IntrospectRestrictedTokenInactive: a token that allows only a
// password change is inactive for resource servers.
func TestAudience_IntrospectRestrictedTokenInactive(t *testing.T) {
	e := newAudEnv(t, servertest.Options{})
	e.CreateUser("", map[string]any{"username": "rita", "password": audPassword, "must_change_password": true})
	rita := e.Login("", "rita", audPassword)
	rs := e.CreateOAuthClient("", map[string]any{"name": "resource-server"})
	r := e.OAuth2("/oauth2/introspect", &rs, url.Values{"token": {rita.AccessToken}})
	if r.Status != http.StatusOK {
		t.Fatalf("introspect: %d %s", r.Status, r.Body)
	}
	if m := r.JSON(t); m["active"] != false || len(m) != 1 {
		t.Errorf("introspection of a restricted token: %v", m)
	}
	alice := e.Login("", "alice", audPassword)
	if m := e.OAuth2("/oauth2/introspect", &rs, url.Values{"token": {alice.AccessToken}}).JSON(t); m["active"] != true {
		t.Errorf("introspection of an ordinary token: %v", m)
	}
}

func passwordGrant(t *testing.T, env *servertest.Env, c servertest.Client, scope string) map[string]any {
	t.Helper()
	return passwordGrantAs(t, env, c, "alice", scope)
}

func passwordGrantAs(t *testing.T, env *servertest.Env, c servertest.Client, user, scope string) map[string]any {
	t.Helper()
	r := env.OAuth2("/oauth2/token", &c, url.Values{"grant_type": {"password"}, "username": {user}, "password": {audPassword}, "scope": {scope}})
	if r.Status != http.StatusOK {
		t.Fatalf("password grant: %d %s", r.Status, r.Body)
	}
	return r.JSON(t)
}

func refreshGrant(t *testing.T, env *servertest.Env, c servertest.Client, rt string, want int) map[string]any {
	t.Helper()
	r := env.OAuth2("/oauth2/token", &c, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}})
	if r.Status != want {
		t.Fatalf("refresh grant as %s: %d %s, want %d", c.ID, r.Status, r.Body, want)
	}
	return r.JSON(t)
}

// legacyRefresh presents a refresh token to the legacy family and returns
// its code (0 on success).
func legacyRefresh(env *servertest.Env, rt string) int {
	r := env.Do(servertest.Request{Method: "GET", Path: "/bo/api/v3/auth/token/refresh?_nodejs=common-data&refreshToken=" + url.QueryEscape(rt),
		Header: map[string]string{"XownerId": "default"}})
	var m struct {
		Code int `json:"code"`
	}
	if err := json.Unmarshal(r.Body, &m); err != nil {
		return -1
	}
	return m.Code
}

// feedHas reports whether the revocation feed, read by client c, lists sid.
func feedHas(t *testing.T, env *servertest.Env, c servertest.Client, sid string) bool {
	t.Helper()
	r := env.Do(servertest.Request{Method: "GET", Path: "/oauth2/revocations?since=0",
		Header: map[string]string{"Authorization": servertest.BasicAuth(c.ID, c.Secret)}})
	if r.Status != http.StatusOK {
		t.Fatalf("revocation feed: %d %s", r.Status, r.Body)
	}
	return strings.Contains(string(r.Body), `"`+sid+`"`)
}

// claimsOf decodes the (already verified by the server) payload of a JWT.
func claimsOf(t *testing.T, jwt string) map[string]any {
	t.Helper()
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", jwt)
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

// audIs reports whether aud (a string or an array) is exactly want.
func audIs(aud any, want ...string) bool {
	switch v := aud.(type) {
	case string:
		return len(want) == 1 && v == want[0]
	case []any:
		if len(v) != len(want) {
			return false
		}
		for i := range v {
			if v[i] != want[i] {
				return false
			}
		}
		return true
	}
	return false
}
