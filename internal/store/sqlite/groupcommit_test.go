package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/store"
)

// seedChains creates n live user sessions chain0..chain(n-1) of user u1 in tenant
// t1, the first token of session i being tokenHash("chain-i-0").
func seedChains(t testing.TB, s *Store, n int) {
	t.Helper()
	seedSession(t, s)
	for i := range n {
		id := fmt.Sprint("chain", i)
		sess := store.Session{TenantID: "t1", ID: id, UserID: "u1", Kind: store.SessionUser,
			CreatedAt: testBase, ExpiresAt: testBase.Add(1000 * 24 * time.Hour)}
		rt := store.RefreshToken{Hash: tokenHash(fmt.Sprint("chain-", i, "-0")), Generation: 1,
			CreatedAt: testBase, ExpiresAt: testBase.Add(1000 * 24 * time.Hour)}
		if err := s.CreateSession(context.Background(), sess, rt); err != nil {
			t.Fatalf("CreateSession: %v", err)
		}
	}
}

func chainReq(chain, step int, now time.Time) store.RotateRequest {
	return store.RotateRequest{
		TenantID: "t1", PresentedHash: tokenHash(fmt.Sprint("chain-", chain, "-", step)), Now: now,
		IdleTTL: 24 * time.Hour, New: store.RefreshToken{Hash: tokenHash(fmt.Sprint("chain-", chain, "-", step+1))},
	}
}

// tokenState reads whether a token exists and whether it was rotated.
func tokenState(t *testing.T, s *Store, hash string) (exists, rotated bool, generation int) {
	t.Helper()
	var rotatedAt sql.NullInt64
	err := s.reader.QueryRowContext(context.Background(),
		`SELECT rotated_at, generation FROM refresh_tokens WHERE token_hash = ?`, hash).Scan(&rotatedAt, &generation)
	if errors.Is(err, sql.ErrNoRows) {
		return false, false, 0
	}
	if err != nil {
		t.Fatalf("read token: %v", err)
	}
	return true, rotatedAt.Valid, generation
}

