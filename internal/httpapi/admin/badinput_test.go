package admin_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/server/servertest"
)

// TestBadInput sends malformed and hostile requests to the admin API:
// every one gets a 4xx in the native error shape, never a 5xx, and nothing
// is created by them.
func TestBadInput(t *testing.T) {
	env := servertest.New(t, servertest.Options{})
	id := env.CreateUser("", map[string]any{"username": "alice", "password": pw})
	huge := strings.Repeat("x", 10000)
	type tc struct {
		method, path, ctype, body string
		want                      int
	}
	cases := []tc{
		{"POST", "/admin/users", "text/plain", `{"username":"a"}`, 415},
		{"POST", "/admin/users", "application/json", `{"username":`, 400},
		{"POST", "/admin/users", "application/json", `{"username":"a","roles":"admin"}`, 400},
		{"POST", "/admin/users", "application/json", `{"username":"` + strings.Repeat("x", 70<<10) + `"}`, 413},
		{"POST", "/admin/users", "application/json", `{"username":"` + huge + `"}`, 400},
		{"POST", "/admin/users", "application/json", `{"username":"a\u0000b"}`, 400},
		{"POST", "/admin/users", "application/json", `{"username":"x","id":"1; DROP TABLE users"}`, 400},
		{"POST", "/admin/users", "application/json", `{"username":"x","groups":["` + huge + `"]}`, 400},
		{"POST", "/admin/tenants", "application/json", `{"id":"' OR 1=1 --"}`, 400},
		{"POST", "/admin/tenants", "application/json", `[]`, 400},
		{"PATCH", "/admin/users/" + id, "application/json", `{"status":"root"}`, 400},
		{"PATCH", "/admin/users/" + id, "application/json", `{"password_changed_at":"yesterday"}`, 400},
		{"PATCH", "/admin/users/" + id, "application/json", `{"email":"' OR 1=1 --"}`, 400},
		{"PATCH", "/admin/users/" + id, "text/plain", `{}`, 415},
		{"PATCH", "/admin/users/%27%20OR%201%3D1%20--", "application/json", `{}`, 404},
		{"GET", "/admin/users/" + strings.Repeat("9", 500), "", "", 404},
		{"GET", "/admin/users?limit=-1", "", "", 400},
		{"GET", "/admin/users?limit=abc", "", "", 400},
		{"GET", "/admin/audit?limit=100000", "", "", 400},
		{"GET", "/admin/audit?type=%27%20OR%201%3D1%20--", "", "", 200},
		{"DELETE", "/admin/sessions/%F0%9D%94%98", "", "", 404},
		{"POST", "/admin/keys/rotate", "application/json", `{"alg":"HS256"}`, 400},
		{"POST", "/admin/keys/rotate", "application/json", `{"alg":"none"}`, 400},
		{"PUT", "/admin/users", "", "", 405},
		{"GET", "/admin/nope", "", "", 404},
	}
	for _, c := range cases {
		req := servertest.Request{Method: c.method, Path: c.path, Bearer: servertest.AdminKey, Header: map[string]string{}}
		if c.ctype != "" {
			req.Header["Content-Type"] = c.ctype
			req.Body = strings.NewReader(c.body)
		}
		r := env.Do(req)
		if r.Status != c.want {
			t.Errorf("%s %.60s: got %d, want %d: %.200s", c.method, c.path, r.Status, c.want, r.Body)
			continue
		}
		if c.want >= 400 {
			m := r.JSON(t)
			if m["code"] != float64(c.want) || m["error"] == "" || m["message"] == "" || m["timestamp"] == "" {
				t.Errorf("%s %.60s: not the native error shape: %s", c.method, c.path, r.Body)
			}
		}
	}
	users := env.Admin("GET", "/admin/users", "", nil).JSON(t)["users"].([]any)
	if len(users) != 1 {
		t.Fatalf("bad input created users: %d", len(users))
	}
	if r := env.Admin("GET", "/admin/users/"+id, "", nil); r.JSON(t)["status"] != "active" {
		t.Fatalf("bad input changed the user: %s", r.Body)
	}
}

func TestMetrics(t *testing.T) {
	env := servertest.New(t, servertest.Options{})
	env.CreateUser("", map[string]any{"username": "alice", "password": pw})
	tk := env.Login("", "alice", pw)
	env.Refresh("", tk.RefreshToken)
	env.Refresh("", tk.RefreshToken) // reuse
	env.Do(servertest.Request{Method: "POST", Path: "/auth/login", JSON: map[string]any{"username": "alice", "password": "nope nope nope"}})
	r := env.Do(servertest.Request{Method: "GET", Path: "/metrics"})
	if r.Status != http.StatusOK {
		t.Fatalf("metrics: %d", r.Status)
	}
	body := string(r.Body)
	for _, want := range []string{
		`gatehouse_refreshes_total{outcome="rotated"} 1`,
		`gatehouse_refreshes_total{outcome="reused"} 1`,
		`gatehouse_refresh_reuse_detected_total 1`,
		`gatehouse_logins_total{outcome="success"} 1`,
		`gatehouse_logins_total{outcome="invalid_credentials"} 1`,
		`gatehouse_http_requests_total{code="200",route="POST /auth/refresh"} 1`,
		`gatehouse_http_request_duration_seconds_bucket{route="POST /auth/login"`,
		`go_goroutines`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}
