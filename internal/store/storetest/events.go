package storetest

import (
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/store"
)

func init() {
	cases = append(cases, []testCase{
		{"Webhooks/CRUD", testWebhookCRUD},
		{"Webhooks/AuditEnqueuesPerSubscription", testWebhookAuditEnqueues},
		{"Webhooks/ReuseAuditEnqueues", testWebhookReuseEnqueues},
		{"Webhooks/DeleteDropsMessages", testWebhookDeleteDropsMessages},
		{"Outbox/ClaimInOrderPerTarget", testOutboxClaimOrder},
		{"Outbox/RetryAndFail", testOutboxRetryAndFail},
		{"Outbox/ConcurrentClaimsLeaseOnce", testOutboxConcurrentClaims},
		{"Outbox/SweepKeepsTheLogForItsRetention", testOutboxSweep},
	}...)
}

func newWebhook(tenantID, id string, at time.Time, events ...string) store.Webhook {
	return store.Webhook{TenantID: tenantID, ID: id, URL: "https://hooks.example/" + id,
		Events: events, SecretEnc: []byte("sealed-" + id), CreatedAt: at, UpdatedAt: at}
}

func mustWebhook(t *testing.T, s store.Store, w store.Webhook) {
	t.Helper()
	if err := s.CreateWebhook(t.Context(), w); err != nil {
		t.Fatalf("CreateWebhook(%s): %v", w.ID, err)
	}
}

func outbox(t *testing.T, s store.Store, tenantID, target string) []store.OutboxMessage {
	t.Helper()
	ms, err := s.ListOutbox(t.Context(), tenantID, store.OutboxWebhook, target, 0)
	if err != nil {
		t.Fatalf("ListOutbox(%s): %v", target, err)
	}
	return ms
}

func testWebhookCRUD(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustTenant(t, s, "t1")
	mustTenant(t, s, "t2")
	mustWebhook(t, s, newWebhook("t1", "wh_b", base, "login_failed"))
	mustWebhook(t, s, newWebhook("t1", "wh_a", base.Add(time.Second), "*"))
	wantErr(t, "CreateWebhook duplicate id", s.CreateWebhook(ctx, newWebhook("t2", "wh_a", base)), store.ErrConflict)

	got, err := s.GetWebhook(ctx, "t1", "wh_b")
	if err != nil {
		t.Fatalf("GetWebhook: %v", err)
	}
	if got.URL != "https://hooks.example/wh_b" || string(got.SecretEnc) != "sealed-wh_b" || got.TenantID != "t1" {
		t.Errorf("GetWebhook = %+v", got)
	}
	sameStrings(t, "Events", got.Events, []string{"login_failed"})
	sameTime(t, "CreatedAt", got.CreatedAt, base)
	_, err = s.GetWebhook(ctx, "t2", "wh_b")
	wantErr(t, "GetWebhook other tenant", err, store.ErrNotFound)

	list, err := s.ListWebhooks(ctx, "t1")
	if err != nil || len(list) != 2 || list[0].ID != "wh_b" || list[1].ID != "wh_a" {
		t.Fatalf("ListWebhooks = %+v, %v; want wh_b then wh_a (creation order)", list, err)
	}
	if l, _ := s.ListWebhooks(ctx, "t2"); len(l) != 0 {
		t.Errorf("ListWebhooks(t2) = %+v", l)
	}

	later := base.Add(time.Hour)
	up, err := s.UpdateWebhook(ctx, "t1", "wh_b", func(w *store.Webhook) error {
		w.URL, w.Events, w.UpdatedAt = "https://hooks.example/new", []string{"logout", "login_locked"}, later
		w.CreatedAt = later // ignored
		return nil
	})
	if err != nil {
		t.Fatalf("UpdateWebhook: %v", err)
	}
	got, _ = s.GetWebhook(ctx, "t1", "wh_b")
	if got.URL != "https://hooks.example/new" || up.URL != got.URL {
		t.Errorf("after update = %+v", got)
	}
	sameStrings(t, "Events after update", got.Events, []string{"logout", "login_locked"})
	sameTime(t, "CreatedAt after update", got.CreatedAt, base)
	sameTime(t, "UpdatedAt after update", got.UpdatedAt, later)
	fnErr := fmt.Errorf("refused")
	if _, err := s.UpdateWebhook(ctx, "t1", "wh_b", func(*store.Webhook) error { return fnErr }); err != fnErr {
		t.Errorf("UpdateWebhook fn error = %v, want it unchanged", err)
	}
	_, err = s.UpdateWebhook(ctx, "t2", "wh_b", func(*store.Webhook) error { return nil })
	wantErr(t, "UpdateWebhook other tenant", err, store.ErrNotFound)

	wantErr(t, "DeleteWebhook other tenant", s.DeleteWebhook(ctx, "t2", "wh_b"), store.ErrNotFound)
	if err := s.DeleteWebhook(ctx, "t1", "wh_b"); err != nil {
		t.Fatalf("DeleteWebhook: %v", err)
	}
	_, err = s.GetWebhook(ctx, "t1", "wh_b")
	wantErr(t, "GetWebhook after delete", err, store.ErrNotFound)
	wantErr(t, "DeleteWebhook again", s.DeleteWebhook(ctx, "t1", "wh_b"), store.ErrNotFound)
}

