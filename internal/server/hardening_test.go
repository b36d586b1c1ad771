package server_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/server/servertest"
)

// TestHardening_HeadersOnEveryAnswer: every family, success or error, and
// the operational endpoints carry nosniff and no-referrer; HSTS only when
// the issuer is https; HTML answers a CSP that forbids framing.
func TestHardening_HeadersOnEveryAnswer(t *testing.T) {
	for _, issuer := range []string{"http://gatehouse.test", "https://gatehouse.test"} {
		t.Run(issuer, func(t *testing.T) {
			env := servertest.New(t, servertest.Options{Env: map[string]string{"GATEHOUSE_ISSUER": issuer}})
			reqs := []servertest.Request{
				{Method: "GET", Path: "/healthz"},
				{Method: "GET", Path: "/readyz"},
				{Method: "GET", Path: "/metrics"},
				{Method: "GET", Path: "/openapi.json"},
				{Method: "GET", Path: "/.well-known/openid-configuration"},
				{Method: "GET", Path: "/.well-known/jwks.json"},
				{Method: "POST", Path: "/auth/login", JSON: map[string]any{"username": "nobody", "password": "x"}},
				{Method: "GET", Path: "/auth/me"},
				{Method: "GET", Path: "/auth/nope"},
				{Method: "GET", Path: "/bo/api/v3/auth/token/refresh?refreshToken=x", Header: map[string]string{"XownerId": "default"}},
				{Method: "POST", Path: "/api/v1/public/login/verify"},
				{Method: "POST", Path: "/oauth2/token", Header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}},
				{Method: "GET", Path: "/admin/users", Bearer: servertest.AdminKey},
				{Method: "GET", Path: "/admin/users"},
				{Method: "GET", Path: "/debug/pprof/", Bearer: servertest.AdminKey},
			}
			for _, req := range reqs {
				r := env.Do(req)
				name := req.Method + " " + req.Path
				if r.Header.Get("X-Content-Type-Options") != "nosniff" || r.Header.Get("Referrer-Policy") != "no-referrer" {
					t.Errorf("%s (%d): nosniff %q, referrer %q", name, r.Status, r.Header.Get("X-Content-Type-Options"), r.Header.Get("Referrer-Policy"))
				}
				hsts := r.Header.Get("Strict-Transport-Security")
				if strings.HasPrefix(issuer, "https") != (hsts != "") {
					t.Errorf("%s: Strict-Transport-Security %q with issuer %s", name, hsts, issuer)
				}
				csp := r.Header.Get("Content-Security-Policy")
				if strings.HasPrefix(r.Header.Get("Content-Type"), "text/html") {
					if !strings.Contains(csp, "frame-ancestors 'none'") {
						t.Errorf("%s: HTML answer with CSP %q", name, csp)
					}
				} else if csp != "" {
					t.Errorf("%s: non-HTML answer (%s) with CSP %q", name, r.Header.Get("Content-Type"), csp)
				}
			}
			// The pprof index is the one HTML answer so far.
			if r := env.Do(reqs[len(reqs)-1]); !strings.HasPrefix(r.Header.Get("Content-Type"), "text/html") {
				t.Errorf("pprof index is %q, the test needs an HTML answer", r.Header.Get("Content-Type"))
			}
		})
	}
}

// TestMetrics_Authentication: open by default; with GATEHOUSE_METRICS_AUTH
// only the admin key or the metrics token gets the metrics.
func TestMetrics_Authentication(t *testing.T) {
	open := servertest.New(t, servertest.Options{})
	if r := open.Do(servertest.Request{Method: "GET", Path: "/metrics"}); r.Status != http.StatusOK {
		t.Fatalf("default /metrics: %d", r.Status)
	}

	const token = "metrics-token-0123456789abcdef0123456789"
	env := servertest.New(t, servertest.Options{Env: map[string]string{"GATEHOUSE_METRICS_AUTH": "true", "GATEHOUSE_METRICS_TOKEN": token}})
	env.CreateUser("", map[string]any{"username": "root", "password": "correct horse battery", "roles": []string{"admin"}})
	userAdmin := env.Login("", "root", "correct horse battery").AccessToken
	for _, c := range []struct {
		what, bearer string
		want         int
	}{
		{"no bearer", "", http.StatusUnauthorized},
		{"wrong bearer", "nope", http.StatusUnauthorized},
		{"almost the token", token[:len(token)-1], http.StatusUnauthorized},
		{"a user with role admin", userAdmin, http.StatusUnauthorized},
		{"the metrics token", token, http.StatusOK},
		{"the admin key", servertest.AdminKey, http.StatusOK},
	} {
		r := env.Do(servertest.Request{Method: "GET", Path: "/metrics", Bearer: c.bearer})
		if r.Status != c.want {
			t.Errorf("%s: %d, want %d", c.what, r.Status, c.want)
		}
		if c.want == http.StatusOK && !strings.Contains(string(r.Body), "gatehouse_") {
			t.Errorf("%s: no metrics in %.100s", c.what, r.Body)
		}
		if c.want == http.StatusUnauthorized && r.Header.Get("WWW-Authenticate") == "" {
			t.Errorf("%s: 401 without WWW-Authenticate", c.what)
		}
	}

	keyOnly := servertest.New(t, servertest.Options{Env: map[string]string{"GATEHOUSE_METRICS_AUTH": "true"}})
	if r := keyOnly.Do(servertest.Request{Method: "GET", Path: "/metrics", Bearer: servertest.AdminKey}); r.Status != http.StatusOK {
		t.Errorf("admin key without a metrics token: %d", r.Status)
	}
	if r := keyOnly.Do(servertest.Request{Method: "GET", Path: "/metrics", Bearer: ""}); r.Status != http.StatusUnauthorized {
		t.Errorf("no bearer without a metrics token: %d", r.Status)
	}
}
