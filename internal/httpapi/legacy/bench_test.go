package legacy_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/server/servertest"
)

// BenchmarkLegacyRefreshHTTP is one GET /bo/api/v3/auth/token/refresh
// through the whole HTTP stack (real server, real SQLite), each iteration
// presenting the token the previous one returned.
func BenchmarkLegacyRefreshHTTP(b *testing.B) {
	env := servertest.New(b, servertest.Options{RealClock: true})
	env.CreateUser("", map[string]any{"username": "alice", "password": pw})
	refresh := env.Login("", "alice", pw).RefreshToken
	client := env.HTTP.Client()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		req, _ := http.NewRequest("GET", env.URL+pathRefresh+"?"+url.Values{"refreshToken": {refresh}, "_nodejs": {"common-data"}}.Encode(), nil)
		req.Header.Set("XownerId", "default")
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		var out struct {
			Code int `json:"code"`
			Data struct {
				RefreshToken string `json:"refreshToken"`
			} `json:"data"`
		}
		err = json.NewDecoder(resp.Body).Decode(&out)
		resp.Body.Close()
		if err != nil || out.Code != 0 {
			b.Fatalf("refresh: code %d %v", out.Code, err)
		}
		refresh = out.Data.RefreshToken
	}
}

// BenchmarkBaselineHTTP is a trivial handler on the same kind of server
// and client: the ratio of the benchmark above to this one is the figure
// to compare across machines.
func BenchmarkBaselineHTTP(b *testing.B) {
	servertest.BenchmarkBaseline(b, func(base string) *http.Request {
		req, _ := http.NewRequest("GET", base+pathRefresh+"?refreshToken=xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", nil)
		req.Header.Set("XownerId", "default")
		return req
	})
}
