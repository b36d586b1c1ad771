package admin_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/server/servertest"
)

// TestAdmin_TenantAdminWrongTenantHeader: a tenant administrator whose
// request names no tenant, or another one, is told that the tenant header
// is the problem, not that the token is invalid.
func TestAdmin_TenantAdminWrongTenantHeader(t *testing.T) {
	env := servertest.New(t, servertest.Options{})
	if r := env.Admin("POST", "/admin/tenants", "", map[string]any{"id": "acme"}); r.Status != http.StatusCreated {
		t.Fatalf("create tenant: %d %s", r.Status, r.Body)
	}
	env.CreateUser("acme", map[string]any{"username": "boss", "password": pw, "roles": []string{"admin"}})
	tk := env.Login("acme", "boss", pw)
	for _, header := range []map[string]string{nil, {"X-Tenant-ID": "default"}, {"X-Tenant-ID": "other"}} {
		r := env.Do(servertest.Request{Method: "GET", Path: "/admin/users", Bearer: tk.AccessToken, Header: header})
		m := r.JSON(t)
		msg, _ := m["message"].(string)
		if r.Status != http.StatusUnauthorized || m["error"] != "unauthorized" || !strings.Contains(msg, "X-Tenant-ID: acme") {
			t.Errorf("header %v: %d %s; want 401 naming X-Tenant-ID: acme", header, r.Status, r.Body)
		}
	}
	r := env.Do(servertest.Request{Method: "GET", Path: "/admin/users", Bearer: tk.AccessToken, Header: map[string]string{"X-Tenant-ID": "acme"}})
	if r.Status != http.StatusOK {
		t.Fatalf("with the right header: %d %s", r.Status, r.Body)
	}
	// A token that is not valid at all still gets the general answer.
	r = env.Do(servertest.Request{Method: "GET", Path: "/admin/users", Bearer: tk.AccessToken + "x"})
	if msg, _ := r.JSON(t)["message"].(string); r.Status != http.StatusUnauthorized || strings.Contains(msg, "acme") {
		t.Errorf("forged token: %d %s", r.Status, r.Body)
	}
}

// TestAdmin_AuditOfTenantsAndKeys: tenant_created is recorded in the audit
// log of the creator's tenant (the admin key's is default) and names the new
// tenant; key_rotated names the alg the new key really has.
func TestAdmin_AuditOfTenantsAndKeys(t *testing.T) {
	env := servertest.New(t, servertest.Options{})
	if r := env.Admin("POST", "/admin/tenants", "", map[string]any{"id": "acme", "name": "Acme Corp"}); r.Status != http.StatusCreated {
		t.Fatalf("create tenant: %d %s", r.Status, r.Body)
	}
	if r := env.Admin("POST", "/admin/keys/rotate", "", nil); r.Status != http.StatusOK {
		t.Fatalf("rotate: %d %s", r.Status, r.Body)
	}
	events := func(tenant, typ string) []map[string]any {
		t.Helper()
		r := env.Admin("GET", "/admin/audit?type="+typ, tenant, nil)
		var out struct {
			Events []map[string]any `json:"events"`
		}
		r.Decode(t, &out)
		return out.Events
	}
	ev := events("", "tenant_created")
	if len(ev) != 1 {
		t.Fatalf("tenant_created events in default: %v", ev)
	}
	if d, _ := ev[0]["details"].(map[string]any); d["tenant_id"] != "acme" || d["name"] != "Acme Corp" || ev[0]["actor"] != "admin-key" {
		t.Errorf("tenant_created = %v", ev[0])
	}
	if ev := events("acme", "tenant_created"); len(ev) != 0 {
		t.Errorf("tenant_created also in the new tenant's log: %v", ev)
	}
	ev = events("", "key_rotated")
	if len(ev) != 1 {
		t.Fatalf("key_rotated events: %v", ev)
	}
	if d, _ := ev[0]["details"].(map[string]any); d["alg"] != "EdDSA" || d["kid"] == "" {
		t.Errorf("key_rotated details = %v, want the configured alg EdDSA", d)
	}
}