func TestGroupCommit_ConcurrentChainsShareCommits(t *testing.T) {
	s := openMigrated(t, filepath.Join(t.TempDir(), "gatehouse.db"))
	const chains, steps = 32, 20
	seedChains(t, s, chains)
	start := make(chan struct{})
	errs := make(chan error, chains)
	var wg sync.WaitGroup
	for c := range chains {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			for step := range steps {
				now := testBase.Add(time.Hour + time.Duration(step)*time.Second)
				res, err := s.RotateRefreshToken(context.Background(), chainReq(c, step, now))
				if err != nil || res.Outcome != store.Rotated || res.New.Generation != step+2 || res.User.ID != "u1" {
					errs <- fmt.Errorf("chain %d step %d: outcome %d generation %d: %v", c, step, res.Outcome, res.New.Generation, err)
					return
				}
			}
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	batches, batched := s.commits.batches.Load(), s.commits.batched.Load()
	if batched != chains*steps {
		t.Fatalf("%d rotations went through the group commit, want %d", batched, chains*steps)
	}
	if batches >= batched {
		t.Errorf("%d concurrent rotations took %d commits: nothing was batched", batched, batches)
	}
	t.Logf("%d rotations in %d commits", batched, batches)
	for c := range chains {
		if _, rotated, gen := tokenState(t, s, tokenHash(fmt.Sprint("chain-", c, "-", steps))); rotated || gen != steps+1 {
			t.Errorf("chain %d: newest token rotated=%v generation %d, want active generation %d", c, rotated, gen, steps+1)
		}
	}
}

// TestGroupCommit_EachRotationAllOrNothing runs one batch by hand in which
// one rotation fails half-way (its successor hash is taken): only that
// rotation is rolled back; the others of the batch commit.
func TestGroupCommit_EachRotationAllOrNothing(t *testing.T) {
	s := openMigrated(t, filepath.Join(t.TempDir(), "gatehouse.db"))
	seedChains(t, s, 3)
	now := testBase.Add(time.Hour)
	bad := chainReq(1, 0, now)
	bad.New.Hash = tokenHash("chain-2-0") // the first token of chain 2: the insert conflicts
	unknown := chainReq(9, 0, now)
	again := chainReq(0, 0, now) // chain 0's token, already rotated earlier in the same batch
	again.New.Hash = tokenHash("other")
	jobs := []*rotateJob{{req: chainReq(0, 0, now)}, {req: bad}, {req: chainReq(2, 0, now)}, {req: unknown}, {req: again}}

	g := &committer{db: s.writer}
	defer g.closeStatements()
	answers, err := g.runBatch(jobs)
	if err != nil {
		t.Fatalf("runBatch: %v", err)
	}
	if a := answers[0]; !a.won || a.err != nil || a.res.Outcome != store.Rotated || a.res.New.Generation != 2 {
		t.Errorf("chain 0: %+v", a)
	}
	if a := answers[1]; a.won || !errors.Is(mapErr(a.err), store.ErrConflict) {
		t.Errorf("conflicting rotation: won %v, err %v; want ErrConflict", a.won, a.err)
	}
	if a := answers[2]; !a.won || a.err != nil {
		t.Errorf("chain 2: %+v", a)
	}
	// Not matched: nothing written, the caller decides in its own transaction.
	if a := answers[3]; a.won || a.err != nil {
		t.Errorf("unknown token: %+v", a)
	}
	if a := answers[4]; a.won || a.err != nil {
		t.Errorf("token rotated earlier in the batch: %+v", a)
	}

	if _, rotated, _ := tokenState(t, s, tokenHash("chain-1-0")); rotated {
		t.Error("the failed rotation's mark survived: its savepoint was not rolled back")
	}
	for _, c := range []int{0, 2} {
		if _, rotated, _ := tokenState(t, s, tokenHash(fmt.Sprint("chain-", c, "-0"))); !rotated {
			t.Errorf("chain %d: presented token not rotated after the commit", c)
		}
		if exists, rotated, gen := tokenState(t, s, tokenHash(fmt.Sprint("chain-", c, "-1"))); !exists || rotated || gen != 2 {
			t.Errorf("chain %d: successor exists=%v rotated=%v generation %d", c, exists, rotated, gen)
		}
	}
	if exists, _, _ := tokenState(t, s, tokenHash("other")); exists {
		t.Error("the unmatched rotation inserted its successor")
	}
	// The failed chain still rotates normally afterwards.
	res, err := s.RotateRefreshToken(context.Background(), chainReq(1, 0, now.Add(time.Second)))
	if err != nil || res.Outcome != store.Rotated {
		t.Fatalf("chain 1 after the failed batch: %d %v", res.Outcome, err)
	}
	// And the token presented twice in the batch is now a reuse.
	res, err = s.RotateRefreshToken(context.Background(), again)
	if err != nil || res.Outcome != store.Reused {
		t.Fatalf("chain 0's rotated token again: %d %v, want Reused", res.Outcome, err)
	}
}

func TestGroupCommit_CancelledCallerIsNotRotated(t *testing.T) {
	s := openMigrated(t, filepath.Join(t.TempDir(), "gatehouse.db"))
	seedChains(t, s, 1)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for i := range 20 {
		if _, err := s.RotateRefreshToken(ctx, chainReq(0, 0, testBase.Add(time.Hour))); err == nil {
			t.Fatalf("attempt %d: a cancelled rotation succeeded", i)
		}
	}
	if _, rotated, _ := tokenState(t, s, tokenHash("chain-0-0")); rotated {
		t.Fatal("a cancelled caller's token was rotated")
	}
}

func TestGroupCommit_ClosedStoreIsUnavailable(t *testing.T) {
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "gatehouse.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	seedChains(t, s, 1)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	_, err = s.RotateRefreshToken(context.Background(), chainReq(0, 0, testBase.Add(time.Hour)))
	if !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("rotate after Close: %v, want ErrUnavailable", err)
	}
	// The committer itself refuses too, even past the store's own check.
	if _, _, err := s.commits.rotate(context.Background(), chainReq(0, 0, testBase)); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("committer after Close: %v, want ErrUnavailable", err)
	}
}

