package openapi_test

import (
	"bytes"
	"net/http"
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/openapi"
	"github.com/gatehouse-auth/gatehouse/internal/server/servertest"
)

func init() {
	register(family{name: "operational", exercise: exerciseOperational})
}

// exerciseOperational covers /healthz, /readyz, /metrics and /openapi.json.
func exerciseOperational(t *testing.T, env *servertest.Env, check checkFunc) {
	check(call{Method: "GET", Path: "/healthz", Want: http.StatusOK})
	check(call{Method: "GET", Path: "/readyz", Want: http.StatusOK})
	if r := check(call{Method: "GET", Path: "/metrics", Want: http.StatusOK}); !bytes.Contains(r.Body, []byte("# TYPE")) {
		t.Errorf("/metrics is not in the exposition format: %.200s", r.Body)
	}
	r := check(call{Method: "GET", Path: "/openapi.json", Want: http.StatusOK})
	if !bytes.Equal(r.Body, openapi.Document()) {
		t.Errorf("GET /openapi.json does not serve Document() (%d bytes, want %d)", len(r.Body), len(openapi.Document()))
	}

	// A store that does not answer: readiness fails, liveness does not.
	down, checkDown := startServer(t, servertest.Options{})
	if err := down.Server.Store.Close(); err != nil {
		t.Fatalf("close store: %v", err)
	}
	checkDown(call{Method: "GET", Path: "/readyz", Want: http.StatusServiceUnavailable})
	checkDown(call{Method: "GET", Path: "/healthz", Want: http.StatusOK})
}
