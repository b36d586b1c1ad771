package native_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/gatehouse-auth/gatehouse/internal/server/servertest"
)

// tracedEnv is a server with tracing on: every span is recorded and
// batched as for OTLP export, then dropped, so the figures are the cost of
// the instrumentation without the network.
func tracedEnv(b *testing.B) *servertest.Env {
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(tracetest.NewNoopExporter()))
	b.Cleanup(func() { _ = tp.Shutdown(b.Context()) })
	return servertest.New(b, servertest.Options{RealClock: true, TracerProvider: tp})
}

// BenchmarkMeHTTPTraced is BenchmarkMeHTTP with tracing on.
func BenchmarkMeHTTPTraced(b *testing.B) {
	env := tracedEnv(b)
	env.CreateUser("", map[string]any{"username": "alice", "password": pw})
	access := env.Login("", "alice", pw).AccessToken
	client := env.HTTP.Client()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		req, _ := http.NewRequest("GET", env.URL+"/auth/me", nil)
		req.Header.Set("Authorization", "Bearer "+access)
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("me: %d", resp.StatusCode)
		}
	}
}

// BenchmarkRefreshHTTPTraced is BenchmarkRefreshHTTP with tracing on.
func BenchmarkRefreshHTTPTraced(b *testing.B) {
	env := tracedEnv(b)
	env.CreateUser("", map[string]any{"username": "alice", "password": pw})
	refresh := env.Login("", "alice", pw).RefreshToken
	client := env.HTTP.Client()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		body, _ := json.Marshal(map[string]string{"refresh_token": refresh})
		resp, err := client.Post(env.URL+"/auth/refresh", "application/json", bytes.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		var out struct {
			RefreshToken string `json:"refresh_token"`
		}
		err = json.NewDecoder(resp.Body).Decode(&out)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			b.Fatalf("refresh: %d %v", resp.StatusCode, err)
		}
		refresh = out.RefreshToken
	}
}
