package native_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/gatehouse-auth/gatehouse/internal/server/servertest"
)

func login(env *servertest.Env, tenant, user, password string, hdr map[string]string) *servertest.Response {
	h := map[string]string{}
	if tenant != "" {
		h["X-Tenant-ID"] = tenant
	}
	for k, v := range hdr {
		h[k] = v
	}
	return env.Do(servertest.Request{Method: "POST", Path: "/auth/login",
		JSON: map[string]any{"username": user, "password": password}, Header: h})
}

func TestLogin_ResponseShape(t *testing.T) {
	env := servertest.New(t, servertest.Options{})
	id := env.CreateUser("", map[string]any{"username": "alice", "email": "alice@example.com", "phone": "+15550100", "password": pw})
	r := login(env, "", "alice", pw, nil)
	if r.Status != http.StatusOK {
		t.Fatalf("login: %d %s", r.Status, r.Body)
	}
	if r.Header.Get("Cache-Control") != "no-store" || r.Header.Get("Pragma") != "no-cache" {
		t.Fatalf("token response is cacheable: %v", r.Header)
	}
	m := r.JSON(t)
	for _, k := range []string{"access_token", "refresh_token", "token_type", "expires_in", "user", "must_change_password"} {
		if _, ok := m[k]; !ok {
			t.Fatalf("LoginResponse lacks %q: %s", k, r.Body)
		}
	}
	if m["token_type"] != "Bearer" || m["expires_in"].(float64) != 900 || m["must_change_password"] != false {
		t.Fatalf("unexpected LoginResponse: %s", r.Body)
	}
	if _, ok := m["password_expires_in"]; ok {
		t.Fatalf("password_expires_in present although passwords never expire")
	}
	u := m["user"].(map[string]any)
	want := map[string]any{"id": id, "username": "alice", "email": "alice@example.com", "phone": "+15550100", "status": "active", "must_change_password": false}
	for k, v := range want {
		if u[k] != v {
			t.Fatalf("user.%s = %v, want %v", k, u[k], v)
		}
	}
	if _, err := time.Parse(time.RFC3339, u["created_at"].(string)); err != nil {
		t.Fatalf("created_at: %v", err)
	}
	me := env.Me("", m["access_token"].(string))
	if me.Status != http.StatusOK || me.JSON(t)["id"] != id {
		t.Fatalf("/auth/me: %d %s", me.Status, me.Body)
	}
}

func TestLogin_ByEmailAndPhoneAnyCase(t *testing.T) {
	env := servertest.New(t, servertest.Options{})
	env.CreateUser("", map[string]any{"username": "Alice", "email": "Alice@Example.com", "phone": "+15550100", "password": pw})
	for _, name := range []string{"alice", "ALICE", "alice@example.com", "+15550100"} {
		if r := login(env, "", name, pw, nil); r.Status != http.StatusOK {
			t.Fatalf("login as %q: %d %s", name, r.Status, r.Body)
		}
	}
}

func TestLogin_UnknownUserAndWrongPasswordAlike(t *testing.T) {
	env := servertest.New(t, servertest.Options{})
	env.CreateUser("", map[string]any{"username": "alice", "password": pw})
	a := login(env, "", "alice", "wrong password!", nil)
	b := login(env, "", "nobody", "wrong password!", nil)
	if a.Status != http.StatusUnauthorized || b.Status != http.StatusUnauthorized {
		t.Fatalf("statuses %d %d", a.Status, b.Status)
	}
	ma, mb := a.JSON(t), b.JSON(t)
	if ma["error"] != "invalid_credentials" || ma["error"] != mb["error"] || ma["message"] != mb["message"] {
		t.Fatalf("answers differ: %s vs %s", a.Body, b.Body)
	}
}

