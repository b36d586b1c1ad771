package native_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/server/servertest"
)

const day = 24 * time.Hour

// expiryEnv starts a server whose passwords expire after 90 days (warning 14
// days before, grace 7 days after), with alice, an administrator, whose
// password was set at the clock's start.
func expiryEnv(t *testing.T) (*servertest.Env, string) {
	t.Helper()
	env := servertest.New(t, servertest.Options{Env: map[string]string{
		"GATEHOUSE_PASSWORD_MAX_AGE":     "90d",
		"GATEHOUSE_PASSWORD_WARN_BEFORE": "14d",
		"GATEHOUSE_PASSWORD_GRACE":       "7d",
	}})
	id := env.CreateUser("", map[string]any{"username": "alice", "email": "alice@example.com", "password": pw, "roles": []string{"admin"}})
	return env, id
}

// passwordState is the password part of a LoginResponse or UserInfo.
type passwordState struct {
	MustChange bool   `json:"must_change_password"`
	ExpiresIn  *int   `json:"password_expires_in"`
	Warning    string `json:"password_warning"`
}

func wantState(t *testing.T, what string, r *servertest.Response, must bool, days int, warning string) {
	t.Helper()
	if r.Status != http.StatusOK {
		t.Fatalf("%s: %d %s", what, r.Status, r.Body)
	}
	var st passwordState
	r.Decode(t, &st)
	if st.MustChange != must || st.ExpiresIn == nil || *st.ExpiresIn != days || st.Warning != warning {
		t.Fatalf("%s: %s; want must_change_password %v, password_expires_in %d, password_warning %q", what, r.Body, must, days, warning)
	}
}

func TestPasswordExpiry_States(t *testing.T) {
	env, _ := expiryEnv(t)
	tests := []struct {
		at      time.Duration // since the password was set
		must    bool
		days    int
		warning string
		limited bool // tokens allow only the password change
	}{
		{0, false, 90, "", false},
		{75*day + time.Hour, false, 14, "", false},
		{76 * day, false, 14, "expiring", false},
		{89*day + time.Hour, false, 0, "expiring", false},
		{90*day + time.Hour, true, -1, "expired_grace", false},
		{96*day + time.Hour, true, -7, "expired_grace", false},
		{97 * day, true, -7, "expired", true},
		{120 * day, true, -30, "expired", true},
	}
	start := env.Clock.Now()
	for _, tc := range tests {
		env.Clock.Advance(start.Add(tc.at).Sub(env.Clock.Now()))
		r := login(env, "", "alice", pw, nil)
		wantState(t, "login", r, tc.must, tc.days, tc.warning)
		lr := r.JSON(t)
		access := lr["access_token"].(string)
		me := env.Me("", access)
		if tc.limited {
			wantError(t, me, http.StatusForbidden, "password_change_required")
			// A refresh keeps the restriction.
			tk := refreshOK(t, env, lr["refresh_token"].(string))
			wantError(t, env.Me("", tk.AccessToken), http.StatusForbidden, "password_change_required")
			continue
		}
		wantState(t, "/auth/me", me, tc.must, tc.days, tc.warning)
	}
}

func TestPasswordExpiry_NeverExpiresByDefault(t *testing.T) {
	env, _ := newUser(t, servertest.Options{})
	env.Clock.Advance(1000 * day)
	m := login(env, "", "alice", pw, nil).JSON(t)
	if _, ok := m["password_expires_in"]; ok || m["password_warning"] != nil || m["must_change_password"] != false {
		t.Fatalf("a password expired although GATEHOUSE_PASSWORD_MAX_AGE is 0: %v", m)
	}
}

