package admin_test

import (
	"net/http"
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/server/servertest"
)

// TestProviders_OneIssuerPerTenant: a second provider of a tenant with the
// same issuer is a conflict; another tenant may register it.
func TestProviders_OneIssuerPerTenant(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			env := servertest.New(t, servertest.Options{Postgres: b.pg})
			env.CreateProvider("", map[string]any{"name": "web", "issuer": "https://idp.example", "audiences": []string{"web"}})
			if r := env.Admin("POST", "/admin/providers", "", map[string]any{"name": "mobile", "issuer": "https://idp.example",
				"audiences": []string{"mobile"}}); r.Status != http.StatusConflict || r.JSON(t)["error"] != "conflict" {
				t.Errorf("second provider of the issuer: %d %s", r.Status, r.Body)
			}
			if r := env.Admin("POST", "/admin/tenants", "", map[string]any{"id": "acme"}); r.Status != http.StatusCreated {
				t.Fatalf("tenant: %d %s", r.Status, r.Body)
			}
			env.CreateProvider("acme", map[string]any{"name": "web", "issuer": "https://idp.example", "audiences": []string{"web"}})
		})
	}
}

// TestProviders_AddressRule: without GATEHOUSE_PROVIDER_ALLOW_INSECURE, the
// issuer and jwks_uri must be https URLs of public hosts.
func TestProviders_AddressRule(t *testing.T) {
	env := servertest.New(t, servertest.Options{Env: map[string]string{"GATEHOUSE_PROVIDER_ALLOW_INSECURE": "false"}})
	for _, c := range []struct{ issuer, jwks string }{
		{"http://8.8.8.8", ""},
		{"https://127.0.0.1", ""},
		{"https://localhost:8443", ""},
		{"https://10.0.0.1", ""},
		{"https://172.16.5.4", ""},
		{"https://192.168.1.1", ""},
		{"https://169.254.169.254", ""},
		{"https://[::1]", ""},
		{"https://[fe80::1]", ""},
		{"https://0.0.0.0", ""},
		{"https://8.8.8.8", "https://127.0.0.1/keys"},
		{"https://8.8.8.8", "http://8.8.4.4/keys"},
	} {
		body := map[string]any{"name": "p", "issuer": c.issuer, "audiences": []string{"a"}}
		if c.jwks != "" {
			body["jwks_uri"] = c.jwks
		}
		if r := env.Admin("POST", "/admin/providers", "", body); r.Status != http.StatusBadRequest || r.JSON(t)["error"] != "invalid_request" {
			t.Errorf("issuer %s jwks %s: %d %s, want 400", c.issuer, c.jwks, r.Status, r.Body)
		}
	}
	env.CreateProvider("", map[string]any{"name": "public", "issuer": "https://8.8.8.8", "jwks_uri": "https://8.8.4.4/keys",
		"audiences": []string{"a"}})
}