// body decodes a webhook message's payload.
func body(t *testing.T, m store.OutboxMessage) map[string]any {
	t.Helper()
	var b map[string]any
	if err := json.Unmarshal(m.Payload, &b); err != nil {
		t.Fatalf("payload of %s: %v", m.ID, err)
	}
	return b
}

func testWebhookAuditEnqueues(t *testing.T, s store.Store) {
	mustTenant(t, s, "t1")
	mustTenant(t, s, "t2")
	mustWebhook(t, s, newWebhook("t1", "wh_failed", base, "login_failed"))
	mustWebhook(t, s, newWebhook("t1", "wh_all", base, "*"))
	mustWebhook(t, s, newWebhook("t2", "wh_other", base, "*"))

	at := base.Add(time.Minute)
	appendAudit(t, s, store.AuditEvent{ID: "ev1", Time: at, Type: "login_failed", TenantID: "t1", UserID: "u1",
		IP: "198.51.100.1", Details: map[string]any{"reason": "bad_password"}})
	appendAudit(t, s, store.AuditEvent{ID: "ev2", Time: at.Add(time.Second), Type: "logout", TenantID: "t1", UserID: "u1"})

	failed, all, other := outbox(t, s, "t1", "wh_failed"), outbox(t, s, "t1", "wh_all"), outbox(t, s, "t2", "wh_other")
	if len(failed) != 1 || len(all) != 2 || len(other) != 0 {
		t.Fatalf("messages: login_failed endpoint %d, all-events endpoint %d, other tenant %d; want 1, 2, 0",
			len(failed), len(all), len(other))
	}
	m := failed[0]
	if m.Kind != store.OutboxWebhook || m.TenantID != "t1" || m.Target != "wh_failed" || m.EventType != "login_failed" ||
		m.Status != store.OutboxPending || m.Attempts != 0 || m.ID == "" || m.Seq == 0 {
		t.Errorf("message = %+v", m)
	}
	sameTime(t, "NextAttemptAt", m.NextAttemptAt, at)
	sameTime(t, "CreatedAt", m.CreatedAt, at)
	b := body(t, m)
	data, _ := b["data"].(map[string]any)
	if b["type"] != "login_failed" || data["id"] != "ev1" || data["user_id"] != "u1" || data["tenant_id"] != "t1" ||
		data["ip"] != "198.51.100.1" || b["timestamp"] != data["time"] {
		t.Errorf("payload = %s", m.Payload)
	}
	sameJSON(t, "payload details", data["details"], map[string]any{"reason": "bad_password"})
	// Newest first; ids differ per endpoint.
	if all[0].EventType != "logout" || all[1].EventType != "login_failed" || all[1].ID == m.ID {
		t.Errorf("all-events endpoint messages = %+v", all)
	}
}

func testWebhookReuseEnqueues(t *testing.T, s store.Store) {
	mustTenant(t, s, "t1")
	mustWebhook(t, s, newWebhook("t1", "wh_reuse", base, reuseType))
	f := newFamily(t, s, "t1", "alice", base)
	rotatedAt := base.Add(time.Hour)
	mustRotate(t, s, rotateReq(f, f.token, hashOf("alice-rt1"), rotatedAt), store.Rotated)
	if ms := outbox(t, s, "t1", "wh_reuse"); len(ms) != 0 {
		t.Fatalf("a successful rotation wrote %d messages", len(ms))
	}
	mustRotate(t, s, rotateReq(f, f.token, hashOf("attacker"), rotatedAt.Add(time.Second)), store.Reused)
	ms := outbox(t, s, "t1", "wh_reuse")
	if len(ms) != 1 || ms[0].EventType != reuseType {
		t.Fatalf("messages after reuse = %+v, want one %s", ms, reuseType)
	}
	data, _ := body(t, ms[0])["data"].(map[string]any)
	if data["user_id"] != f.user.ID || data["session_id"] != f.session.ID {
		t.Errorf("reuse payload = %s", ms[0].Payload)
	}
}

