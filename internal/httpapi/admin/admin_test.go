package admin_test

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/server/servertest"
)

const pw = "correct horse battery"

func TestAdmin_RequiresCredentials(t *testing.T) {
	env := servertest.New(t, servertest.Options{})
	for _, bearer := range []string{"", "wrong-key", servertest.AdminKey + "x"} {
		r := env.Do(servertest.Request{Method: "GET", Path: "/admin/users", Bearer: bearer})
		if r.Status != http.StatusUnauthorized || r.JSON(t)["error"] != "unauthorized" {
			t.Fatalf("bearer %q: %d %s", bearer, r.Status, r.Body)
		}
	}
}

func TestAdmin_UserLifecycle(t *testing.T) {
	env := servertest.New(t, servertest.Options{})
	r := env.Admin("POST", "/admin/users", "", map[string]any{
		"username": "alice", "email": "alice@example.com", "phone": "+15550100", "display_name": "Alice",
		"avatar_url": "https://example.com/a.png", "groups": []string{"eng"}, "roles": []string{"dev"},
		"attributes": map[string]any{"depId": []any{"d1"}, "developer": 1}, "password": pw,
	})
	if r.Status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	u := r.JSON(t)
	id := u["id"].(string)
	if len(id) < 13 || len(id) > 16 || strings.Trim(id, "0123456789") != "" {
		t.Fatalf("generated id %q is not a decimal integer in [2^40, 2^53)", id)
	}
	if _, ok := u["password_hash"]; ok || u["has_password"] != true {
		t.Fatalf("user view: %s", r.Body)
	}
	for _, dup := range []map[string]any{{"username": "ALICE"}, {"username": "x", "email": "Alice@example.com"}, {"username": "y", "phone": "+15550100"}, {"id": id, "username": "z"}} {
		if r := env.Admin("POST", "/admin/users", "", dup); r.Status != http.StatusConflict {
			t.Fatalf("duplicate %v: %d %s", dup, r.Status, r.Body)
		}
	}
	if r := env.Admin("POST", "/admin/users", "", map[string]any{"id": "legacy.user-42", "username": "legacy"}); r.Status != http.StatusCreated || r.JSON(t)["id"] != "legacy.user-42" {
		t.Fatalf("explicit id: %d %s", r.Status, r.Body)
	}
	for _, bad := range []map[string]any{{"id": "bad id!", "username": "q"}, {"username": ""}, {"username": "q", "email": "not-an-email"},
		{"username": "q", "password_hash": "plaintext"}, {"username": "q", "password": "short"}, {"username": "q", "status": "weird"}} {
		if r := env.Admin("POST", "/admin/users", "", bad); r.Status != http.StatusBadRequest {
			t.Fatalf("invalid %v: %d %s", bad, r.Status, r.Body)
		}
	}

	got := env.Admin("GET", "/admin/users/"+id, "", nil)
	if got.Status != http.StatusOK || got.JSON(t)["display_name"] != "Alice" {
		t.Fatalf("get: %d %s", got.Status, got.Body)
	}
	list := env.Admin("GET", "/admin/users?limit=1", "", nil).JSON(t)
	if len(list["users"].([]any)) != 1 || list["next"] == "" {
		t.Fatalf("list: %v", list)
	}

	p := env.Admin("PATCH", "/admin/users/"+id, "", map[string]any{"roles": []string{"admin"}, "groups": []string{}, "attributes": map[string]any{"k": "v"},
		"must_change_password": true, "password_changed_at": "2029-01-01T00:00:00Z", "display_name": "Alice A."})
	pm := p.JSON(t)
	if p.Status != http.StatusOK || pm["roles"].([]any)[0] != "admin" || pm["must_change_password"] != true ||
		pm["password_changed_at"] != "2029-01-01T00:00:00Z" || pm["attributes"].(map[string]any)["k"] != "v" {
		t.Fatalf("patch: %d %s", p.Status, p.Body)
	}
	if r := env.Admin("PATCH", "/admin/users/"+id, "", map[string]any{"password": "another good password", "must_change_password": false}); r.Status != http.StatusOK {
		t.Fatalf("patch password: %d %s", r.Status, r.Body)
	}
	env.Login("", "alice", "another good password")

	if r := env.Admin("DELETE", "/admin/users/"+id, "", nil); r.Status != http.StatusNoContent {
		t.Fatalf("delete: %d", r.Status)
	}
	if r := env.Admin("GET", "/admin/users/"+id, "", nil); r.Status != http.StatusNotFound {
		t.Fatalf("deleted user still there: %d", r.Status)
	}
	if r := env.Admin("PATCH", "/admin/users/nope", "", map[string]any{"display_name": "x"}); r.Status != http.StatusNotFound {
		t.Fatalf("patch unknown: %d", r.Status)
	}
	types := map[string]bool{}
	for _, e := range env.Admin("GET", "/admin/audit?limit=1000", "", nil).JSON(t)["events"].([]any) {
		types[e.(map[string]any)["type"].(string)] = true
	}
	for _, want := range []string{"user_created", "user_updated", "user_deleted"} {
		if !types[want] {
			t.Fatalf("no %s event: %v", want, types)
		}
	}
}