// restrictedCalls are requests of every family that a restricted token must
// not pass, each with the status it must get.
func restrictedCalls(id string) []servertest.Request {
	return []servertest.Request{
		{Method: "GET", Path: "/auth/me"},
		{Method: "GET", Path: "/auth/sessions"},
		{Method: "DELETE", Path: "/auth/sessions/some-session"},
		{Method: "POST", Path: "/auth/logout"},
		{Method: "POST", Path: "/auth/mfa/totp/enroll", JSON: map[string]any{}},
		{Method: "POST", Path: "/auth/mfa/totp/confirm", JSON: map[string]any{"code": "123456"}},
		{Method: "GET", Path: "/admin/users"},
		{Method: "GET", Path: "/admin/users/" + id},
		{Method: "DELETE", Path: "/admin/users/" + id + "/mfa"},
	}
}

func TestPasswordExpiry_RestrictedTokensOnlyChangeThePassword(t *testing.T) {
	env, id := expiryEnv(t)
	env.Clock.Advance(100 * day)
	other := login(env, "", "alice", pw, nil).JSON(t)
	r := login(env, "", "alice", pw, nil)
	wantState(t, "login", r, true, -10, "expired")
	lr := r.JSON(t)
	access := lr["access_token"].(string)
	for _, req := range restrictedCalls(id) {
		req.Bearer = access
		r := env.Do(req)
		wantError(t, r, http.StatusForbidden, "password_change_required")
	}
	// The change itself: policy first, then success.
	change := func(old, nw string) *servertest.Response {
		return env.Do(servertest.Request{Method: "POST", Path: "/auth/password/change", Bearer: access,
			JSON: map[string]any{"old_password": old, "new_password": nw}})
	}
	wantError(t, change(pw, pw), http.StatusBadRequest, "invalid_request")
	wantError(t, change(pw, "ALICE@example.com"), http.StatusBadRequest, "invalid_request")
	wantError(t, change("not the password", "a brand new secret"), http.StatusUnauthorized, "invalid_credentials")
	if r := change(pw, "a brand new secret"); r.Status != http.StatusNoContent {
		t.Fatalf("change: %d %s", r.Status, r.Body)
	}
	// The session's refreshed tokens are unrestricted; the state is clear.
	tk := refreshOK(t, env, lr["refresh_token"].(string))
	me := env.Me("", tk.AccessToken)
	var st passwordState
	me.Decode(t, &st)
	if me.Status != http.StatusOK || st.MustChange || st.Warning != "" || st.ExpiresIn == nil || *st.ExpiresIn != 90 {
		t.Fatalf("after the change: %d %s", me.Status, me.Body)
	}
	// Other sessions were revoked.
	wantInvalidGrant(t, env.Refresh("", other["refresh_token"].(string)))
	wantAudit(t, env, "password_changed")
	r = login(env, "", "alice", "a brand new secret", nil)
	if m := r.JSON(t); m["must_change_password"] != false || m["password_warning"] != nil {
		t.Fatalf("login after the change: %s", r.Body)
	}
}

func TestPasswordExpiry_AdminForcedChange(t *testing.T) {
	env, id := expiryEnv(t)
	if r := env.Admin("PATCH", "/admin/users/"+id, "", map[string]any{"must_change_password": true}); r.Status != http.StatusOK {
		t.Fatalf("patch: %d %s", r.Status, r.Body)
	}
	r := login(env, "", "alice", pw, nil)
	wantState(t, "login", r, true, 90, "expired")
	access := r.JSON(t)["access_token"].(string)
	for _, req := range restrictedCalls(id) {
		req.Bearer = access
		wantError(t, env.Do(req), http.StatusForbidden, "password_change_required")
	}
	r = env.Do(servertest.Request{Method: "POST", Path: "/auth/password/change", Bearer: access,
		JSON: map[string]any{"old_password": pw, "new_password": "a brand new secret"}})
	if r.Status != http.StatusNoContent {
		t.Fatalf("change: %d %s", r.Status, r.Body)
	}
	if u := env.Admin("GET", "/admin/users/"+id, "", nil).JSON(t); u["must_change_password"] != false {
		t.Fatalf("must_change_password not cleared: %v", u)
	}
	wantState(t, "login after the change", login(env, "", "alice", "a brand new secret", nil), false, 90, "")
}