func testWebhookDeleteDropsMessages(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustTenant(t, s, "t1")
	mustWebhook(t, s, newWebhook("t1", "wh_1", base, "*"))
	appendAudit(t, s, store.AuditEvent{Time: base, Type: "logout", TenantID: "t1"})
	if err := s.DeleteWebhook(ctx, "t1", "wh_1"); err != nil {
		t.Fatal(err)
	}
	if ms := outbox(t, s, "t1", "wh_1"); len(ms) != 0 {
		t.Fatalf("messages of a deleted endpoint: %+v", ms)
	}
	if ms, _ := s.ClaimOutbox(ctx, base.Add(time.Hour), time.Minute, 10); len(ms) != 0 {
		t.Fatalf("claimed messages of a deleted endpoint: %+v", ms)
	}
}

func enqueue(t *testing.T, s store.Store, target string, at time.Time) store.OutboxMessage {
	t.Helper()
	m, err := s.EnqueueOutbox(t.Context(), store.OutboxMessage{Kind: store.OutboxWebhook, TenantID: "t1",
		Target: target, EventType: "webhook_test", Payload: []byte(`{"n":1}`), CreatedAt: at})
	if err != nil {
		t.Fatalf("EnqueueOutbox: %v", err)
	}
	if m.Seq == 0 || m.ID == "" || m.Status != store.OutboxPending {
		t.Fatalf("EnqueueOutbox = %+v", m)
	}
	return m
}

func claim(t *testing.T, s store.Store, now time.Time) []store.OutboxMessage {
	t.Helper()
	ms, err := s.ClaimOutbox(t.Context(), now, time.Minute, 10)
	if err != nil {
		t.Fatalf("ClaimOutbox: %v", err)
	}
	return ms
}

func seqs(ms []store.OutboxMessage) []int64 {
	var out []int64
	for _, m := range ms {
		out = append(out, m.Seq)
	}
	return out
}

func completeMsg(t *testing.T, s store.Store, m store.OutboxMessage, r store.OutboxResult) {
	t.Helper()
	if err := s.CompleteOutbox(t.Context(), m.Seq, r); err != nil {
		t.Fatalf("CompleteOutbox(%d): %v", m.Seq, err)
	}
}

func testOutboxClaimOrder(t *testing.T, s store.Store) {
	mustTenant(t, s, "t1")
	a1, a2, b1 := enqueue(t, s, "A", base), enqueue(t, s, "A", base), enqueue(t, s, "B", base)
	a3 := enqueue(t, s, "A", base)
	enqueue(t, s, "C", base.Add(time.Hour)) // not due yet

	now := base.Add(time.Second)
	got := claim(t, s, now)
	if fmt.Sprint(seqs(got)) != fmt.Sprint([]int64{a1.Seq, b1.Seq}) {
		t.Fatalf("first claim = %v, want the heads of A and B %v", seqs(got), []int64{a1.Seq, b1.Seq})
	}
	if got[0].Attempts != 1 {
		t.Errorf("Attempts after a claim = %d, want 1", got[0].Attempts)
	}
	if again := claim(t, s, now); len(again) != 0 {
		t.Fatalf("leased messages claimed again: %v", seqs(again))
	}
	completeMsg(t, s, got[0], store.OutboxResult{Status: store.OutboxDelivered, At: now, HTTPStatus: 204})
	if next := claim(t, s, now); len(next) != 1 || next[0].Seq != a2.Seq {
		t.Fatalf("after A1 was delivered the claim = %v, want A2 %d", seqs(next), a2.Seq)
	}
	// An expired lease makes the message due again (its claimant died).
	if re := claim(t, s, now.Add(2*time.Minute)); fmt.Sprint(seqs(re)) != fmt.Sprint([]int64{a2.Seq, b1.Seq}) {
		t.Fatalf("after the leases ended the claim = %v, want A2 and B1", seqs(re))
	}
	log := outbox(t, s, "t1", "A")
	if len(log) != 3 || log[0].Seq != a3.Seq || log[2].Status != store.OutboxDelivered || log[2].LastStatus != 204 {
		t.Fatalf("delivery log of A = %+v", log)
	}
	sameTime(t, "DeliveredAt", log[2].DeliveredAt, now)
	if log[1].Attempts != 2 {
		t.Errorf("A2 attempts = %d, want 2", log[1].Attempts)
	}
	err := s.CompleteOutbox(t.Context(), a1.Seq, store.OutboxResult{Status: store.OutboxFailed, At: now})
	wantErr(t, "CompleteOutbox of a delivered message", err, store.ErrNotFound)
}

