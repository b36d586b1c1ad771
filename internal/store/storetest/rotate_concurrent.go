package storetest

import (
	"bytes"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/store"
)

// concurrentRotations is how many callers present the same token at once.
const concurrentRotations = 50

// rotateAtOnce presents f's token from n goroutines released together;
// request i offers its own successor and retry data.
func rotateAtOnce(t *testing.T, s store.Store, f family, leeway time.Duration) []store.RotateResult {
	t.Helper()
	now := base.Add(time.Hour)
	results := make([]store.RotateResult, concurrentRotations)
	errs := make([]error, concurrentRotations)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range concurrentRotations {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req := rotateReq(f, f.token, hashOf(fmt.Sprint("successor-", i)), now)
			if leeway > 0 {
				req.Leeway = leeway
				req.RetryData = []byte(fmt.Sprint("pair-", i))
			}
			<-start
			results[i], errs[i] = s.RotateRefreshToken(t.Context(), req)
		}()
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("rotation #%d: %v", i, err)
		}
	}
	return results
}

func countOutcomes(results []store.RotateResult) map[int]int {
	n := map[int]int{}
	for _, r := range results {
		n[r.Outcome]++
	}
	return n
}

func testRotateConcurrentNoLeeway(t *testing.T, s store.Store) {
	mustTenant(t, s, "t1")
	f := newFamily(t, s, "t1", "alice", base)
	n := countOutcomes(rotateAtOnce(t, s, f, 0))
	if n[store.Rotated] != 1 {
		t.Errorf("%d callers rotated, want exactly 1 (outcomes %v)", n[store.Rotated], n)
	}
	if n[store.Reused] < 1 || n[store.Rotated]+n[store.Reused]+n[store.Invalid] != concurrentRotations {
		t.Errorf("outcomes %v: want the losers Reused (or Invalid once revoked), at least one Reused", n)
	}
	if sess := mustGetSession(t, s, "t1", f.session.ID); sess.RevokedAt.IsZero() {
		t.Error("concurrent reuse left the session live")
	}
	if revs := revocations(t, s); len(revs) != 1 {
		t.Errorf("revocations = %d, want 1", len(revs))
	}
}

func testRotateConcurrentLeeway(t *testing.T, s store.Store) {
	mustTenant(t, s, "t1")
	f := newFamily(t, s, "t1", "alice", base)
	results := rotateAtOnce(t, s, f, time.Minute)
	n := countOutcomes(results)
	if n[store.Rotated] != 1 || n[store.Retried] != concurrentRotations-1 {
		t.Fatalf("outcomes %v: want 1 Rotated and %d Retried", n, concurrentRotations-1)
	}
	var winner []byte
	for i, r := range results {
		if r.Outcome == store.Rotated {
			winner = []byte(fmt.Sprint("pair-", i))
		}
	}
	for i, r := range results {
		if r.Outcome == store.Retried && !bytes.Equal(r.RetryData, winner) {
			t.Errorf("Retried #%d got RetryData %q, want the winner's %q", i, r.RetryData, winner)
		}
	}
	if sess := mustGetSession(t, s, "t1", f.session.ID); !sess.RevokedAt.IsZero() {
		t.Error("concurrent retries revoked the session")
	}
}
