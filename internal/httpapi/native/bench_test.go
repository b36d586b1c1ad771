package native_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/server/servertest"
)

// BenchmarkRefreshHTTP is one POST /auth/refresh through the whole HTTP
// stack (real server, real SQLite), each iteration presenting the token the
// previous one returned.
func BenchmarkRefreshHTTP(b *testing.B) {
	env := servertest.New(b, servertest.Options{RealClock: true})
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

// BenchmarkMeHTTP is one GET /auth/me (access token verification plus a
// user read) through the whole HTTP stack.
func BenchmarkMeHTTP(b *testing.B) {
	env := servertest.New(b, servertest.Options{RealClock: true})
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

// BenchmarkBaselineHTTP is a trivial JSON handler on the same kind of
// server and client: the ratio of the benchmarks above to this one is the
// figure to compare across machines.
func BenchmarkBaselineHTTP(b *testing.B) {
	servertest.BenchmarkBaseline(b, func(base string) *http.Request {
		req, _ := http.NewRequest("POST", base, strings.NewReader(`{"refresh_token":"x"}`))
		req.Header.Set("Content-Type", "application/json")
		return req
	})
}