func testOutboxRetryAndFail(t *testing.T, s store.Store) {
	mustTenant(t, s, "t1")
	a1, a2 := enqueue(t, s, "A", base), enqueue(t, s, "A", base)
	now := base.Add(time.Second)
	got := claim(t, s, now)
	retryAt := now.Add(10 * time.Minute)
	completeMsg(t, s, got[0], store.OutboxResult{Status: store.OutboxPending, At: now, RetryAt: retryAt,
		HTTPStatus: 503, Error: "service unavailable"})
	if ms := claim(t, s, retryAt.Add(-time.Second)); len(ms) != 0 {
		t.Fatalf("claimed before the retry time (and A2 must wait for A1): %v", seqs(ms))
	}
	log := outbox(t, s, "t1", "A")
	if log[1].LastStatus != 503 || log[1].LastError != "service unavailable" || log[1].Status != store.OutboxPending ||
		!log[1].DeliveredAt.IsZero() {
		t.Errorf("after a failed attempt = %+v", log[1])
	}
	sameTime(t, "NextAttemptAt", log[1].NextAttemptAt, retryAt)
	got = claim(t, s, retryAt)
	if len(got) != 1 || got[0].Seq != a1.Seq || got[0].Attempts != 2 {
		t.Fatalf("retry claim = %+v", got)
	}
	completeMsg(t, s, got[0], store.OutboxResult{Status: store.OutboxFailed, At: retryAt, Error: "gave up"})
	if ms := claim(t, s, retryAt); len(ms) != 1 || ms[0].Seq != a2.Seq {
		t.Fatalf("after A1 failed finally the claim = %v, want A2", seqs(ms))
	}
	if log := outbox(t, s, "t1", "A"); log[1].Status != store.OutboxFailed || log[1].LastError != "gave up" {
		t.Errorf("failed message = %+v", log[1])
	}
}

// testOutboxConcurrentClaims: claims racing in parallel lease each message
// to exactly one of them.
func testOutboxConcurrentClaims(t *testing.T, s store.Store) {
	mustTenant(t, s, "t1")
	const targets = 30
	for i := range targets {
		enqueue(t, s, fmt.Sprintf("T%02d", i), base)
	}
	var mu sync.Mutex
	seen := map[int64]int{}
	var wg sync.WaitGroup
	gate := make(chan struct{})
	for range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-gate
			for range 10 {
				ms, err := s.ClaimOutbox(t.Context(), base.Add(time.Second), time.Minute, 3)
				if err != nil {
					t.Errorf("ClaimOutbox: %v", err)
					return
				}
				mu.Lock()
				for _, m := range ms {
					seen[m.Seq]++
				}
				mu.Unlock()
			}
		}()
	}
	close(gate)
	wg.Wait()
	if len(seen) != targets {
		t.Errorf("%d of %d messages claimed", len(seen), targets)
	}
	for seq, n := range seen {
		if n != 1 {
			t.Errorf("message %d claimed %d times", seq, n)
		}
	}
}

func testOutboxSweep(t *testing.T, s store.Store) {
	mustTenant(t, s, "t1")
	old, recent, pending := enqueue(t, s, "A", base), enqueue(t, s, "B", base), enqueue(t, s, "C", base)
	for _, m := range claim(t, s, base) {
		switch m.Seq {
		case old.Seq:
			completeMsg(t, s, m, store.OutboxResult{Status: store.OutboxDelivered, At: base})
		case recent.Seq:
			completeMsg(t, s, m, store.OutboxResult{Status: store.OutboxFailed, At: base.Add(2 * day)})
		}
	}
	if err := s.Sweep(t.Context(), base.Add(store.OutboxRetention+day), base); err != nil {
		t.Fatalf("Sweep: %v", err)
	}
	if n := len(outbox(t, s, "t1", "A")); n != 0 {
		t.Errorf("a message finished more than the retention ago was kept")
	}
	if n := len(outbox(t, s, "t1", "B")); n != 1 {
		t.Errorf("a message finished within the retention was swept")
	}
	if ms := outbox(t, s, "t1", "C"); len(ms) != 1 || ms[0].Seq != pending.Seq {
		t.Errorf("a pending message was swept")
	}
}