func TestAdmin_SessionsOfUser(t *testing.T) {
	env := servertest.New(t, servertest.Options{})
	id := env.CreateUser("", map[string]any{"username": "alice", "password": pw})
	a := env.Login("", "alice", pw)
	b := env.Login("", "alice", pw)
	r := env.Admin("GET", "/admin/users/"+id+"/sessions", "", nil)
	sessions := r.JSON(t)["sessions"].([]any)
	if r.Status != http.StatusOK || len(sessions) != 2 {
		t.Fatalf("sessions: %d %s", r.Status, r.Body)
	}
	sid := sessions[0].(map[string]any)["id"].(string)
	if r := env.Admin("DELETE", "/admin/sessions/"+sid, "", nil); r.Status != http.StatusNoContent {
		t.Fatalf("revoke one: %d", r.Status)
	}
	if r := env.Admin("DELETE", "/admin/sessions/"+sid+"x", "", nil); r.Status != http.StatusNotFound {
		t.Fatalf("revoke unknown: %d", r.Status)
	}
	if r := env.Admin("DELETE", "/admin/users/"+id+"/sessions", "", nil); r.Status != http.StatusNoContent {
		t.Fatalf("revoke all: %d", r.Status)
	}
	for _, tk := range []servertest.Tokens{a, b} {
		if r := env.Me("", tk.AccessToken); r.Status != http.StatusUnauthorized {
			t.Fatalf("revoked session's token accepted: %d", r.Status)
		}
	}
	if r := env.Admin("GET", "/admin/audit?type=session_revoked&user_id="+id, "", nil); len(r.JSON(t)["events"].([]any)) != 2 {
		t.Fatalf("session_revoked events: %s", r.Body)
	}
}

func TestAdmin_RoleAdminLimitedToOwnTenant(t *testing.T) {
	env := servertest.New(t, servertest.Options{})
	env.Admin("POST", "/admin/tenants", "", map[string]any{"id": "acme", "name": "Acme"})
	env.CreateUser("acme", map[string]any{"username": "boss", "password": pw, "roles": []string{"admin"}})
	env.CreateUser("acme", map[string]any{"username": "worker", "password": pw})
	boss := env.Login("acme", "boss", pw)
	worker := env.Login("acme", "worker", pw)

	as := func(tok, tenant, method, path string, body any) *servertest.Response {
		return env.Do(servertest.Request{Method: method, Path: path, JSON: body, Bearer: tok, Header: map[string]string{"X-Tenant-ID": tenant}})
	}
	if r := as(boss.AccessToken, "acme", "POST", "/admin/users", map[string]any{"username": "new"}); r.Status != http.StatusCreated {
		t.Fatalf("tenant admin cannot create in own tenant: %d %s", r.Status, r.Body)
	}
	if r := as(boss.AccessToken, "default", "GET", "/admin/users", nil); r.Status != http.StatusUnauthorized && r.Status != http.StatusForbidden {
		t.Fatalf("tenant admin reached another tenant: %d", r.Status)
	}
	if r := as(boss.AccessToken, "acme", "POST", "/admin/tenants", map[string]any{"id": "evil"}); r.Status != http.StatusForbidden {
		t.Fatalf("tenant admin created a tenant: %d", r.Status)
	}
	if r := as(boss.AccessToken, "acme", "POST", "/admin/keys/rotate", nil); r.Status != http.StatusForbidden {
		t.Fatalf("tenant admin rotated keys: %d", r.Status)
	}
	if r := as(worker.AccessToken, "acme", "GET", "/admin/users", nil); r.Status != http.StatusForbidden {
		t.Fatalf("non-admin reached the admin API: %d", r.Status)
	}
	// Users of another tenant are invisible.
	id := env.CreateUser("", map[string]any{"username": "outsider"})
	if r := as(boss.AccessToken, "acme", "GET", "/admin/users/"+id, nil); r.Status != http.StatusNotFound {
		t.Fatalf("other tenant's user visible: %d", r.Status)
	}
}

