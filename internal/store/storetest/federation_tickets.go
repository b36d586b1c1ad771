package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/store"
)

func init() {
	cases = append(cases, ticketCases...)
}

// ticketCases check the one-time tickets of store.FederationStore.
var ticketCases = []testCase{
	{"Tickets/RoundTripAndSingleUse", testTicketSingleUse},
	{"Tickets/Expired", testTicketExpired},
	{"Tickets/TenantIsolation", testTicketTenantIsolation},
	{"Tickets/UnknownUser", testTicketUnknownUser},
	{"Tickets/DuplicateHash", testTicketDuplicate},
	{"Tickets/GoneWithUser", testTicketGoneWithUser},
	{"Tickets/ConcurrentOneWinner", testTicketConcurrent},
	{"Tickets/SweepDeletesExpired", testTicketSweep},
}

// newTicket is a ticket of user valid for a minute from base.
func newTicket(tenantID, userID, label string) store.Ticket {
	return store.Ticket{
		Hash:      hashOf("ticket-" + label),
		TenantID:  tenantID,
		UserID:    userID,
		Purpose:   store.TicketImpersonation,
		Actor:     "user:admin-1",
		CreatedAt: base,
		ExpiresAt: base.Add(time.Minute),
	}
}

func mustTicket(t *testing.T, s store.Store, tk store.Ticket) store.Ticket {
	t.Helper()
	if err := s.CreateTicket(t.Context(), tk); err != nil {
		t.Fatalf("CreateTicket(%s): %v", tk.Hash[:8], err)
	}
	return tk
}

func testTicketSingleUse(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustTenant(t, s, "t1")
	u := mustUser(t, s, newUser("t1", "u1", "alice"))
	tk := mustTicket(t, s, newTicket("t1", u.ID, "a"))

	now := base.Add(10 * time.Second)
	got, err := s.RedeemTicket(ctx, "t1", tk.Hash, now)
	if err != nil {
		t.Fatalf("RedeemTicket: %v", err)
	}
	if got.Hash != tk.Hash || got.TenantID != "t1" || got.UserID != u.ID ||
		got.Purpose != store.TicketImpersonation || got.Actor != tk.Actor {
		t.Errorf("redeemed ticket = %+v, want %+v", got, tk)
	}
	sameTime(t, "ticket CreatedAt", got.CreatedAt, tk.CreatedAt)
	sameTime(t, "ticket ExpiresAt", got.ExpiresAt, tk.ExpiresAt)
	sameTime(t, "ticket UsedAt", got.UsedAt, now)

	_, err = s.RedeemTicket(ctx, "t1", tk.Hash, now.Add(time.Second))
	wantErr(t, "second RedeemTicket", err, store.ErrNotFound)
	_, err = s.RedeemTicket(ctx, "t1", hashOf("never-issued"), now)
	wantErr(t, "RedeemTicket of an unknown ticket", err, store.ErrNotFound)
}

func testTicketExpired(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustTenant(t, s, "t1")
	u := mustUser(t, s, newUser("t1", "u1", "alice"))
	tk := mustTicket(t, s, newTicket("t1", u.ID, "a"))
	// The ticket is valid strictly before ExpiresAt.
	_, err := s.RedeemTicket(ctx, "t1", tk.Hash, tk.ExpiresAt)
	wantErr(t, "RedeemTicket at ExpiresAt", err, store.ErrNotFound)
	_, err = s.RedeemTicket(ctx, "t1", tk.Hash, tk.ExpiresAt.Add(time.Hour))
	wantErr(t, "RedeemTicket after ExpiresAt", err, store.ErrNotFound)

	tk2 := mustTicket(t, s, newTicket("t1", u.ID, "b"))
	if _, err := s.RedeemTicket(ctx, "t1", tk2.Hash, tk2.ExpiresAt.Add(-time.Microsecond)); err != nil {
		t.Errorf("RedeemTicket a microsecond before ExpiresAt: %v", err)
	}
}

