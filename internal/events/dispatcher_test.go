package events

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/safeurl"
	"github.com/gatehouse-auth/gatehouse/internal/store"
	"github.com/gatehouse-auth/gatehouse/internal/store/sqlite"
	"github.com/gatehouse-auth/gatehouse/internal/token"
	"github.com/gatehouse-auth/gatehouse/sdk"
)

// clock is a test clock that only moves when told.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.t = t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// receiver is a real HTTP endpoint that verifies every delivery with the
// SDK's verifier and answers the statuses it is told, then 204.
type receiver struct {
	t        *testing.T
	srv      *httptest.Server
	verifier *sdk.WebhookVerifier
	mu       sync.Mutex
	fail     []int // statuses to answer before succeeding
	hang     bool
	got      []sdk.WebhookEvent
	attempts map[string]int // by webhook-id
}

func newReceiver(t *testing.T, secret string, now func() time.Time) *receiver {
	v, err := sdk.NewWebhookVerifier(secret)
	if err != nil {
		t.Fatal(err)
	}
	v.Now = now
	r := &receiver{t: t, verifier: v, attempts: map[string]int{}}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	ev, err := r.verifier.Verify(req.Header, body)
	if err != nil {
		r.t.Errorf("delivery does not verify: %v", err)
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	r.mu.Lock()
	r.attempts[ev.ID]++
	hang := r.hang
	if len(r.fail) > 0 {
		status := r.fail[0]
		r.fail = r.fail[1:]
		r.mu.Unlock()
		w.WriteHeader(status)
		return
	}
	if !hang {
		r.got = append(r.got, ev)
	}
	r.mu.Unlock()
	if hang {
		<-req.Context().Done()
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (r *receiver) events() []sdk.WebhookEvent {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]sdk.WebhookEvent(nil), r.got...)
}

type fixture struct {
	st    *sqlite.Store
	clock *clock
	d     *Dispatcher
	rcv   *receiver
	hook  store.Webhook
}

func newFixture(t *testing.T, o Options) *fixture {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "events.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	c := &clock{t: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
	if err := st.CreateTenant(ctx, store.Tenant{ID: "t1", Name: "T1", CreatedAt: c.Now()}); err != nil {
		t.Fatal(err)
	}
	sealer, err := token.NewSealer(make([]byte, 32), "webhook-secrets")
	if err != nil {
		t.Fatal(err)
	}
	secret := GenerateSecret()
	rcv := newReceiver(t, secret, c.Now)
	sealed, err := sealer.Seal([]byte(secret), SecretAAD("t1", "wh_1"))
	if err != nil {
		t.Fatal(err)
	}
	hook := store.Webhook{TenantID: "t1", ID: "wh_1", URL: rcv.srv.URL + "/hook", Events: []string{"*"},
		SecretEnc: sealed, CreatedAt: c.Now(), UpdatedAt: c.Now()}
	if err := st.CreateWebhook(ctx, hook); err != nil {
		t.Fatal(err)
	}
	o.Store, o.Sealer, o.Now = st, sealer, c.Now
	if o.Client == nil {
		o.Client = safeurl.Client(5*time.Second, true)
	}
	d, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{st: st, clock: c, d: d, rcv: rcv, hook: hook}
}

func (f *fixture) event(t *testing.T, typ, userID string) {
	t.Helper()
	if err := f.st.AppendAudit(context.Background(), store.AuditEvent{Time: f.clock.Now(), Type: typ, TenantID: "t1", UserID: userID}); err != nil {
		t.Fatal(err)
	}
}

// drain runs the dispatcher until a scan finds nothing due.
func (f *fixture) drain(t *testing.T) {
	t.Helper()
	for range 100 {
		n, err := f.d.RunOnce(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
	}
	t.Fatal("the outbox does not drain")
}

func (f *fixture) log(t *testing.T) []store.OutboxMessage {
	t.Helper()
	ms, err := f.st.ListOutbox(context.Background(), "t1", store.OutboxWebhook, "wh_1", 0)
	if err != nil {
		t.Fatal(err)
	}
	return ms
}

func TestDispatcher_DeliversSignedInOrder(t *testing.T) {
	f := newFixture(t, Options{})
	for i := range 6 {
		f.event(t, "login_succeeded", fmt.Sprint("u", i))
		f.clock.Add(time.Millisecond)
	}
	f.drain(t)
	got := f.rcv.events()
	if len(got) != 6 {
		t.Fatalf("received %d events, want 6", len(got))
	}
	for i, ev := range got {
		var data struct {
			UserID   string `json:"user_id"`
			TenantID string `json:"tenant_id"`
		}
		if err := json.Unmarshal(ev.Data, &data); err != nil {
			t.Fatal(err)
		}
		if ev.Type != "login_succeeded" || data.UserID != fmt.Sprint("u", i) || data.TenantID != "t1" {
			t.Errorf("event %d = %s %s, want login_succeeded of u%d", i, ev.Type, ev.Data, i)
		}
	}
	for _, m := range f.log(t) {
		if m.Status != store.OutboxDelivered || m.LastStatus != 204 || m.Attempts != 1 {
			t.Errorf("log entry %+v", m)
		}
	}
}

// TestDispatcher_RetriesUntilDelivered: an endpoint that fails three times
// gets the event on the fourth attempt, with the same webhook-id, after
// growing delays; the next event waits for it.
func TestDispatcher_RetriesUntilDelivered(t *testing.T) {
	f := newFixture(t, Options{RetryBase: time.Minute})
	f.rcv.fail = []int{503, 500, 429}
	f.event(t, "login_locked", "u1")
	f.event(t, "logout", "u1")
	var waits []time.Duration
	for attempt := 1; attempt <= 3; attempt++ {
		f.drain(t)
		head := f.log(t)[1]
		if head.Status != store.OutboxPending || head.Attempts != attempt || head.LastStatus == 0 {
			t.Fatalf("after attempt %d: %+v", attempt, head)
		}
		wait := head.NextAttemptAt.Sub(f.clock.Now())
		lo, hi := time.Minute<<(attempt-1)/2, time.Minute<<(attempt-1)
		if wait < lo || wait > hi {
			t.Fatalf("retry %d after %v, want within [%v, %v]", attempt, wait, lo, hi)
		}
		waits = append(waits, wait)
		f.clock.Add(wait - time.Second)
		f.drain(t)
		if len(f.rcv.events()) != 0 {
			t.Fatal("delivered before the retry time")
		}
		f.clock.Add(time.Second)
	}
	f.drain(t)
	got := f.rcv.events()
	if len(got) != 2 || got[0].Type != "login_locked" || got[1].Type != "logout" {
		t.Fatalf("received %+v, want login_locked then logout", got)
	}
	f.rcv.mu.Lock()
	n := f.rcv.attempts[got[0].ID]
	f.rcv.mu.Unlock()
	if n != 4 {
		t.Errorf("attempts with webhook-id %s = %d, want 4 (one id across retries)", got[0].ID, n)
	}
	if log := f.log(t); log[1].Status != store.OutboxDelivered || log[1].Attempts != 4 {
		t.Errorf("log = %+v", log[1])
	}
	t.Logf("retry delays %v", waits)
}

// TestDispatcher_GivesUpAfterMaxAge: retries stop once MaxAge has passed
// since the event; the message is failed and the endpoint's next event is
// delivered.
func TestDispatcher_GivesUpAfterMaxAge(t *testing.T) {
	f := newFixture(t, Options{})
	f.rcv.fail = make([]int, 1000)
	for i := range f.rcv.fail {
		f.rcv.fail[i] = 500
	}
	f.event(t, "login_failed", "u1")
	attempts := 0
	for {
		f.drain(t)
		head := f.log(t)[0]
		if head.Status == store.OutboxFailed {
			attempts = head.Attempts
			if age := f.clock.Now().Sub(head.CreatedAt); age > DefaultMaxAge {
				t.Fatalf("gave up after %v, later than %v", age, DefaultMaxAge)
			}
			break
		}
		if head.NextAttemptAt.Sub(head.CreatedAt) > DefaultMaxAge {
			t.Fatalf("retry scheduled after the 24 h: %v", head.NextAttemptAt)
		}
		f.clock.Set(head.NextAttemptAt)
	}
	if attempts < 20 || attempts > 70 {
		t.Errorf("%d attempts in 24 h", attempts)
	}
	if age := f.clock.Now().Sub(f.log(t)[0].CreatedAt); age < DefaultMaxAge-2*DefaultRetryMax {
		t.Errorf("gave up after only %v", age)
	}
	f.rcv.mu.Lock()
	f.rcv.fail = nil
	f.rcv.mu.Unlock()
	f.event(t, "logout", "u1")
	f.drain(t)
	if got := f.rcv.events(); len(got) != 1 || got[0].Type != "logout" {
		t.Fatalf("after the failure the next event: %+v", got)
	}
}

// TestDispatcher_TimeoutIsARetry: an endpoint that never answers costs one
// timeout and a retry, never more.
func TestDispatcher_TimeoutIsARetry(t *testing.T) {
	f := newFixture(t, Options{Timeout: 200 * time.Millisecond})
	f.rcv.hang = true
	f.event(t, "login_succeeded", "u1")
	f.drain(t)
	head := f.log(t)[0]
	if head.Status != store.OutboxPending || head.Attempts != 1 || head.LastError == "" {
		t.Fatalf("after a timeout: %+v", head)
	}
}

// TestDispatcher_RefusesInternalAddress: with the strict client a delivery
// to a loopback endpoint is refused at connect time and retried later.
func TestDispatcher_RefusesInternalAddress(t *testing.T) {
	f := newFixture(t, Options{Client: safeurl.Client(time.Second, false)})
	f.event(t, "login_succeeded", "u1")
	f.drain(t)
	if len(f.rcv.attempts) != 0 {
		t.Fatal("the strict client reached a loopback endpoint")
	}
	if head := f.log(t)[0]; head.Status != store.OutboxPending || head.LastError == "" {
		t.Fatalf("after a refused connection: %+v", head)
	}
}

// TestDispatcher_RunWakes: Run delivers as soon as it is woken.
func TestDispatcher_RunWakes(t *testing.T) {
	f := newFixture(t, Options{Poll: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { f.d.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	f.event(t, "logout", "u1")
	f.d.Wake()
	deadline := time.Now().Add(5 * time.Second)
	for len(f.rcv.events()) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("a woken dispatcher did not deliver")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestSecrets(t *testing.T) {
	s := GenerateSecret()
	key, err := ParseSecret(s)
	if err != nil || len(key) != 32 {
		t.Fatalf("ParseSecret(GenerateSecret()) = %d bytes, %v", len(key), err)
	}
	if GenerateSecret() == s {
		t.Fatal("two generated secrets are equal")
	}
	for _, bad := range []string{"", "whsec_", "whsec_c2hvcnQ=", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_!!!"} {
		if _, err := ParseSecret(bad); err == nil {
			t.Errorf("ParseSecret(%q) accepted", bad)
		}
	}
}

// TestDispatcher_SlowEndpointDoesNotHoldOthers: while one endpoint holds
// its delivery open, Run delivers another endpoint's events.
func TestDispatcher_SlowEndpointDoesNotHoldOthers(t *testing.T) {
	f := newFixture(t, Options{Poll: time.Hour, Timeout: time.Minute})
	f.rcv.hang = true // wh_1 never answers
	fast := newReceiver(t, GenerateSecret(), f.clock.Now)
	secret := GenerateSecret()
	fast.verifier, _ = sdk.NewWebhookVerifier(secret)
	fast.verifier.Now = f.clock.Now
	sealed, err := f.d.o.Sealer.Seal([]byte(secret), SecretAAD("t1", "wh_2"))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.st.CreateWebhook(context.Background(), store.Webhook{TenantID: "t1", ID: "wh_2", URL: fast.srv.URL,
		Events: []string{"*"}, SecretEnc: sealed, CreatedAt: f.clock.Now(), UpdatedAt: f.clock.Now()}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { f.d.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	f.event(t, "login_succeeded", "u1")
	f.d.Wake()
	f.event(t, "logout", "u1")
	f.d.Wake()
	deadline := time.Now().Add(5 * time.Second)
	for len(fast.events()) < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("the fast endpoint got %d of 2 events while the slow one hangs", len(fast.events()))
		}
		time.Sleep(5 * time.Millisecond)
	}
}