// BenchmarkRotateGroupCommit rotates 16 independent chains concurrently
// (per GOMAXPROCS unit), the load under which rotations share commits, and
// reports rotations per commit.
func BenchmarkRotateGroupCommit(b *testing.B) {
	s := openMigrated(b, filepath.Join(b.TempDir(), "bench.db"))
	const perProc = 16
	n := perProc * 64
	seedChains(b, s, n)
	var next sync.Mutex
	chain := 0
	b.SetParallelism(perProc)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		next.Lock()
		c := chain
		chain++
		next.Unlock()
		step := 0
		for pb.Next() {
			res, err := s.RotateRefreshToken(context.Background(), chainReq(c, step, testBase.Add(time.Hour+time.Duration(step)*time.Millisecond)))
			if err != nil || res.Outcome != store.Rotated {
				b.Errorf("chain %d step %d: %d %v", c, step, res.Outcome, err)
				return
			}
			step++
		}
	})
	if batches := s.commits.batches.Load(); batches > 0 {
		b.ReportMetric(float64(s.commits.batched.Load())/float64(batches), "rotations/commit")
	}
}

// TestRotate_OnlyReuseTakesAWriteTransaction checks that tokens the group
// commit did not rotate are decided on a reader, and that only a reuse
// (which must revoke its family) takes a write transaction of its own.
func TestRotate_OnlyReuseTakesAWriteTransaction(t *testing.T) {
	s := openMigrated(t, filepath.Join(t.TempDir(), "gatehouse.db"))
	seedChains(t, s, 2)
	ctx := context.Background()
	at := testBase.Add(time.Hour)

	first := chainReq(0, 0, at)
	first.Leeway, first.RetryData = time.Minute, []byte("sealed pair")
	if res, err := s.RotateRefreshToken(ctx, first); err != nil || res.Outcome != store.Rotated {
		t.Fatalf("first rotation: %d %v", res.Outcome, err)
	}
	retry := first
	retry.Now, retry.New.Hash = at.Add(time.Second), tokenHash("retry successor")
	expired := chainReq(1, 0, testBase.Add(2000*24*time.Hour))
	unknown := chainReq(7, 0, at)
	for name, c := range map[string]struct {
		req  store.RotateRequest
		want int
	}{
		"unknown": {unknown, store.Invalid},
		"expired": {expired, store.Invalid},
		"retry":   {retry, store.Retried},
	} {
		res, err := s.RotateRefreshToken(ctx, c.req)
		if err != nil || res.Outcome != c.want {
			t.Fatalf("%s: outcome %d, %v; want %d", name, res.Outcome, err, c.want)
		}
		if c.want == store.Retried && (string(res.RetryData) != "sealed pair" || res.User.ID != "u1" || res.Session.ID != "chain0") {
			t.Errorf("%s: retry answer %+v", name, res)
		}
	}
	if n := s.reuseWrites.Load(); n != 0 {
		t.Fatalf("%d write transactions for answers that need no write", n)
	}
	if exists, _, _ := tokenState(t, s, tokenHash("retry successor")); exists {
		t.Error("the retry stored its offered successor")
	}

	reuse := first
	reuse.Now, reuse.New.Hash = at.Add(2*time.Minute), tokenHash("reuse successor")
	if res, err := s.RotateRefreshToken(ctx, reuse); err != nil || res.Outcome != store.Reused {
		t.Fatalf("reuse after the leeway: %d %v", res.Outcome, err)
	}
	if n := s.reuseWrites.Load(); n != 1 {
		t.Fatalf("reuse took %d write transactions, want 1", n)
	}
	sess, err := s.GetSession(ctx, "t1", "chain0")
	if err != nil || sess.RevokedAt.IsZero() {
		t.Fatalf("family after the reuse: revoked at %v, %v", sess.RevokedAt, err)
	}
}

// BenchmarkRotateUnknownToken presents tokens that do not exist, from
// 16 goroutines per GOMAXPROCS unit: the load of a client spraying
// guesses.
func BenchmarkRotateUnknownToken(b *testing.B) {
	s := openMigrated(b, filepath.Join(b.TempDir(), "bench.db"))
	seedChains(b, s, 64)
	b.SetParallelism(16)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for i := 0; pb.Next(); i++ {
			res, err := s.RotateRefreshToken(context.Background(), chainReq(1000+i%1000, i, testBase.Add(time.Hour)))
			if err != nil || res.Outcome != store.Invalid {
				b.Errorf("unknown token: %d %v", res.Outcome, err)
				return
			}
		}
	})
}
