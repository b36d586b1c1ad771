package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/config"
	"github.com/gatehouse-auth/gatehouse/internal/federation/fedtest"
	"github.com/gatehouse-auth/gatehouse/internal/password"
	"github.com/gatehouse-auth/gatehouse/internal/server"
	"github.com/gatehouse-auth/gatehouse/internal/server/servertest"
)

// startFromFile starts a server from a YAML configuration file in dir.
func startFromFile(t *testing.T, dir, yaml string) *httptest.Server {
	t.Helper()
	path := filepath.Join(dir, "gatehouse.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"GATEHOUSE_DATA_DIR":   dir,
		"GATEHOUSE_DB":         "sqlite:" + filepath.Join(dir, "gatehouse.db"),
		"GATEHOUSE_ADMIN_KEY":  servertest.AdminKey,
		"GATEHOUSE_MASTER_KEY": servertest.MasterKey,
		// The test provider listens on 127.0.0.1.
		"GATEHOUSE_PROVIDER_ALLOW_INSECURE": "true",
	}
	cfg, err := config.Load(path, func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	srv, err := server.New(context.Background(), cfg, server.Options{
		Logger:     slog.New(slog.NewTextHandler(io.Discard, nil)),
		HashParams: &password.Params{Memory: 1024, Iterations: 1, Parallelism: 1, SaltLen: 16, KeyLen: 32},
	})
	if err != nil {
		t.Fatalf("server: %v", err)
	}
	hs := httptest.NewServer(srv.Handler)
	t.Cleanup(func() { hs.Close(); srv.Close() })
	return hs
}

func post(t *testing.T, hs *httptest.Server, path, tenant string, body any) (int, map[string]any) {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", hs.URL+path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Tenant-ID", tenant)
	return send(t, req)
}

func adminGet(t *testing.T, hs *httptest.Server, path, tenant string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest("GET", hs.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+servertest.AdminKey)
	req.Header.Set("X-Tenant-ID", tenant)
	return send(t, req)
}

func send(t *testing.T, req *http.Request) (int, map[string]any) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, m
}

func TestConfigProviders_RegisteredAtStartup(t *testing.T) {
	idp := fedtest.New(t)
	dir := t.TempDir()
	yaml := fmt.Sprintf(`providers:
  - name: corp
    issuer: %s
    audiences: [web-app]
    auto_provision: true
  - tenant: acme
    name: corp
    issuer: %s
    audiences: web-app, mobile-app
    jwks_uri: %s
    algorithms: [ES256]
`, idp.Issuer, idp.Issuer, idp.JWKSURI)
	hs := startFromFile(t, dir, yaml)

	code, p := adminGet(t, hs, "/admin/providers/corp", "default")
	if code != http.StatusOK || p["issuer"] != idp.Issuer || p["auto_provision"] != true {
		t.Fatalf("default/corp: %d %v", code, p)
	}
	// The acme tenant was created for its provider.
	code, p = adminGet(t, hs, "/admin/providers/corp", "acme")
	if code != http.StatusOK || p["jwks_uri"] != idp.JWKSURI || len(p["audiences"].([]any)) != 2 || p["algorithms"].([]any)[0] != "ES256" {
		t.Fatalf("acme/corp: %d %v", code, p)
	}

	// The configured provider signs users in.
	code, body := post(t, hs, "/auth/id-token/signin", "default", map[string]any{
		"id_token": idp.Sign(idp.Claims("sub-1", "web-app", time.Now())), "provider": "corp"})
	if code != http.StatusOK || body["access_token"] == nil {
		t.Fatalf("sign-in through the configured provider: %d %v", code, body)
	}
	// acme's provider accepts only ES256; without auto_provision the identity is not linked.
	code, body = post(t, hs, "/auth/id-token/signin", "acme", map[string]any{
		"id_token": idp.Sign(idp.Claims("sub-1", "web-app", time.Now())), "provider": "corp"})
	if code != http.StatusUnauthorized || body["error"] != "invalid_id_token" {
		t.Fatalf("RS256 token for an ES256-only provider: %d %v", code, body)
	}
}

func TestConfigProviders_FileChangeReplacesProvider(t *testing.T) {
	idp := fedtest.New(t)
	dir := t.TempDir()
	first := fmt.Sprintf("providers:\n  - name: corp\n    issuer: %s\n    audiences: [a]\n", idp.Issuer)
	hs := startFromFile(t, dir, first)
	_, before := adminGet(t, hs, "/admin/providers/corp", "default")
	hs.Close()

	second := fmt.Sprintf("providers:\n  - name: corp\n    issuer: %s\n    audiences: [b]\n    link_by_email: true\n", idp.Issuer)
	hs = startFromFile(t, dir, second)
	code, after := adminGet(t, hs, "/admin/providers/corp", "default")
	if code != http.StatusOK || after["audiences"].([]any)[0] != "b" || after["link_by_email"] != true {
		t.Fatalf("provider after the file changed: %d %v", code, after)
	}
	if after["created_at"] != before["created_at"] {
		t.Errorf("created_at changed from %v to %v", before["created_at"], after["created_at"])
	}
}
