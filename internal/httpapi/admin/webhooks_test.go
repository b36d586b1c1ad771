package admin_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/server/servertest"
	"github.com/gatehouse-auth/gatehouse/internal/store/postgres/pgtest"
	"github.com/gatehouse-auth/gatehouse/sdk"
)

var insecureWebhooks = map[string]string{"GATEHOUSE_WEBHOOK_ALLOW_INSECURE": "true", "GATEHOUSE_WEBHOOK_POLL_INTERVAL": "50ms"}

// hookReceiver is a real endpoint that verifies each delivery with the
// SDK and keeps the events in arrival order.
type hookReceiver struct {
	t      *testing.T
	srv    *httptest.Server
	mu     sync.Mutex
	v      *sdk.WebhookVerifier
	events []sdk.WebhookEvent
	block  chan struct{} // when set, requests wait for it to close
	hits   chan struct{}
}

func newHookReceiver(t *testing.T) *hookReceiver {
	r := &hookReceiver{t: t, hits: make(chan struct{}, 100)}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.hits <- struct{}{}
		r.mu.Lock()
		v, block := r.v, r.block
		r.mu.Unlock()
		if block != nil {
			select {
			case <-block:
			case <-req.Context().Done():
				return
			}
		}
		ev, err := v.Verify(req.Header, body)
		if err != nil {
			t.Errorf("delivery does not verify: %v", err)
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		r.mu.Lock()
		r.events = append(r.events, ev)
		r.mu.Unlock()
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *hookReceiver) verifyWith(secret string, now func() time.Time) {
	v, err := sdk.NewWebhookVerifier(secret)
	if err != nil {
		r.t.Fatal(err)
	}
	v.Now = now
	r.mu.Lock()
	r.v = v
	r.mu.Unlock()
}

// wait returns the events once n have arrived.
func (r *hookReceiver) wait(n int) []sdk.WebhookEvent {
	r.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		r.mu.Lock()
		got := append([]sdk.WebhookEvent(nil), r.events...)
		r.mu.Unlock()
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("%d of %d webhook events arrived", len(got), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

type hookData struct {
	ID        string `json:"id"`
	Type      string `json:"type"`
	TenantID  string `json:"tenant_id"`
	UserID    string `json:"user_id"`
	SessionID string `json:"session_id"`
}

func dataOf(t *testing.T, ev sdk.WebhookEvent) hookData {
	t.Helper()
	var d hookData
	if err := json.Unmarshal(ev.Data, &d); err != nil {
		t.Fatalf("data of %s: %v", ev.ID, err)
	}
	return d
}

// sidOf reads the session id claim of an access token.
func sidOf(t *testing.T, access string) string {
	t.Helper()
	parts := strings.Split(access, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", access)
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var c struct{ Sid string }
	if err := json.Unmarshal(raw, &c); err != nil {
		t.Fatal(err)
	}
	return c.Sid
}

// eachStore runs fn on a server with env over each store.
func eachStore(t *testing.T, env map[string]string, fn func(t *testing.T, opts servertest.Options)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, servertest.Options{Env: env}) })
	t.Run("postgres", func(t *testing.T) {
		pgtest.DSN(t)
		fn(t, servertest.Options{Postgres: true, Env: env})
	})
}

// TestWebhooks_DeliveredSignedInOrder: audit events of the subscribed
// types reach the endpoint signed, in the order they happened, with the
// user they concern; other types and other tenants' events do not.
func TestWebhooks_DeliveredSignedInOrder(t *testing.T) {
	eachStore(t, insecureWebhooks, func(t *testing.T, opts servertest.Options) {
		env := servertest.New(t, opts)
		rcv := newHookReceiver(t)
		r := env.Admin("POST", "/admin/webhooks", "", map[string]any{"url": rcv.srv.URL + "/hook",
			"events": []string{"user_created", "login_failed", "refresh_token_reused"}})
		if r.Status != http.StatusCreated {
			t.Fatalf("create webhook: %d %s", r.Status, r.Body)
		}
		secret, _ := r.JSON(t)["secret"].(string)
		if !strings.HasPrefix(secret, "whsec_") {
			t.Fatalf("secret %q", secret)
		}
		rcv.verifyWith(secret, env.Clock.Now)

		var ids []string
		for i := range 3 {
			ids = append(ids, env.CreateUser("", map[string]any{"username": fmt.Sprint("user", i), "password": pw}))
		}
		if r := env.Do(servertest.Request{Method: "POST", Path: "/auth/login",
			JSON: map[string]any{"username": "user0", "password": "wrong password!"}}); r.Status != http.StatusUnauthorized {
			t.Fatalf("failed login: %d", r.Status)
		}
		tk := env.Login("", "user1", pw) // login_succeeded: not subscribed
		if r := env.Refresh("", tk.RefreshToken); r.Status != http.StatusOK {
			t.Fatalf("refresh: %d", r.Status)
		}
		if r := env.Refresh("", tk.RefreshToken); r.Status != http.StatusBadRequest {
			t.Fatalf("reuse: %d", r.Status)
		}
		env.Admin("POST", "/admin/tenants", "", map[string]any{"id": "other", "name": "Other"})
		env.CreateUser("other", map[string]any{"username": "elsewhere", "password": pw})

		got := rcv.wait(5)
		want := []struct{ typ, user string }{
			{"user_created", ids[0]}, {"user_created", ids[1]}, {"user_created", ids[2]},
			{"login_failed", ""}, {"refresh_token_reused", ids[1]},
		}
		for i, w := range want {
			d := dataOf(t, got[i])
			if got[i].Type != w.typ || d.Type != w.typ || (w.user != "" && d.UserID != w.user) || d.TenantID != "default" {
				t.Errorf("event %d = %s %s, want %s of user %q", i, got[i].Type, got[i].Data, w.typ, w.user)
			}
		}
		if d, sid := dataOf(t, got[4]), sidOf(t, tk.AccessToken); d.SessionID != sid {
			t.Errorf("reuse event session %q, want %q", d.SessionID, sid)
		}

		id := r.JSON(t)["id"].(string)
		var log struct {
			Deliveries []struct {
				ID, Status, EventType string
				Attempts              int
				LastStatus            int `json:"last_status"`
			}
		}
		env.Admin("GET", "/admin/webhooks/"+id+"/deliveries", "", nil).Decode(t, &log)
		// The outbox rows are written with the events: exactly five means
		// no unsubscribed type and nothing of the other tenant was queued.
		if len(log.Deliveries) != 5 {
			t.Fatalf("delivery log has %d entries, want 5", len(log.Deliveries))
		}
		for i, d := range log.Deliveries {
			if d.Status != "delivered" || d.Attempts != 1 || d.LastStatus != 200 || d.ID != got[4-i].ID {
				t.Errorf("log entry %d = %+v (newest first)", i, d)
			}
		}
	})
}

// TestWebhooks_SlowEndpointDoesNotHoldSignIn: while the endpoint holds a
// delivery open, sign-ins and refreshes (each writing a subscribed event)
// still answer.
func TestWebhooks_SlowEndpointDoesNotHoldSignIn(t *testing.T) {
	env := servertest.New(t, servertest.Options{Env: insecureWebhooks})
	rcv := newHookReceiver(t)
	release := make(chan struct{})
	rcv.block = release
	defer close(release)
	r := env.Admin("POST", "/admin/webhooks", "", map[string]any{"url": rcv.srv.URL, "events": []string{"*"}})
	rcv.verifyWith(r.JSON(t)["secret"].(string), env.Clock.Now)
	env.CreateUser("", map[string]any{"username": "alice", "password": pw})
	select {
	case <-rcv.hits:
	case <-time.After(10 * time.Second):
		t.Fatal("no delivery started")
	}
	for range 5 {
		tk := env.Login("", "alice", pw)
		if r := env.Refresh("", tk.RefreshToken); r.Status != http.StatusOK {
			t.Fatalf("refresh while the endpoint hangs: %d", r.Status)
		}
	}
}

// TestWebhooks_Admin: the secret is shown once and never logged, the URL
// rule applies, events and changes are audited, tenants are separate and
// bad input gets clear errors.
func TestWebhooks_Admin(t *testing.T) {
	eachStore(t, nil, func(t *testing.T, opts servertest.Options) {
		env := servertest.New(t, opts)
		r := env.Admin("POST", "/admin/webhooks", "", map[string]any{"url": "https://203.0.113.10/x", "events": []string{"*"}})
		if r.Status != http.StatusCreated {
			t.Fatalf("create: %d %s", r.Status, r.Body)
		}
		created := r.JSON(t)
		id, secret := created["id"].(string), created["secret"].(string)
		if r := env.Admin("GET", "/admin/webhooks/"+id, "", nil); strings.Contains(string(r.Body), "secret") {
			t.Fatalf("GET shows the secret: %s", r.Body)
		}
		if r := env.Admin("GET", "/admin/webhooks", "", nil); strings.Contains(string(r.Body), "secret") || !strings.Contains(string(r.Body), id) {
			t.Fatalf("list: %s", r.Body)
		}
		given := "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
		r = env.Admin("PATCH", "/admin/webhooks/"+id, "", map[string]any{"secret": given, "events": []string{"logout"}})
		if r.Status != http.StatusOK || r.JSON(t)["secret"] != given {
			t.Fatalf("patch secret: %d %s", r.Status, r.Body)
		}
		if r := env.Admin("PATCH", "/admin/webhooks/"+id, "", map[string]any{"url": "https://203.0.113.10/y"}); r.Status != http.StatusOK ||
			r.JSON(t)["url"] != "https://203.0.113.10/y" || r.JSON(t)["secret"] != nil {
			t.Fatalf("patch url: %d %s", r.Status, r.Body)
		}
		if strings.Contains(env.Logs.String(), secret[6:]) || strings.Contains(env.Logs.String(), given[6:]) {
			t.Fatal("a webhook secret was logged")
		}
		if r := env.Admin("GET", "/admin/webhooks/"+id, "", nil); r.JSON(t)["events"].([]any)[0] != "logout" {
			t.Fatalf("after patch: %s", r.Body)
		}

		// Another tenant sees nothing of it.
		env.Admin("POST", "/admin/tenants", "", map[string]any{"id": "other", "name": "Other"})
		for _, req := range [][2]string{{"GET", ""}, {"PATCH", ""}, {"DELETE", ""}, {"POST", "/test"}, {"GET", "/deliveries"}} {
			var body any
			if req[0] == "PATCH" {
				body = map[string]any{}
			}
			if r := env.Admin(req[0], "/admin/webhooks/"+id+req[1], "other", body); r.Status != http.StatusNotFound {
				t.Errorf("%s of another tenant's webhook: %d", req[0]+req[1], r.Status)
			}
		}

		bad := []struct {
			method, path string
			body         any
			want         int
		}{
			{"POST", "/admin/webhooks", map[string]any{"url": "http://hooks.example.com/x", "events": []string{"*"}}, 400},
			{"POST", "/admin/webhooks", map[string]any{"url": "https://127.0.0.1/x", "events": []string{"*"}}, 400},
			{"POST", "/admin/webhooks", map[string]any{"url": "https://10.0.0.7/x", "events": []string{"*"}}, 400},
			{"POST", "/admin/webhooks", map[string]any{"url": "https://169.254.169.254/x", "events": []string{"*"}}, 400},
			{"POST", "/admin/webhooks", map[string]any{"url": "https://[::1]/x", "events": []string{"*"}}, 400},
			{"POST", "/admin/webhooks", map[string]any{"url": "https://203.0.113.10/x\u0000", "events": []string{"*"}}, 400},
			{"POST", "/admin/webhooks", map[string]any{"url": "https://203.0.113.10/x", "events": []string{}}, 400},
			{"POST", "/admin/webhooks", map[string]any{"url": "https://203.0.113.10/x", "events": []string{"a\u0000b"}}, 400},
			{"POST", "/admin/webhooks", map[string]any{"url": "https://203.0.113.10/x", "events": []string{"*"}, "secret": "hunter2"}, 400},
			{"POST", "/admin/webhooks", map[string]any{"url": "https://203.0.113.10/x", "events": []string{"*"}, "secret": "whsec_c2hvcnQ="}, 400},
			{"POST", "/admin/webhooks", map[string]any{"url": "https://203.0.113.10/x", "events": "*"}, 400},
			{"PATCH", "/admin/webhooks/" + id, map[string]any{"url": "https://192.168.0.1/"}, 400},
			{"PATCH", "/admin/webhooks/" + id, map[string]any{"secret": ""}, 400},
			{"GET", "/admin/webhooks/wh_%00", nil, 400}, // a NUL in a path is refused before any handler
			{"GET", "/admin/webhooks/" + strings.Repeat("9", 500), nil, 404},
			{"DELETE", "/admin/webhooks/%27%20OR%201%3D1%20--", nil, 404},
			{"GET", "/admin/webhooks/" + id + "/deliveries?limit=abc", nil, 400},
		}
		for _, c := range bad {
			r := env.Admin(c.method, c.path, "", c.body)
			if r.Status != c.want || r.JSON(t)["error"] == "" {
				t.Errorf("%s %.60s %v: %d %s, want %d", c.method, c.path, c.body, r.Status, r.Body, c.want)
			}
		}
		if r := env.Admin("DELETE", "/admin/webhooks/"+id, "", nil); r.Status != http.StatusNoContent {
			t.Fatalf("delete: %d", r.Status)
		}
		if r := env.Admin("GET", "/admin/webhooks", "", nil); strings.Contains(string(r.Body), id) {
			t.Fatalf("deleted webhook listed: %s", r.Body)
		}
		var audit struct{ Events []struct{ Type string } }
		env.Admin("GET", "/admin/audit?limit=1000", "", nil).Decode(t, &audit)
		count := map[string]int{}
		for _, e := range audit.Events {
			count[e.Type]++
		}
		if count["webhook_created"] != 1 || count["webhook_updated"] != 2 || count["webhook_deleted"] != 1 {
			t.Errorf("audit events %v, want webhook_created 1, webhook_updated 2, webhook_deleted 1", count)
		}
	})
}
