package legacy_test

import (
	"bytes"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/server/servertest"
)

// TestLegacy_BadInput: hostile and malformed requests get a failure in the
// family's shape with the native status as code, never a 500 or a panic.
func TestLegacy_BadInput(t *testing.T) {
	env := servertest.New(t, servertest.Options{})
	tenant := map[string]string{"XownerId": "default"}
	for _, tc := range []struct {
		name  string
		req   servertest.Request
		code  int
		errID string
	}{
		{"missing refreshToken", servertest.Request{Method: "GET", Path: pathRefresh, Header: tenant}, 400, "invalid_request"},
		{"empty refreshToken", servertest.Request{Method: "GET", Path: pathRefresh + "?refreshToken=", Header: tenant}, 400, "invalid_request"},
		{"10k refreshToken", servertest.Request{Method: "GET", Path: pathRefresh + "?refreshToken=" + strings.Repeat("r", 10000), Header: tenant}, 400, "invalid_grant"},
		{"sql refreshToken", servertest.Request{Method: "GET", Path: pathRefresh + "?" + url.Values{"refreshToken": {"' OR 1=1; --"}}.Encode(), Header: tenant}, 400, "invalid_grant"},
		{"unicode refreshToken", servertest.Request{Method: "GET", Path: pathRefresh + "?" + url.Values{"refreshToken": {"\u202e\u0000\U0001F600"}}.Encode(), Header: tenant}, 400, "invalid_grant"},
		{"malformed query", servertest.Request{Method: "GET", Path: pathRefresh + "?refreshToken=%zz&_nodejs=%", Header: tenant}, 400, "invalid_request"},
		{"sql XownerId", servertest.Request{Method: "GET", Path: pathRefresh + "?refreshToken=x", Header: map[string]string{"XownerId": "' OR 1=1"}}, 400, "invalid_request"},
		{"long XownerId", servertest.Request{Method: "GET", Path: pathRefresh + "?refreshToken=x", Header: map[string]string{"XownerId": strings.Repeat("t", 10000)}}, 400, "invalid_request"},
		{"body over 64 KiB", servertest.Request{Method: "GET", Path: pathRefresh + "?refreshToken=x", Header: tenant, Body: bytes.NewReader(make([]byte, 70<<10))}, 413, "request_too_large"},
		{"POST", servertest.Request{Method: "POST", Path: pathRefresh, Header: tenant}, 405, "method_not_allowed"},
		{"DELETE", servertest.Request{Method: "DELETE", Path: pathRefresh, Header: tenant}, 405, "method_not_allowed"},
		{"unknown path", servertest.Request{Method: "GET", Path: "/bo/api/v3/auth/token/nope", Header: tenant}, 404, "not_found"},
		{"trailing slash", servertest.Request{Method: "GET", Path: pathRefresh + "/", Header: tenant}, 404, "not_found"},
		{"bo root", servertest.Request{Method: "GET", Path: "/bo/"}, 404, "not_found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := failure(t, tc.name, env.Do(tc.req), tc.code); got != tc.errID {
				t.Fatalf("errorCode %s, want %s", got, tc.errID)
			}
		})
	}
	if env.LogsContain("panic") {
		t.Fatalf("a request panicked: %s", env.Logs.String())
	}
}

// TestLegacy_FamilyDisabled: left out of GATEHOUSE_FAMILIES, the family
// answers a plain 404.
func TestLegacy_FamilyDisabled(t *testing.T) {
	env := servertest.New(t, servertest.Options{Env: map[string]string{"GATEHOUSE_FAMILIES": "native,app"}})
	for _, p := range []string{pathRefresh + "?refreshToken=x", "/bo/anything"} {
		r := env.Do(servertest.Request{Method: "GET", Path: p, Header: map[string]string{"XownerId": "default"}})
		if r.Status != 404 || r.JSON(t)["error"] != "not_found" {
			t.Errorf("GET %s with the family off: %d %s", p, r.Status, r.Body)
		}
	}
}
