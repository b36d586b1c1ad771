package native_test

import (
	"net/http"
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/server/servertest"
)

func sessionsOf(t *testing.T, env *servertest.Env, access string) []map[string]any {
	t.Helper()
	r := env.Do(servertest.Request{Method: "GET", Path: "/auth/sessions", Bearer: access})
	if r.Status != http.StatusOK {
		t.Fatalf("sessions: %d %s", r.Status, r.Body)
	}
	var out []map[string]any
	for _, s := range r.JSON(t)["sessions"].([]any) {
		out = append(out, s.(map[string]any))
	}
	return out
}

func TestSessions_ListAndRevokeOwn(t *testing.T) {
	env, a := newUser(t, servertest.Options{})
	b := env.Login("", "alice", pw)
	list := sessionsOf(t, env, a.AccessToken)
	if len(list) != 2 {
		t.Fatalf("want 2 sessions, got %d", len(list))
	}
	var other string
	current := 0
	for _, s := range list {
		for _, k := range []string{"id", "client_id", "amr", "ip", "user_agent", "created_at", "last_used_at", "expires_at", "current"} {
			if _, ok := s[k]; !ok {
				t.Fatalf("session lacks %q: %v", k, s)
			}
		}
		if s["current"] == true {
			current++
		} else {
			other = s["id"].(string)
		}
	}
	if current != 1 {
		t.Fatalf("want exactly one current session, got %d", current)
	}
	if r := env.Do(servertest.Request{Method: "DELETE", Path: "/auth/sessions/" + other, Bearer: a.AccessToken}); r.Status != http.StatusNoContent {
		t.Fatalf("delete session: %d %s", r.Status, r.Body)
	}
	if r := env.Me("", b.AccessToken); r.Status != http.StatusUnauthorized {
		t.Fatalf("revoked session's access token accepted: %d", r.Status)
	}
	wantInvalidGrant(t, env.Refresh("", b.RefreshToken))
	if r := env.Do(servertest.Request{Method: "DELETE", Path: "/auth/sessions/nope", Bearer: a.AccessToken}); r.Status != http.StatusNotFound {
		t.Fatalf("unknown session: %d", r.Status)
	}
}

func TestSessions_CannotRevokeAnotherUsersSession(t *testing.T) {
	env, a := newUser(t, servertest.Options{})
	env.CreateUser("", map[string]any{"username": "bob", "password": pw})
	b := env.Login("", "bob", pw)
	bobSession := sessionsOf(t, env, b.AccessToken)[0]["id"].(string)
	if r := env.Do(servertest.Request{Method: "DELETE", Path: "/auth/sessions/" + bobSession, Bearer: a.AccessToken}); r.Status != http.StatusNotFound {
		t.Fatalf("revoked another user's session: %d", r.Status)
	}
	if r := env.Me("", b.AccessToken); r.Status != http.StatusOK {
		t.Fatalf("bob's session harmed: %d", r.Status)
	}
}

func TestLogout(t *testing.T) {
	env, tk := newUser(t, servertest.Options{})
	if r := env.Do(servertest.Request{Method: "POST", Path: "/auth/logout", Bearer: tk.AccessToken}); r.Status != http.StatusNoContent {
		t.Fatalf("logout: %d %s", r.Status, r.Body)
	}
	if r := env.Me("", tk.AccessToken); r.Status != http.StatusUnauthorized {
		t.Fatalf("access token valid after logout: %d", r.Status)
	}
	wantInvalidGrant(t, env.Refresh("", tk.RefreshToken))
	if r := env.Do(servertest.Request{Method: "POST", Path: "/auth/logout"}); r.Status != http.StatusUnauthorized || r.Header.Get("WWW-Authenticate") == "" {
		t.Fatalf("logout without token: %d %v", r.Status, r.Header)
	}
}

func TestPasswordChange(t *testing.T) {
	env, a := newUser(t, servertest.Options{})
	b := env.Login("", "alice", pw)
	change := func(old, nw string) *servertest.Response {
		return env.Do(servertest.Request{Method: "POST", Path: "/auth/password/change", Bearer: a.AccessToken,
			JSON: map[string]any{"old_password": old, "new_password": nw}})
	}
	if r := change("wrong old password", "a brand new secret"); r.Status != http.StatusUnauthorized {
		t.Fatalf("wrong old password: %d %s", r.Status, r.Body)
	}
	for _, bad := range []string{"short", "alice", "alice@example.com", pw} {
		if r := change(pw, bad); r.Status != http.StatusBadRequest {
			t.Fatalf("policy accepted %q: %d %s", bad, r.Status, r.Body)
		}
	}
	if r := change(pw, "a brand new secret"); r.Status != http.StatusNoContent {
		t.Fatalf("change: %d %s", r.Status, r.Body)
	}
	if r := env.Me("", a.AccessToken); r.Status != http.StatusOK {
		t.Fatalf("current session revoked by its own password change: %d", r.Status)
	}
	if r := env.Me("", b.AccessToken); r.Status != http.StatusUnauthorized {
		t.Fatalf("other session survived the password change: %d", r.Status)
	}
	if r := login(env, "", "alice", pw, nil); r.Status != http.StatusUnauthorized {
		t.Fatalf("old password still works: %d", r.Status)
	}
	env.Login("", "alice", "a brand new secret")
}

func TestMustChangePassword_RestrictsTokens(t *testing.T) {
	env := servertest.New(t, servertest.Options{})
	env.CreateUser("", map[string]any{"username": "carol", "password": pw, "must_change_password": true})
	r := login(env, "", "carol", pw, nil)
	if r.Status != http.StatusOK {
		t.Fatalf("login: %d %s", r.Status, r.Body)
	}
	m := r.JSON(t)
	if m["must_change_password"] != true || m["password_warning"] != "expired" {
		t.Fatalf("must_change_password not reported: %s", r.Body)
	}
	access := m["access_token"].(string)
	if r := env.Me("", access); r.Status != http.StatusForbidden || r.JSON(t)["error"] != "password_change_required" {
		t.Fatalf("restricted token used elsewhere: %d %s", r.Status, r.Body)
	}
	r = env.Do(servertest.Request{Method: "POST", Path: "/auth/password/change", Bearer: access,
		JSON: map[string]any{"old_password": pw, "new_password": "a brand new secret"}})
	if r.Status != http.StatusNoContent {
		t.Fatalf("change: %d %s", r.Status, r.Body)
	}
	tk := refreshOK(t, env, m["refresh_token"].(string))
	if r := env.Me("", tk.AccessToken); r.Status != http.StatusOK {
		t.Fatalf("token after change still restricted: %d %s", r.Status, r.Body)
	}
}
