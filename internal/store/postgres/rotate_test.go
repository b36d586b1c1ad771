package postgres_test

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/store"
	"github.com/gatehouse-auth/gatehouse/internal/store/postgres/pgtest"
)

// TestRotate_TwoStoresOneWinner rotates one token from two pools at once,
// as two Gatehouse processes on one database would: exactly one caller
// rotates it; the others see reuse (leeway 0) or a retry (leeway > 0).
func TestRotate_TwoStoresOneWinner(t *testing.T) {
	cases := []struct {
		name   string
		leeway time.Duration
	}{
		{"leeway 0, losers are reuse", 0},
		{"leeway 1m, losers retry", time.Minute},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			dsn := pgtest.NewDatabase(t)
			stores := []store.Store{openStore(t, dsn), openStore(t, dsn)}
			sess := seedSession(t, stores[0], "t1", "u1", "s1")

			const callers = 40
			now := base.Add(time.Hour)
			results := make([]store.RotateResult, callers)
			errs := make([]error, callers)
			start := make(chan struct{})
			var wg sync.WaitGroup
			for i := range callers {
				wg.Go(func() {
					<-start
					req := rotateReq("t1", tokenHash("s1", 0), hashOf(fmt.Sprintf("s1/succ-%d", i)), now, tc.leeway)
					results[i], errs[i] = stores[i%2].RotateRefreshToken(ctx, req)
				})
			}
			close(start)
			wg.Wait()

			counts := map[int]int{}
			var winner store.RotateResult
			for i, err := range errs {
				if err != nil {
					t.Fatalf("caller %d: %v", i, err)
				}
				counts[results[i].Outcome]++
				if results[i].Outcome == store.Rotated {
					winner = results[i]
				}
			}
			if counts[store.Rotated] != 1 {
				t.Fatalf("outcomes %v: want exactly one Rotated", counts)
			}
			if winner.New.Generation != 1 || winner.New.SessionID != sess.ID || winner.User.ID != "u1" {
				t.Errorf("winner = %+v", winner)
			}

			got, err := stores[1].GetSession(ctx, "t1", "s1")
			if err != nil {
				t.Fatalf("GetSession: %v", err)
			}
			revs, err := stores[0].ListRevocations(ctx, 0, 100)
			if err != nil {
				t.Fatalf("ListRevocations: %v", err)
			}
			audit, err := stores[0].ListAudit(ctx, "t1", store.AuditFilter{Type: "refresh_token_reused"})
			if err != nil {
				t.Fatalf("ListAudit: %v", err)
			}

			if tc.leeway == 0 {
				if counts[store.Reused] < 1 || counts[store.Reused]+counts[store.Invalid] != callers-1 {
					t.Fatalf("outcomes %v: want the losers Reused (or Invalid once revoked)", counts)
				}
				if got.RevokedAt.IsZero() {
					t.Error("session not revoked after reuse")
				}
				if len(revs) != 1 || revs[0].SessionID != "s1" {
					t.Errorf("revocations = %+v, want one for s1", revs)
				}
				if len(audit) != counts[store.Reused] {
					t.Errorf("%d reuse audit events, want %d", len(audit), counts[store.Reused])
				}
				next := rotateReq("t1", winner.New.Hash, hashOf("s1/after"), now.Add(time.Second), 0)
				if res, err := stores[0].RotateRefreshToken(ctx, next); err != nil || res.Outcome != store.Invalid {
					t.Errorf("successor after reuse: outcome %d, err %v; want Invalid", res.Outcome, err)
				}
				return
			}

			if counts[store.Retried] != callers-1 {
				t.Fatalf("outcomes %v: want every loser Retried", counts)
			}
			for i, r := range results {
				if r.Outcome == store.Retried && !bytes.Equal(r.RetryData, []byte("sealed:"+winner.New.Hash)) {
					t.Errorf("caller %d: RetryData %q, want the winner's", i, r.RetryData)
				}
			}
			if !got.RevokedAt.IsZero() || len(revs) != 0 || len(audit) != 0 {
				t.Errorf("retries changed state: revoked %v, %d revocations, %d audit events", got.RevokedAt, len(revs), len(audit))
			}
			next := rotateReq("t1", winner.New.Hash, hashOf("s1/gen2"), now.Add(2*time.Minute), tc.leeway)
			if res, err := stores[1].RotateRefreshToken(ctx, next); err != nil || res.Outcome != store.Rotated || res.New.Generation != 2 {
				t.Errorf("rotating the successor: outcome %d gen %d err %v; want Rotated gen 2", res.Outcome, res.New.Generation, err)
			}
		})
	}
}

// TestRotate_RevocationDuringRotationsLeavesNoLiveToken races rotations of
// a chain against a revocation of its session: once RevokeSession has
// returned, no token of the family may rotate, whichever order the two
// transactions took.
func TestRotate_RevocationDuringRotationsLeavesNoLiveToken(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.NewDatabase(t)
	a, b := openStore(t, dsn), openStore(t, dsn)
	for round := range 20 {
		sid := fmt.Sprintf("s%d", round)
		seedSession(t, a, "t1", "u1", sid)
		now := base.Add(time.Hour)
		var wg sync.WaitGroup
		cur := tokenHash(sid, 0)
		var last string
		wg.Go(func() {
			for gen := 1; gen <= 10; gen++ {
				next := tokenHash(sid, gen)
				res, err := a.RotateRefreshToken(ctx, rotateReq("t1", cur, next, now, 0))
				if err != nil {
					t.Errorf("rotate: %v", err)
					return
				}
				if res.Outcome != store.Rotated {
					break
				}
				cur = next
			}
			last = cur
		})
		wg.Go(func() {
			if _, _, err := b.RevokeSession(ctx, "t1", sid, now, "test"); err != nil {
				t.Errorf("RevokeSession: %v", err)
			}
		})
		wg.Wait()
		res, err := b.RotateRefreshToken(ctx, rotateReq("t1", last, hashOf(sid+"/late"), now, 0))
		if err != nil || res.Outcome != store.Invalid {
			t.Fatalf("round %d: latest token after revocation: outcome %d, err %v; want Invalid", round, res.Outcome, err)
		}
	}
}
