package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/store"
)

func appendAudit(t *testing.T, s store.Store, e store.AuditEvent) {
	t.Helper()
	if err := s.AppendAudit(t.Context(), e); err != nil {
		t.Fatalf("AppendAudit(%s): %v", e.Type, err)
	}
}

func listAudit(t *testing.T, s store.Store, tenant string, f store.AuditFilter) []store.AuditEvent {
	t.Helper()
	events, err := s.ListAudit(t.Context(), tenant, f)
	if err != nil {
		t.Fatalf("ListAudit(%s, %+v): %v", tenant, f, err)
	}
	return events
}

func testAuditIDs(t *testing.T, s store.Store) {
	mustTenant(t, s, "t1")
	for i := range 3 {
		appendAudit(t, s, store.AuditEvent{Time: base.Add(time.Duration(i) * time.Second), Type: "login_failed", TenantID: "t1"})
	}
	full := store.AuditEvent{
		ID: "given-id", Time: base.Add(time.Minute + 3*time.Microsecond), Type: "login_succeeded", TenantID: "t1",
		UserID: "u1", SessionID: "s1", Actor: "admin-7", IP: "2001:db8::1", UserAgent: "suite/1.0",
		Details: map[string]any{"method": "password", "attempt": 2.0, "mfa": map[string]any{"used": true}, "list": []any{"a", 1.5}},
	}
	appendAudit(t, s, full)

	events := listAudit(t, s, "t1", store.AuditFilter{})
	if len(events) != 4 {
		t.Fatalf("ListAudit = %d events, want 4", len(events))
	}
	seen := map[string]bool{}
	for _, e := range events {
		if e.ID == "" || seen[e.ID] {
			t.Errorf("event id %q empty or repeated", e.ID)
		}
		seen[e.ID] = true
	}
	got := events[0] // the newest
	if got.ID != full.ID || got.Type != full.Type || got.TenantID != full.TenantID || got.UserID != full.UserID ||
		got.SessionID != full.SessionID || got.Actor != full.Actor || got.IP != full.IP || got.UserAgent != full.UserAgent {
		t.Errorf("event = %+v, want %+v", got, full)
	}
	sameTime(t, "event Time", got.Time, full.Time)
	sameJSON(t, "event Details", got.Details, full.Details)
	if len(events[1].Details) != 0 {
		t.Errorf("event without details came back with %v", events[1].Details)
	}
}

func testAuditFilters(t *testing.T, s store.Store) {
	mustTenant(t, s, "t1")
	mustTenant(t, s, "t2")
	// Ten events alternating users and types, one per minute, plus noise in t2.
	for i := range 10 {
		appendAudit(t, s, store.AuditEvent{
			Time: base.Add(time.Duration(i) * time.Minute), TenantID: "t1",
			Type: []string{"login_succeeded", "logout"}[i%2], UserID: []string{"u1", "u2"}[i%3%2],
			Details: map[string]any{"n": float64(i)},
		})
		appendAudit(t, s, store.AuditEvent{Time: base.Add(time.Duration(i) * time.Minute), TenantID: "t2", Type: "logout", UserID: "u1"})
	}
	order := func(events []store.AuditEvent) string {
		var ns []any
		for _, e := range events {
			if e.TenantID != "t1" {
				return "event of tenant " + e.TenantID
			}
			ns = append(ns, e.Details["n"])
		}
		return fmt.Sprint(ns)
	}
	cases := []struct {
		f    store.AuditFilter
		want string
	}{
		{store.AuditFilter{}, "[9 8 7 6 5 4 3 2 1 0]"},
		{store.AuditFilter{Limit: 3}, "[9 8 7]"},
		{store.AuditFilter{Type: "logout"}, "[9 7 5 3 1]"},
		{store.AuditFilter{UserID: "u2"}, "[7 4 1]"},
		{store.AuditFilter{UserID: "u2", Type: "logout"}, "[7 1]"},
		{store.AuditFilter{UserID: "u1", Type: "login_succeeded", Limit: 2}, "[8 6]"},
		{store.AuditFilter{UserID: "nobody"}, "[]"},
	}
	for _, c := range cases {
		if got := order(listAudit(t, s, "t1", c.f)); got != c.want {
			t.Errorf("ListAudit(%+v) = %s, want %s", c.f, got, c.want)
		}
	}
	if got := listAudit(t, s, "t3", store.AuditFilter{}); len(got) != 0 {
		t.Errorf("ListAudit(unknown tenant) = %+v, want none", got)
	}
}