func TestLogin_LockoutPerUsername(t *testing.T) {
	env := servertest.New(t, servertest.Options{Env: map[string]string{"GATEHOUSE_LOGIN_MAX_FAILURES": "3", "GATEHOUSE_LOGIN_LOCKOUT": "10m"}})
	env.CreateUser("", map[string]any{"username": "alice", "password": pw})
	for _, user := range []string{"alice", "ghost"} { // a real and an unknown username lock alike
		for i := 0; i < 3; i++ {
			if r := login(env, "", user, "bad password 123", nil); r.Status != http.StatusUnauthorized {
				t.Fatalf("%s attempt %d: %d", user, i, r.Status)
			}
		}
		r := login(env, "", user, pw, nil) // even the right password is refused while locked
		if r.Status != http.StatusTooManyRequests || r.JSON(t)["error"] != "too_many_attempts" || r.Header.Get("Retry-After") == "" {
			t.Fatalf("%s not locked: %d %s %v", user, r.Status, r.Body, r.Header)
		}
	}
	env.Clock.Advance(11 * time.Minute)
	if r := login(env, "", "alice", pw, nil); r.Status != http.StatusOK {
		t.Fatalf("still locked after the lockout: %d %s", r.Status, r.Body)
	}
	types := map[string]bool{}
	for _, e := range env.Admin("GET", "/admin/audit?limit=100", "", nil).JSON(t)["events"].([]any) {
		types[e.(map[string]any)["type"].(string)] = true
	}
	for _, want := range []string{"login_failed", "login_locked", "login_succeeded"} {
		if !types[want] {
			t.Fatalf("no %s audit event: %v", want, types)
		}
	}
}

func TestLogin_LockoutPerClientIP(t *testing.T) {
	env := servertest.New(t, servertest.Options{Env: map[string]string{"GATEHOUSE_LOGIN_IP_MAX_FAILURES": "5"}})
	env.CreateUser("", map[string]any{"username": "alice", "password": pw})
	for i := 0; i < 5; i++ { // spraying many usernames from one address
		login(env, "", fmt.Sprintf("user%d", i), "bad password 123", nil)
	}
	if r := login(env, "", "alice", pw, nil); r.Status != http.StatusTooManyRequests {
		t.Fatalf("client IP not throttled: %d %s", r.Status, r.Body)
	}
}

func TestLogin_DisabledUser(t *testing.T) {
	env := servertest.New(t, servertest.Options{})
	id := env.CreateUser("", map[string]any{"username": "alice", "password": pw})
	tk := env.Login("", "alice", pw)
	if r := env.Admin("PATCH", "/admin/users/"+id, "", map[string]any{"status": "disabled"}); r.Status != http.StatusOK {
		t.Fatalf("disable: %d %s", r.Status, r.Body)
	}
	if r := env.Me("", tk.AccessToken); r.Status != http.StatusUnauthorized {
		t.Fatalf("disabled user's access token accepted: %d", r.Status)
	}
	wantInvalidGrant(t, env.Refresh("", tk.RefreshToken))
	if r := login(env, "", "alice", pw, nil); r.Status != http.StatusForbidden || r.JSON(t)["error"] != "account_disabled" {
		t.Fatalf("disabled user signed in: %d %s", r.Status, r.Body)
	}
	if r := login(env, "", "alice", "bad password 123", nil); r.Status != http.StatusUnauthorized {
		t.Fatalf("wrong password of a disabled user must not reveal the status: %d", r.Status)
	}
}

func TestLogin_ImportedBcryptIsUpgraded(t *testing.T) {
	env := servertest.New(t, servertest.Options{})
	h, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	id := env.CreateUser("", map[string]any{"username": "bob", "password_hash": string(h)})
	env.Login("", "bob", pw)
	u, err := env.Server.Store.GetUser(t.Context(), "default", id)
	if err != nil {
		t.Fatal(err)
	}
	if len(u.PasswordHash) < 10 || u.PasswordHash[:10] != "$argon2id$" {
		t.Fatalf("hash not upgraded: %.10s", u.PasswordHash)
	}
	env.Login("", "bob", pw) // and the new hash verifies
}

func TestLogin_TenantIsolation(t *testing.T) {
	env := servertest.New(t, servertest.Options{})
	env.Admin("POST", "/admin/tenants", "", map[string]any{"id": "acme"})
	env.CreateUser("acme", map[string]any{"username": "alice", "password": pw})
	if r := login(env, "", "alice", pw, nil); r.Status != http.StatusUnauthorized {
		t.Fatalf("user of acme signed in under default: %d", r.Status)
	}
	tk := env.Login("acme", "alice", pw)
	if r := env.Me("acme", tk.AccessToken); r.Status != http.StatusOK {
		t.Fatalf("me under acme: %d", r.Status)
	}
}
