package app_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/server/servertest"
)

// BenchmarkAccessVerifyHTTP is one POST access/verify through the whole
// HTTP stack (real server, real SQLite): Basic client authentication
// (SHA-256 and a constant-time compare against the cached client), form
// decoding, JWT verification with the cached key, the in-memory revocation
// check and the known-alive session. No database round trip per call.
func BenchmarkAccessVerifyHTTP(b *testing.B) {
	env := servertest.New(b, servertest.Options{RealClock: true})
	env.CreateUser("", map[string]any{"username": "alice", "password": pw})
	c := env.CreateClient("", "shop")
	access := env.Login("", "alice", pw).AccessToken
	r := env.App("POST", pathLogin, c, url.Values{"token": {access}, "grantType": {"refresh_token"}})
	appAccess := rawAccessToken(b, r)
	body := url.Values{"token": {appAccess}}.Encode()
	auth := servertest.BasicAuth(c.ID, c.Secret)
	client := env.HTTP.Client()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		req, _ := http.NewRequest("POST", env.URL+pathVerify, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Authorization", auth)
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		out, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.HasPrefix(string(out), `{"code":0,`) {
			b.Fatalf("verify: %s", out)
		}
	}
}

// BenchmarkBaselineHTTP is a trivial handler on the same kind of server
// and client, with the same request shape: the ratio of the benchmark
// above to this one is the figure to compare across machines.
func BenchmarkBaselineHTTP(b *testing.B) {
	body := url.Values{"token": {strings.Repeat("t", 400)}}.Encode()
	auth := servertest.BasicAuth(strings.Repeat("i", 22), strings.Repeat("s", 43))
	servertest.BenchmarkBaseline(b, func(base string) *http.Request {
		req, _ := http.NewRequest("POST", base, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Authorization", auth)
		return req
	})
}

func rawAccessToken(b *testing.B, r *servertest.Response) string {
	b.Helper()
	s := string(r.Body)
	i := strings.Index(s, `"accessToken":"`)
	if i < 0 {
		b.Fatalf("login: %s", s)
	}
	s = s[i+len(`"accessToken":"`):]
	return s[:strings.IndexByte(s, '"')]
}
