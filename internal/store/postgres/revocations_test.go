package postgres_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/store/postgres/pgtest"
)

// TestListRevocations_PollerSkipsNothing revokes sessions from many
// goroutines of two pools while a poller follows the feed the way a
// verifier does, remembering only the highest seq it saw. Records must
// become visible in seq order, so the poller ends up with every one.
func TestListRevocations_PollerSkipsNothing(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.NewDatabase(t)
	a, b := openStore(t, dsn), openStore(t, dsn)
	const writers, perWriter = 8, 8
	for w := range writers {
		for i := range perWriter {
			seedSession(t, a, "t1", "u1", fmt.Sprintf("s%d-%d", w, i))
		}
	}

	var done atomic.Bool
	seen := map[string]int{}
	var pollErr error
	var poller sync.WaitGroup
	poller.Go(func() {
		var last int64
		for {
			finished := done.Load()
			revs, err := b.ListRevocations(ctx, last, 1000)
			if err != nil {
				pollErr = err
				return
			}
			for _, r := range revs {
				seen[r.SessionID]++
				last = r.Seq
			}
			if finished && len(revs) == 0 {
				return
			}
		}
	})

	var wg sync.WaitGroup
	for w := range writers {
		s := a
		if w%2 == 1 {
			s = b
		}
		wg.Go(func() {
			for i := range perWriter {
				if _, _, err := s.RevokeSession(ctx, "t1", fmt.Sprintf("s%d-%d", w, i), base.Add(time.Hour), "test"); err != nil {
					t.Errorf("RevokeSession: %v", err)
				}
			}
		})
	}
	wg.Wait()
	done.Store(true)
	poller.Wait()
	if pollErr != nil {
		t.Fatalf("ListRevocations: %v", pollErr)
	}
	if len(seen) != writers*perWriter {
		t.Errorf("poller saw %d sessions, want %d", len(seen), writers*perWriter)
	}
	for sid, n := range seen {
		if n != 1 {
			t.Errorf("session %s seen %d times", sid, n)
		}
	}
}
