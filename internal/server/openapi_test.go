package server_test

import (
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/server/servertest"
)

// TestOpenAPI_OnlyServedFamilies: /openapi.json describes what the server
// serves, not the families GATEHOUSE_FAMILIES left out (they answer 404).
func TestOpenAPI_OnlyServedFamilies(t *testing.T) {
	env := servertest.New(t, servertest.Options{Env: map[string]string{"GATEHOUSE_FAMILIES": "native"}})
	r := env.Do(servertest.Request{Method: "GET", Path: "/openapi.json"})
	if r.Status != 200 {
		t.Fatalf("GET /openapi.json: %d", r.Status)
	}
	doc := string(r.Body)
	for _, off := range []string{`"/bo/api/v3/auth/token/refresh"`, `"/oauth2/token"`, `"/api/v1/`} {
		if strings.Contains(doc, off) {
			t.Errorf("/openapi.json still describes %s of a switched-off family", off)
		}
	}
	for _, on := range []string{`"/auth/login"`, `"/admin/users"`, `"/.well-known/jwks.json"`, `"/healthz"`} {
		if !strings.Contains(doc, on) {
			t.Errorf("/openapi.json lacks %s", on)
		}
	}
}
