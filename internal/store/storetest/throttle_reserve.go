package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/store"
)

func init() {
	cases = append(cases, []testCase{
		{"Throttle/ReserveUpToMax", testReserveUpToMax},
		{"Throttle/ReserveWindowForgets", testReserveWindow},
		{"Throttle/ReleaseGivesBack", testReserveRelease},
		{"Throttle/ClearLiftsLock", testClearThrottle},
		{"Throttle/ReserveConcurrentAtMostMax", testReserveConcurrent},
		{"Throttle/FailConcurrentLocksOnce", testFailConcurrent},
	}...)
}

func reserve(t *testing.T, s store.Store, tenant, key string, now time.Time) (store.Throttle, bool) {
	t.Helper()
	th, ok, err := s.ReserveAttempt(t.Context(), tenant, key, now, maxFailures, window)
	if err != nil {
		t.Fatalf("ReserveAttempt(%s, %s): %v", tenant, key, err)
	}
	return th, ok
}

func failAttempt(t *testing.T, s store.Store, tenant, key string, now time.Time) bool {
	t.Helper()
	locked, err := s.FailAttempt(t.Context(), tenant, key, now, maxFailures, lockout)
	if err != nil {
		t.Fatalf("FailAttempt(%s, %s): %v", tenant, key, err)
	}
	return locked
}

func wantGranted(t *testing.T, what string, th store.Throttle, ok bool, failures int, first time.Time) {
	t.Helper()
	if !ok {
		t.Fatalf("%s: refused (%+v), want granted", what, th)
	}
	if th.Failures != failures {
		t.Errorf("%s: Failures = %d, want %d", what, th.Failures, failures)
	}
	sameTime(t, what+": FirstAt", th.FirstAt, first)
}

func testReserveUpToMax(t *testing.T, s store.Store) {
	mustTenant(t, s, "t1")
	mustTenant(t, s, "t2")
	for i := range maxFailures {
		th, ok := reserve(t, s, "t1", "acct", base.Add(time.Duration(i)*time.Second))
		wantGranted(t, "reservation within the limit", th, ok, i+1, base)
	}
	// The limit is reached while the attempts are still being checked:
	// refused, and nothing more is counted.
	if th, ok := reserve(t, s, "t1", "acct", base.Add(time.Minute)); ok || th.Failures != maxFailures {
		t.Fatalf("reservation past the limit = %+v, granted %v; want refused at %d", th, ok, maxFailures)
	}
	checkThrottle(t, "stored after a refusal", getThrottle(t, s, "t1", "acct"), maxFailures, base, time.Time{})
	// Same key in another tenant: its own count.
	th, ok := reserve(t, s, "t2", "acct", base)
	wantGranted(t, "same key in another tenant", th, ok, 1, base)

	lockedAt := base.Add(2 * time.Minute)
	if !failAttempt(t, s, "t1", "acct", lockedAt) {
		t.Fatal("FailAttempt at the limit did not lock")
	}
	checkThrottle(t, "stored lock", getThrottle(t, s, "t1", "acct"), 0, time.Time{}, lockedAt.Add(lockout))
	if failAttempt(t, s, "t1", "acct", lockedAt) {
		t.Error("FailAttempt of a locked key locked it again")
	}
	if th, ok := reserve(t, s, "t1", "acct", lockedAt.Add(lockout-time.Second)); ok {
		t.Fatalf("reservation while locked granted: %+v", th)
	} else {
		sameTime(t, "refused while locked: LockedUntil", th.LockedUntil, lockedAt.Add(lockout))
	}
	after := lockedAt.Add(lockout)
	th, ok = reserve(t, s, "t1", "acct", after)
	wantGranted(t, "reservation once the lock is over", th, ok, 1, after)

	// Below the limit a failure does not lock.
	if failAttempt(t, s, "t1", "acct", after) {
		t.Error("FailAttempt below the limit locked")
	}
	if failAttempt(t, s, "t1", "never-seen", after) {
		t.Error("FailAttempt of an unknown key locked")
	}
}

func testReserveWindow(t *testing.T, s store.Store) {
	mustTenant(t, s, "t1")
	for i := range maxFailures {
		reserve(t, s, "t1", "ip:198.51.100.1", base.Add(time.Duration(i)*time.Second))
	}
	later := base.Add(window + time.Minute)
	th, ok := reserve(t, s, "t1", "ip:198.51.100.1", later)
	wantGranted(t, "reservation after the window", th, ok, 1, later)
}