func testTicketTenantIsolation(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustTenant(t, s, "t1")
	mustTenant(t, s, "t2")
	u := mustUser(t, s, newUser("t1", "u1", "alice"))
	mustUser(t, s, newUser("t2", "u1", "alice"))
	tk := mustTicket(t, s, newTicket("t1", u.ID, "a"))

	_, err := s.RedeemTicket(ctx, "t2", tk.Hash, base)
	wantErr(t, "RedeemTicket under another tenant", err, store.ErrNotFound)
	// The failed attempt did not consume it.
	if _, err := s.RedeemTicket(ctx, "t1", tk.Hash, base); err != nil {
		t.Errorf("RedeemTicket in its own tenant after a foreign attempt: %v", err)
	}
}

func testTicketUnknownUser(t *testing.T, s store.Store) {
	mustTenant(t, s, "t1")
	mustTenant(t, s, "t2")
	mustUser(t, s, newUser("t2", "u1", "alice")) // same id, other tenant
	err := s.CreateTicket(t.Context(), newTicket("t1", "u1", "a"))
	wantErr(t, "CreateTicket for a user of another tenant", err, store.ErrNotFound)
}

func testTicketDuplicate(t *testing.T, s store.Store) {
	mustTenant(t, s, "t1")
	u := mustUser(t, s, newUser("t1", "u1", "alice"))
	mustTicket(t, s, newTicket("t1", u.ID, "a"))
	err := s.CreateTicket(t.Context(), newTicket("t1", u.ID, "a"))
	wantErr(t, "CreateTicket with a taken hash", err, store.ErrConflict)
}

func testTicketGoneWithUser(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustTenant(t, s, "t1")
	u := mustUser(t, s, newUser("t1", "u1", "alice"))
	tk := mustTicket(t, s, newTicket("t1", u.ID, "a"))
	if err := s.DeleteUser(ctx, "t1", u.ID, base); err != nil {
		t.Fatalf("DeleteUser: %v", err)
	}
	_, err := s.RedeemTicket(ctx, "t1", tk.Hash, base)
	wantErr(t, "RedeemTicket of a deleted user's ticket", err, store.ErrNotFound)
}

// concurrentRedemptions is how many callers present one ticket at once.
const concurrentRedemptions = 20

func testTicketConcurrent(t *testing.T, s store.Store) {
	mustTenant(t, s, "t1")
	u := mustUser(t, s, newUser("t1", "u1", "alice"))
	tk := mustTicket(t, s, newTicket("t1", u.ID, "a"))

	errs := make([]error, concurrentRedemptions)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range concurrentRedemptions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, errs[i] = s.RedeemTicket(t.Context(), "t1", tk.Hash, base.Add(time.Second))
		}()
	}
	close(start)
	wg.Wait()
	won := 0
	for i, err := range errs {
		switch {
		case err == nil:
			won++
		default:
			wantErr(t, fmt.Sprintf("redemption #%d", i), err, store.ErrNotFound)
		}
	}
	if won != 1 {
		t.Errorf("%d of %d concurrent redemptions succeeded, want exactly 1", won, concurrentRedemptions)
	}
}

func testTicketSweep(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustTenant(t, s, "t1")
	u := mustUser(t, s, newUser("t1", "u1", "alice"))
	old := mustTicket(t, s, newTicket("t1", u.ID, "old"))
	live := newTicket("t1", u.ID, "live")
	live.ExpiresAt = base.Add(time.Hour)
	mustTicket(t, s, live)

	sweep(t, s, base.Add(2*time.Minute), base)
	// A swept ticket's hash is free again; a live one is still there.
	if err := s.CreateTicket(ctx, old); err != nil {
		t.Errorf("CreateTicket of a swept ticket's hash: %v (the expired ticket was not deleted)", err)
	}
	wantErr(t, "CreateTicket of a live ticket's hash after Sweep", s.CreateTicket(ctx, live), store.ErrConflict)
	if _, err := s.RedeemTicket(ctx, "t1", live.Hash, base.Add(3*time.Minute)); err != nil {
		t.Errorf("RedeemTicket of a live ticket after Sweep: %v", err)
	}
}
