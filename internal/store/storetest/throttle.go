package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/store"
)

// Throttle policy of the tests.
const (
	maxFailures = 3
	window      = 10 * time.Minute
	lockout     = 15 * time.Minute
)

func recordFailure(t *testing.T, s store.Store, tenant, key string, now time.Time) store.Throttle {
	t.Helper()
	th, err := s.RecordFailure(t.Context(), tenant, key, now, maxFailures, window, lockout)
	if err != nil {
		t.Fatalf("RecordFailure(%s, %s): %v", tenant, key, err)
	}
	return th
}

func checkThrottle(t *testing.T, what string, got store.Throttle, failures int, first, locked time.Time) {
	t.Helper()
	if got.Failures != failures {
		t.Errorf("%s: Failures = %d, want %d", what, got.Failures, failures)
	}
	sameTime(t, what+": FirstAt", got.FirstAt, first)
	sameTime(t, what+": LockedUntil", got.LockedUntil, locked)
}

func getThrottle(t *testing.T, s store.Store, tenant, key string) store.Throttle {
	t.Helper()
	th, err := s.GetThrottle(t.Context(), tenant, key)
	if err != nil {
		t.Fatalf("GetThrottle(%s, %s): %v", tenant, key, err)
	}
	return th
}

func testThrottleCounts(t *testing.T, s store.Store) {
	mustTenant(t, s, "t1")
	checkThrottle(t, "new key", getThrottle(t, s, "t1", "alice"), 0, time.Time{}, time.Time{})

	checkThrottle(t, "first failure", recordFailure(t, s, "t1", "alice", base), 1, base, time.Time{})
	checkThrottle(t, "second failure", recordFailure(t, s, "t1", "alice", base.Add(time.Minute)), 2, base, time.Time{})
	checkThrottle(t, "stored after two", getThrottle(t, s, "t1", "alice"), 2, base, time.Time{})

	lockedAt := base.Add(2 * time.Minute)
	checkThrottle(t, "third failure locks", recordFailure(t, s, "t1", "alice", lockedAt), 0, time.Time{}, lockedAt.Add(lockout))
	checkThrottle(t, "stored lock", getThrottle(t, s, "t1", "alice"), 0, time.Time{}, lockedAt.Add(lockout))

	// Counting starts again from zero.
	next := lockedAt.Add(lockout + time.Minute)
	got := recordFailure(t, s, "t1", "alice", next)
	if got.Failures != 1 || !got.FirstAt.Equal(next) {
		t.Errorf("failure after the lock = %+v, want a new count of 1 from %v", got, next)
	}
	checkThrottle(t, "other key", getThrottle(t, s, "t1", "bob"), 0, time.Time{}, time.Time{})
}

func testThrottleWindow(t *testing.T, s store.Store) {
	mustTenant(t, s, "t1")
	recordFailure(t, s, "t1", "198.51.100.1", base)
	recordFailure(t, s, "t1", "198.51.100.1", base.Add(time.Minute))
	later := base.Add(window + 5*time.Minute)
	checkThrottle(t, "failure after the window", recordFailure(t, s, "t1", "198.51.100.1", later), 1, later, time.Time{})
	checkThrottle(t, "next failure", recordFailure(t, s, "t1", "198.51.100.1", later.Add(time.Minute)), 2, later, time.Time{})
}

func testThrottleReset(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustTenant(t, s, "t1")
	recordFailure(t, s, "t1", "alice", base)
	recordFailure(t, s, "t1", "alice", base.Add(time.Second))
	if err := s.ResetThrottle(ctx, "t1", "alice"); err != nil {
		t.Fatalf("ResetThrottle: %v", err)
	}
	checkThrottle(t, "after reset", getThrottle(t, s, "t1", "alice"), 0, time.Time{}, time.Time{})
	checkThrottle(t, "failure after reset", recordFailure(t, s, "t1", "alice", base.Add(time.Minute)), 1, base.Add(time.Minute), time.Time{})

	// A reset forgets failures, not an active lock.
	for i := range maxFailures {
		recordFailure(t, s, "t1", "bob", base.Add(time.Duration(i)*time.Second))
	}
	lockedUntil := base.Add(2*time.Second + lockout)
	if err := s.ResetThrottle(ctx, "t1", "bob"); err != nil {
		t.Fatalf("ResetThrottle: %v", err)
	}
	checkThrottle(t, "reset of a locked key", getThrottle(t, s, "t1", "bob"), 0, time.Time{}, lockedUntil)

	if err := s.ResetThrottle(ctx, "t1", "never-seen"); err != nil {
		t.Errorf("ResetThrottle(unknown key): %v", err)
	}
}

func testThrottleIsolation(t *testing.T, s store.Store) {
	mustTenant(t, s, "t1")
	mustTenant(t, s, "t2")
	recordFailure(t, s, "t1", "alice", base)
	recordFailure(t, s, "t1", "alice", base)
	checkThrottle(t, "same key in another tenant", getThrottle(t, s, "t2", "alice"), 0, time.Time{}, time.Time{})
	checkThrottle(t, "first failure in t2", recordFailure(t, s, "t2", "alice", base), 1, base, time.Time{})
	if err := s.ResetThrottle(t.Context(), "t2", "alice"); err != nil {
		t.Fatalf("ResetThrottle: %v", err)
	}
	checkThrottle(t, "t1 after reset in t2", getThrottle(t, s, "t1", "alice"), 2, base, time.Time{})
}

func testThrottleConcurrent(t *testing.T, s store.Store) {
	mustTenant(t, s, "t1")
	const n = 20
	var wg sync.WaitGroup
	errs := make([]error, n)
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, errs[i] = s.RecordFailure(t.Context(), "t1", "alice", base.Add(time.Duration(i)*time.Millisecond), 1000, time.Hour, lockout)
		}()
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("RecordFailure #%d: %v", i, err)
		}
	}
	if got := getThrottle(t, s, "t1", "alice"); got.Failures != n {
		t.Errorf("after %d concurrent failures Failures = %d", n, got.Failures)
	}
}