func testReserveRelease(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustTenant(t, s, "t1")
	reserve(t, s, "t1", "acct", base)
	reserve(t, s, "t1", "acct", base.Add(time.Second))
	if err := s.ReleaseAttempt(ctx, "t1", "acct", base.Add(2*time.Second)); err != nil {
		t.Fatalf("ReleaseAttempt: %v", err)
	}
	checkThrottle(t, "after one release", getThrottle(t, s, "t1", "acct"), 1, base, time.Time{})
	if err := s.ReleaseAttempt(ctx, "t1", "acct", base.Add(2*time.Second)); err != nil {
		t.Fatalf("ReleaseAttempt: %v", err)
	}
	checkThrottle(t, "after the last release", getThrottle(t, s, "t1", "acct"), 0, time.Time{}, time.Time{})
	if err := s.ReleaseAttempt(ctx, "t1", "acct", base.Add(2*time.Second)); err != nil {
		t.Fatalf("ReleaseAttempt of nothing: %v", err)
	}
	checkThrottle(t, "release of nothing", getThrottle(t, s, "t1", "acct"), 0, time.Time{}, time.Time{})
	if err := s.ReleaseAttempt(ctx, "t1", "never-seen", base); err != nil {
		t.Errorf("ReleaseAttempt(unknown key): %v", err)
	}
	// A released place can be reserved again.
	next := base.Add(time.Minute)
	th, ok := reserve(t, s, "t1", "acct", next)
	wantGranted(t, "reservation after releases", th, ok, 1, next)
}

func testClearThrottle(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustTenant(t, s, "t1")
	for i := range maxFailures {
		reserve(t, s, "t1", "mfa:u1", base.Add(time.Duration(i)*time.Second))
	}
	if !failAttempt(t, s, "t1", "mfa:u1", base.Add(time.Minute)) {
		t.Fatal("FailAttempt at the limit did not lock")
	}
	// A reset keeps the lock; a clear lifts it.
	if err := s.ResetThrottle(ctx, "t1", "mfa:u1"); err != nil {
		t.Fatalf("ResetThrottle: %v", err)
	}
	if _, ok := reserve(t, s, "t1", "mfa:u1", base.Add(2*time.Minute)); ok {
		t.Fatal("reservation granted after a reset of a locked key")
	}
	if err := s.ClearThrottle(ctx, "t1", "mfa:u1"); err != nil {
		t.Fatalf("ClearThrottle: %v", err)
	}
	checkThrottle(t, "after clear", getThrottle(t, s, "t1", "mfa:u1"), 0, time.Time{}, time.Time{})
	at := base.Add(3 * time.Minute)
	th, ok := reserve(t, s, "t1", "mfa:u1", at)
	wantGranted(t, "reservation after clear", th, ok, 1, at)
	if err := s.ClearThrottle(ctx, "t1", "never-seen"); err != nil {
		t.Errorf("ClearThrottle(unknown key): %v", err)
	}
}

func testReserveConcurrent(t *testing.T, s store.Store) {
	mustTenant(t, s, "t1")
	const n = 30
	var wg sync.WaitGroup
	granted := make([]bool, n)
	errs := make([]error, n)
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, granted[i], errs[i] = s.ReserveAttempt(t.Context(), "t1", "acct", base, maxFailures, window)
		}()
	}
	close(start)
	wg.Wait()
	got := 0
	for i := range n {
		if errs[i] != nil {
			t.Errorf("ReserveAttempt #%d: %v", i, errs[i])
		}
		if granted[i] {
			got++
		}
	}
	if got != maxFailures {
		t.Errorf("%d concurrent reservations: %d granted, want %d", n, got, maxFailures)
	}
	checkThrottle(t, "after concurrent reservations", getThrottle(t, s, "t1", "acct"), maxFailures, base, time.Time{})
}

func testFailConcurrent(t *testing.T, s store.Store) {
	mustTenant(t, s, "t1")
	for range maxFailures {
		reserve(t, s, "t1", "acct", base)
	}
	const n = 10
	var wg sync.WaitGroup
	locked := make([]bool, n)
	errs := make([]error, n)
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			locked[i], errs[i] = s.FailAttempt(t.Context(), "t1", "acct", base, maxFailures, lockout)
		}()
	}
	close(start)
	wg.Wait()
	got := 0
	for i := range n {
		if errs[i] != nil {
			t.Errorf("FailAttempt #%d: %v", i, errs[i])
		}
		if locked[i] {
			got++
		}
	}
	if got != 1 {
		t.Errorf("%d concurrent failures at the limit: %d locked, want 1", n, got)
	}
}