func TestAdmin_Tenants(t *testing.T) {
	env := servertest.New(t, servertest.Options{})
	if r := env.Admin("POST", "/admin/tenants", "", map[string]any{"id": "acme", "name": "Acme"}); r.Status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	if r := env.Admin("POST", "/admin/tenants", "", map[string]any{"id": "acme"}); r.Status != http.StatusConflict {
		t.Fatalf("duplicate: %d", r.Status)
	}
	if r := env.Admin("POST", "/admin/tenants", "", map[string]any{"id": "no spaces"}); r.Status != http.StatusBadRequest {
		t.Fatalf("bad id: %d", r.Status)
	}
	if r := env.Admin("POST", "/admin/users", "ghost", map[string]any{"username": "x"}); r.Status != http.StatusNotFound {
		t.Fatalf("user in unknown tenant: %d %s", r.Status, r.Body)
	}
	if n := len(env.Admin("GET", "/admin/tenants", "", nil).JSON(t)["tenants"].([]any)); n != 2 {
		t.Fatalf("tenants: %d", n)
	}
}

// TestSecretsNeverStoredOrLogged runs a session's life and then searches the
// database files and the captured logs for every secret that passed by.
func TestSecretsNeverStoredOrLogged(t *testing.T) {
	env := servertest.New(t, servertest.Options{Env: map[string]string{"GATEHOUSE_REFRESH_REUSE_LEEWAY": "30s"}})
	env.CreateUser("", map[string]any{"username": "alice", "password": pw})
	tk := env.Login("", "alice", pw)
	r := env.Refresh("", tk.RefreshToken)
	var next servertest.Tokens
	r.Decode(t, &next)
	env.Refresh("", tk.RefreshToken) // a retry within the leeway
	env.Do(servertest.Request{Method: "POST", Path: "/auth/login", JSON: map[string]any{"username": "alice", "password": "wrong " + pw}})
	env.Me("", next.AccessToken)
	if err := env.Server.Store.Close(); err != nil { // flush the WAL
		t.Fatal(err)
	}
	secrets := map[string]string{"password": pw, "refresh token": tk.RefreshToken, "rotated refresh token": next.RefreshToken,
		"access token": next.AccessToken, "admin key": servertest.AdminKey, "master key": servertest.MasterKey}
	files, _ := filepath.Glob(filepath.Join(env.DataDir, "gatehouse.db*"))
	if len(files) == 0 {
		t.Fatal("no database files found")
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for name, s := range secrets {
			if strings.Contains(string(b), s) {
				t.Errorf("%s found in clear in %s", name, filepath.Base(f))
			}
		}
	}
	logs := env.Logs.String()
	if !strings.Contains(logs, `"path":"/auth/refresh"`) {
		t.Fatal("logs were not captured")
	}
	for name, s := range secrets {
		if strings.Contains(logs, s) {
			t.Errorf("%s found in the logs", name)
		}
	}
}
