package storetest

import (
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/store"
)

func sweep(t *testing.T, s store.Store, now, retryBefore time.Time) {
	t.Helper()
	if err := s.Sweep(t.Context(), now, retryBefore); err != nil {
		t.Fatalf("Sweep(%v, %v): %v", now, retryBefore, err)
	}
}

func testSweepExpired(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustTenant(t, s, "t1")
	old := newFamily(t, s, "t1", "old", base.Add(-sessionLife-day)) // expired a day before base
	live := newFamily(t, s, "t1", "live", base)
	idle := newFamily(t, s, "t1", "idle", base.Add(-idleTTL-time.Hour)) // token idle-expired, session live

	sweep(t, s, base, base)
	_, err := s.GetSession(ctx, "t1", old.session.ID)
	wantErr(t, "GetSession of a swept session", err, store.ErrNotFound)
	mustGetSession(t, s, "t1", idle.session.ID) // its session is still within its lifetime
	mustRotate(t, s, rotateReq(idle, idle.token, hashOf("idle-next"), base), store.Invalid)
	mustRotate(t, s, rotateReq(live, live.token, hashOf("live-next"), base.Add(time.Minute)), store.Rotated)
	if got, err := s.ListUserSessions(ctx, "t1", live.user.ID, base.Add(time.Minute)); err != nil || len(got) != 1 {
		t.Errorf("ListUserSessions after Sweep = %+v, %v; want the live session", got, err)
	}
}

func testSweepRetryData(t *testing.T, s store.Store) {
	mustTenant(t, s, "t1")
	early := newFamily(t, s, "t1", "early", base)
	late := newFamily(t, s, "t1", "late", base)
	const leeway = time.Hour
	mustRotate(t, s, leewayReq(early, early.token, hashOf("early-rt1"), base.Add(time.Minute), leeway, "early-pair"), store.Rotated)
	mustRotate(t, s, leewayReq(late, late.token, hashOf("late-rt1"), base.Add(10*time.Minute), leeway, "late-pair"), store.Rotated)

	sweep(t, s, base.Add(11*time.Minute), base.Add(5*time.Minute))

	// Both replays are within the request's leeway, but only the late
	// rotation still has its retry data: the early one is now a reuse.
	now := base.Add(12 * time.Minute)
	res := mustRotate(t, s, leewayReq(late, late.token, hashOf("late-x"), now, leeway, "x"), store.Retried)
	if string(res.RetryData) != "late-pair" {
		t.Errorf("RetryData = %q, want late-pair", res.RetryData)
	}
	mustRotate(t, s, leewayReq(early, early.token, hashOf("early-x"), now, leeway, "x"), store.Reused)
}

func testSweepRevocations(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustTenant(t, s, "t1")
	f := newFamily(t, s, "t1", "alice", base)
	if _, _, err := s.RevokeSession(ctx, "t1", f.session.ID, base.Add(time.Hour), "logout"); err != nil {
		t.Fatalf("RevokeSession: %v", err)
	}
	sweep(t, s, base.Add(day), base.Add(day))
	revs := revocations(t, s)
	if len(revs) != 1 || revs[0].SessionID != f.session.ID {
		t.Errorf("revocations after Sweep = %+v, want the record of %s (its Exp is ahead)", revs, f.session.ID)
	}
	sess := mustGetSession(t, s, "t1", f.session.ID)
	sameTime(t, "swept-over revoked session RevokedAt", sess.RevokedAt, base.Add(time.Hour))
}
