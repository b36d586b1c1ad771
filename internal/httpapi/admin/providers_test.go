package admin_test

import (
	"net/http"
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/server/servertest"
)

func TestProviders_Lifecycle(t *testing.T) {
	env := servertest.New(t, servertest.Options{})
	r := env.Admin("POST", "/admin/providers", "", map[string]any{
		"name": "google", "issuer": "https://accounts.google.com", "audiences": []string{"web", "web", "ios"},
	})
	if r.Status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	p := r.JSON(t)
	if p["name"] != "google" || p["tenant_id"] != "default" || p["auto_provision"] != false || p["link_by_email"] != false {
		t.Errorf("created provider: %s", r.Body)
	}
	if algs := p["algorithms"].([]any); len(algs) != 3 || algs[0] != "RS256" || algs[1] != "ES256" || algs[2] != "EdDSA" {
		t.Errorf("default algorithms = %v, want RS256, ES256, EdDSA", algs)
	}
	if auds := p["audiences"].([]any); len(auds) != 2 {
		t.Errorf("audiences = %v, want the duplicate dropped", auds)
	}
	if _, ok := p["jwks_uri"]; ok {
		t.Errorf("jwks_uri present although discovery is used: %s", r.Body)
	}

	env.CreateProvider("", map[string]any{"name": "corp", "issuer": "https://idp.corp.example", "audiences": []string{"app"},
		"jwks_uri": "https://idp.corp.example/keys", "algorithms": []string{"PS256"}, "auto_provision": true, "link_by_email": true})
	r = env.Admin("GET", "/admin/providers/corp", "", nil)
	if c := r.JSON(t); r.Status != http.StatusOK || c["jwks_uri"] != "https://idp.corp.example/keys" || c["auto_provision"] != true ||
		c["link_by_email"] != true || c["algorithms"].([]any)[0] != "PS256" {
		t.Errorf("get corp: %d %s", r.Status, r.Body)
	}
	r = env.Admin("GET", "/admin/providers", "", nil)
	list := r.JSON(t)["providers"].([]any)
	if len(list) != 2 || list[0].(map[string]any)["name"] != "corp" || list[1].(map[string]any)["name"] != "google" {
		t.Errorf("list: %s", r.Body)
	}

	if r := env.Admin("POST", "/admin/providers", "", map[string]any{"name": "corp", "issuer": "https://x.example", "audiences": []string{"a"}}); r.Status != http.StatusConflict {
		t.Errorf("duplicate name: %d %s", r.Status, r.Body)
	}
	if r := env.Admin("DELETE", "/admin/providers/corp", "", nil); r.Status != http.StatusNoContent {
		t.Errorf("delete: %d %s", r.Status, r.Body)
	}
	if r := env.Admin("GET", "/admin/providers/corp", "", nil); r.Status != http.StatusNotFound {
		t.Errorf("get after delete: %d %s", r.Status, r.Body)
	}
	if r := env.Admin("DELETE", "/admin/providers/corp", "", nil); r.Status != http.StatusNotFound {
		t.Errorf("delete again: %d %s", r.Status, r.Body)
	}
	if ev := env.Admin("GET", "/admin/audit?type=provider_created", "", nil).JSON(t)["events"].([]any); len(ev) != 2 {
		t.Errorf("%d provider_created events, want 2", len(ev))
	}
}

func TestProviders_Validation(t *testing.T) {
	env := servertest.New(t, servertest.Options{})
	for _, c := range []struct {
		what string
		body map[string]any
	}{
		{"no name", map[string]any{"issuer": "https://idp.example", "audiences": []string{"a"}}},
		{"bad name", map[string]any{"name": "a b", "issuer": "https://idp.example", "audiences": []string{"a"}}},
		{"no issuer", map[string]any{"name": "p", "audiences": []string{"a"}}},
		{"relative issuer", map[string]any{"name": "p", "issuer": "/idp", "audiences": []string{"a"}}},
		{"issuer with a fragment", map[string]any{"name": "p", "issuer": "https://idp.example#x", "audiences": []string{"a"}}},
		{"no audience", map[string]any{"name": "p", "issuer": "https://idp.example"}},
		{"empty audience", map[string]any{"name": "p", "issuer": "https://idp.example", "audiences": []string{""}}},
		{"bad jwks_uri", map[string]any{"name": "p", "issuer": "https://idp.example", "audiences": []string{"a"}, "jwks_uri": "file:///etc/keys"}},
		{"alg none", map[string]any{"name": "p", "issuer": "https://idp.example", "audiences": []string{"a"}, "algorithms": []string{"none"}}},
		{"alg HS256", map[string]any{"name": "p", "issuer": "https://idp.example", "audiences": []string{"a"}, "algorithms": []string{"HS256"}}},
		{"audiences not a list", map[string]any{"name": "p", "issuer": "https://idp.example", "audiences": "a"}},
	} {
		r := env.Admin("POST", "/admin/providers", "", c.body)
		if r.Status != http.StatusBadRequest || r.JSON(t)["error"] != "invalid_request" {
			t.Errorf("%s: %d %s, want 400 invalid_request", c.what, r.Status, r.Body)
		}
	}
	if r := env.Admin("GET", "/admin/providers", "", nil); len(r.JSON(t)["providers"].([]any)) != 0 {
		t.Errorf("refused providers were stored: %s", r.Body)
	}
}

func TestProviders_TenantScoped(t *testing.T) {
	env := servertest.New(t, servertest.Options{})
	env.Admin("POST", "/admin/tenants", "", map[string]any{"id": "acme", "name": "Acme"})
	env.CreateProvider("acme", map[string]any{"name": "corp", "issuer": "https://idp.acme.example", "audiences": []string{"a"}})
	if r := env.Admin("GET", "/admin/providers/corp", "", nil); r.Status != http.StatusNotFound {
		t.Errorf("acme's provider seen from default: %d %s", r.Status, r.Body)
	}
	if r := env.Admin("GET", "/admin/providers", "", nil); len(r.JSON(t)["providers"].([]any)) != 0 {
		t.Errorf("default lists acme's provider: %s", r.Body)
	}
	// A user administrator of default cannot manage acme's providers.
	env.CreateUser("", map[string]any{"username": "root", "password": pw, "roles": []string{"admin"}})
	root := env.Login("", "root", pw)
	r := env.Do(servertest.Request{Method: "GET", Path: "/admin/providers", Bearer: root.AccessToken, Header: map[string]string{"X-Tenant-ID": "acme"}})
	if r.Status != http.StatusUnauthorized && r.Status != http.StatusForbidden {
		t.Errorf("default's admin on acme's providers: %d %s", r.Status, r.Body)
	}
	if r := env.Admin("POST", "/admin/providers", "nope", map[string]any{"name": "p", "issuer": "https://i.example", "audiences": []string{"a"}}); r.Status != http.StatusNotFound {
		t.Errorf("provider in an unknown tenant: %d %s", r.Status, r.Body)
	}
}
