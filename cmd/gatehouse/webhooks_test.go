package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/store/postgres/pgtest"
	"github.com/gatehouse-auth/gatehouse/sdk"
)

// webhookEnv makes deliveries to a loopback receiver possible and retries
// quick; the timeout bounds the lease (twice the timeout) of a delivery
// that a killed process left in flight.
var webhookEnv = map[string]string{
	"GATEHOUSE_WEBHOOK_ALLOW_INSECURE": "true",
	"GATEHOUSE_WEBHOOK_TIMEOUT":        "1s",
	"GATEHOUSE_WEBHOOK_RETRY_BASE":     "100ms",
	"GATEHOUSE_WEBHOOK_POLL_INTERVAL":  "50ms",
}

func withEnv(maps ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, m := range maps {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

// sink is a real webhook endpoint: it verifies every delivery with the
// SDK, answers 503 while down, and records what it accepted.
type sink struct {
	t        *testing.T
	srv      *httptest.Server
	mu       sync.Mutex
	verifier *sdk.WebhookVerifier
	down     bool
	hang     bool // while down: hold requests open instead of answering 503
	refused  int
	order    []string       // user ids of accepted deliveries, in arrival order
	byID     map[string]int // accepted deliveries per webhook-id
}

func newSink(t *testing.T) *sink {
	s := &sink{t: t, byID: map[string]int{}}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.down || s.verifier == nil {
			s.refused++
			if s.hang {
				s.mu.Unlock()
				<-r.Context().Done()
				s.mu.Lock()
				return
			}
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		ev, err := s.verifier.Verify(r.Header, body)
		if err != nil {
			t.Errorf("delivery does not verify: %v", err)
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		var data struct {
			UserID string `json:"user_id"`
		}
		_ = json.Unmarshal(ev.Data, &data)
		if s.byID[ev.ID] == 0 {
			s.order = append(s.order, data.UserID)
		}
		s.byID[ev.ID]++
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *sink) set(f func(s *sink)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(s)
}

func (s *sink) snapshot() (order []string, byID map[string]int, refused int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	byID = map[string]int{}
	for k, v := range s.byID {
		byID[k] = v
	}
	return append([]string(nil), s.order...), byID, s.refused
}

// subscribe creates an endpoint for user_created on p and arms the sink's verifier.
func (s *sink) subscribe(t *testing.T, p *proc) string {
	t.Helper()
	code, m := p.call("POST", "/admin/webhooks", testAdminKey, map[string]any{"url": s.srv.URL, "events": []string{"user_created"}})
	if code != 201 {
		t.Fatalf("create webhook: %d %v", code, m)
	}
	v, err := sdk.NewWebhookVerifier(m["secret"].(string))
	if err != nil {
		t.Fatal(err)
	}
	s.set(func(s *sink) { s.verifier = v })
	return m["id"].(string)
}

func createUser(t *testing.T, p *proc, name string) string {
	t.Helper()
	code, m := p.call("POST", "/admin/users", testAdminKey, map[string]any{"username": name, "password": "correct horse battery"})
	if code != 201 {
		t.Fatalf("create user %s: %d %v", name, code, m)
	}
	return m["id"].(string)
}

// TestWebhooks_KillNineLosesNothing: events whose deliveries were still
// pending when the process was killed with SIGKILL are delivered, in
// order, by the restarted process (after the lease of a delivery that was
// in flight at the kill has run out).
func TestWebhooks_KillNineLosesNothing(t *testing.T) {
	t.Run("between attempts", func(t *testing.T) { killNineWebhooks(t, false) })
	t.Run("during a delivery", func(t *testing.T) { killNineWebhooks(t, true) })
}

func killNineWebhooks(t *testing.T, inFlight bool) {
	dir := t.TempDir()
	env := withEnv(webhookEnv, map[string]string{"GATEHOUSE_ADMIN_KEY": testAdminKey, "GATEHOUSE_MASTER_KEY": testMasterKey})
	rcv := newSink(t)
	rcv.set(func(s *sink) { s.down, s.hang = true, inFlight })
	p := start(t, dir, env)
	rcv.subscribe(t, p)
	var ids []string
	for i := range 3 {
		ids = append(ids, createUser(t, p, fmt.Sprint("user", i)))
	}
	want := 2 // refused attempts: the event is queued and being retried
	if inFlight {
		want = 1 // the first attempt is held open: the kill comes mid-delivery
	}
	if !eventually(10*time.Second, func() bool { _, _, refused := rcv.snapshot(); return refused >= want }) {
		t.Fatal("no delivery was attempted")
	}
	if err := p.cmd.Process.Kill(); err != nil { // SIGKILL
		t.Fatal(err)
	}
	p.done <- <-p.done
	order, _, _ := rcv.snapshot()
	if len(order) != 0 {
		t.Fatalf("delivered while the endpoint was down: %v", order)
	}

	rcv.set(func(s *sink) { s.down = false })
	start(t, dir, env)
	if !eventually(15*time.Second, func() bool { o, _, _ := rcv.snapshot(); return len(o) >= 3 }) {
		o, _, _ := rcv.snapshot()
		t.Fatalf("after the restart %d of 3 events arrived", len(o))
	}
	order, _, _ = rcv.snapshot()
	if fmt.Sprint(order) != fmt.Sprint(ids) {
		t.Fatalf("events arrived for users %v, want %v in that order", order, ids)
	}
}

// TestWebhooks_TwoProcessesDeliverOnce: two processes on one PostgreSQL
// database share the outbox; each event reaches the endpoint once, in
// the order the events happened, whichever process wrote it.
func TestWebhooks_TwoProcessesDeliverOnce(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	env := withEnv(pgEnv(dsn), webhookEnv)
	a := start(t, t.TempDir(), env)
	b := start(t, t.TempDir(), env)
	rcv := newSink(t)
	hook := rcv.subscribe(t, a)
	const n = 20
	var ids []string
	for i := range n {
		p := a
		if i%2 == 1 {
			p = b
		}
		ids = append(ids, createUser(t, p, fmt.Sprint("user", i)))
	}
	if !eventually(15*time.Second, func() bool { o, _, _ := rcv.snapshot(); return len(o) >= n }) {
		o, _, _ := rcv.snapshot()
		t.Fatalf("%d of %d events arrived", len(o), n)
	}
	// Each message was claimed once (a second claim would count a second
	// attempt), and none arrived twice. A delivery is marked delivered
	// just after the receiver answered: wait for the last marks.
	var m map[string]any
	allMarked := func() bool {
		var code int
		code, m = b.call("GET", "/admin/webhooks/"+hook+"/deliveries", testAdminKey, nil)
		if code != 200 {
			return false
		}
		for _, d := range m["deliveries"].([]any) {
			if d.(map[string]any)["status"] != "delivered" {
				return false
			}
		}
		return true
	}
	if !eventually(10*time.Second, allMarked) && m == nil {
		t.Fatal("delivery log not readable")
	}
	for _, d := range m["deliveries"].([]any) {
		if d := d.(map[string]any); d["attempts"] != float64(1) || d["status"] != "delivered" {
			t.Errorf("delivery %v", d)
		}
	}
	order, byID, _ := rcv.snapshot()
	if fmt.Sprint(order) != fmt.Sprint(ids) {
		t.Errorf("events arrived for users %v, want %v", order, ids)
	}
	for id, c := range byID {
		if c != 1 {
			t.Errorf("message %s delivered %d times", id, c)
		}
	}
	if len(byID) != n {
		t.Errorf("%d distinct messages, want %d", len(byID), n)
	}
}
