package admin_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/server/servertest"
)

func TestAdmin_ClientLifecycle(t *testing.T) {
	env := servertest.New(t, servertest.Options{})
	r := env.Admin("POST", "/admin/clients", "", map[string]any{"name": "Shop backend", "grant_types": []string{"refresh_token"}, "scopes": []string{"openid"}})
	if r.Status != http.StatusCreated || r.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("create: %d %v %s", r.Status, r.Header, r.Body)
	}
	c := r.JSON(t)
	id, secret := c["client_id"].(string), c["client_secret"].(string)
	if len(id) < 22 || len(secret) != 43 || c["name"] != "Shop backend" || c["tenant_id"] != "default" || c["public"] != false {
		t.Fatalf("created client: %s", r.Body)
	}
	if g := c["grant_types"].([]any); len(g) != 1 || g[0] != "refresh_token" {
		t.Fatalf("grant types: %v", c["grant_types"])
	}

	list := env.Admin("GET", "/admin/clients", "", nil)
	if list.Status != http.StatusOK || strings.Contains(string(list.Body), secret) || strings.Contains(string(list.Body), "client_secret") {
		t.Fatalf("list: %d %s", list.Status, list.Body)
	}
	if cs := list.JSON(t)["clients"].([]any); len(cs) != 1 || cs[0].(map[string]any)["client_id"] != id {
		t.Fatalf("list: %s", list.Body)
	}
	got := env.Admin("GET", "/admin/clients/"+id, "", nil)
	if got.Status != http.StatusOK || strings.Contains(string(got.Body), "client_secret") || got.JSON(t)["name"] != "Shop backend" {
		t.Fatalf("get: %d %s", got.Status, got.Body)
	}

	rot := env.Admin("POST", "/admin/clients/"+id+"/secret", "", nil)
	if rot.Status != http.StatusOK || rot.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("rotate: %d %s", rot.Status, rot.Body)
	}
	if s2 := rot.JSON(t)["client_secret"]; s2 == secret || len(s2.(string)) != 43 {
		t.Fatalf("rotated secret %v", s2)
	}

	if r := env.Admin("DELETE", "/admin/clients/"+id, "", nil); r.Status != http.StatusNoContent {
		t.Fatalf("delete: %d %s", r.Status, r.Body)
	}
	for _, r := range []*servertest.Response{
		env.Admin("GET", "/admin/clients/"+id, "", nil),
		env.Admin("DELETE", "/admin/clients/"+id, "", nil),
		env.Admin("POST", "/admin/clients/"+id+"/secret", "", nil),
	} {
		if r.Status != http.StatusNotFound || r.JSON(t)["error"] != "not_found" {
			t.Fatalf("after delete: %d %s", r.Status, r.Body)
		}
	}

	audit := env.Admin("GET", "/admin/audit?type=client_created", "", nil).JSON(t)["events"].([]any)
	if len(audit) != 1 || audit[0].(map[string]any)["details"].(map[string]any)["client_id"] != id {
		t.Fatalf("client_created audit: %v", audit)
	}
	for _, typ := range []string{"client_secret_rotated", "client_deleted"} {
		if ev := env.Admin("GET", "/admin/audit?type="+typ, "", nil).JSON(t)["events"].([]any); len(ev) != 1 {
			t.Fatalf("%s audit: %v", typ, ev)
		}
	}
	if env.LogsContain(secret) {
		t.Fatal("a client secret appears in the logs")
	}
}

func TestAdmin_ClientValidation(t *testing.T) {
	env := servertest.New(t, servertest.Options{})
	for _, body := range []map[string]any{
		{}, {"name": ""}, {"name": strings.Repeat("n", 201)}, {"name": "x", "grant_types": []string{"implicit"}},
		{"name": "x", "public": true, "grant_types": []string{"client_credentials"}}, {"name": "x", "scopes": []string{"a b"}},
	} {
		if r := env.Admin("POST", "/admin/clients", "", body); r.Status != http.StatusBadRequest {
			t.Errorf("create %v: %d %s", body, r.Status, r.Body)
		}
	}
	if r := env.Do(servertest.Request{Method: "POST", Path: "/admin/clients", Body: strings.NewReader("name=x"),
		Header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, Bearer: servertest.AdminKey}); r.Status != http.StatusUnsupportedMediaType {
		t.Errorf("form body: %d", r.Status)
	}
	pub := env.Admin("POST", "/admin/clients", "", map[string]any{"name": "spa", "public": true})
	if pub.Status != http.StatusCreated || strings.Contains(string(pub.Body), "client_secret") || pub.JSON(t)["public"] != true {
		t.Fatalf("public client: %d %s", pub.Status, pub.Body)
	}
	if r := env.Admin("POST", "/admin/clients/"+pub.JSON(t)["client_id"].(string)+"/secret", "", nil); r.Status != http.StatusBadRequest {
		t.Fatalf("rotating a public client's secret: %d %s", r.Status, r.Body)
	}
	if r := env.Do(servertest.Request{Method: "GET", Path: "/admin/clients"}); r.Status != http.StatusUnauthorized {
		t.Fatalf("no credentials: %d", r.Status)
	}
}

// TestAdmin_ClientsTenantScoped: clients belong to a tenant; another
// tenant's administrator neither sees nor touches them.
func TestAdmin_ClientsTenantScoped(t *testing.T) {
	env := servertest.New(t, servertest.Options{})
	if r := env.Admin("POST", "/admin/tenants", "", map[string]any{"id": "acme", "name": "Acme"}); r.Status != http.StatusCreated {
		t.Fatalf("tenant: %d", r.Status)
	}
	mine := env.CreateClient("", "default's")
	theirs := env.CreateClient("acme", "acme's")
	env.CreateUser("acme", map[string]any{"username": "boss", "password": pw, "roles": []string{"admin"}})
	boss := env.Login("acme", "boss", pw).AccessToken
	as := func(method, path string) *servertest.Response {
		return env.Do(servertest.Request{Method: method, Path: path, Bearer: boss, Header: map[string]string{"X-Tenant-ID": "acme"}})
	}
	if r := as("GET", "/admin/clients"); r.Status != http.StatusOK || strings.Contains(string(r.Body), mine.ID) || !strings.Contains(string(r.Body), theirs.ID) {
		t.Fatalf("tenant admin's list: %d %s", r.Status, r.Body)
	}
	for _, r := range []*servertest.Response{as("GET", "/admin/clients/"+mine.ID), as("DELETE", "/admin/clients/"+mine.ID), as("POST", "/admin/clients/"+mine.ID+"/secret")} {
		if r.Status != http.StatusNotFound {
			t.Fatalf("another tenant's client: %d %s", r.Status, r.Body)
		}
	}
	r := env.Do(servertest.Request{Method: "GET", Path: "/admin/clients", Bearer: boss})
	if r.Status != http.StatusUnauthorized && r.Status != http.StatusForbidden {
		t.Fatalf("tenant admin on the default tenant: %d %s", r.Status, r.Body)
	}
}
