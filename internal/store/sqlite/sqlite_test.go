package sqlite

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/store"
	"github.com/gatehouse-auth/gatehouse/internal/store/storetest"
)

// openMigrated opens and migrates a store on path and closes it at cleanup.
func openMigrated(t testing.TB, path string) *Store {
	t.Helper()
	s, err := Open(context.Background(), path, Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		return openMigrated(t, filepath.Join(t.TempDir(), "gatehouse.db"))
	})
}

func tokenHash(label string) string {
	sum := sha256.Sum256([]byte(label))
	return hex.EncodeToString(sum[:])
}

var testBase = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

// seedSession creates tenant t1, user u1 and a live user session s1 whose
// first refresh token is tokenHash("rt0").
func seedSession(t testing.TB, s *Store) {
	t.Helper()
	ctx := context.Background()
	if err := s.CreateTenant(ctx, store.Tenant{ID: "t1", Name: "T1", CreatedAt: testBase}); err != nil {
		t.Fatalf("CreateTenant: %v", err)
	}
	if err := s.CreateUser(ctx, store.User{TenantID: "t1", ID: "u1", Username: "alice", Status: store.StatusActive}); err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	sess := store.Session{TenantID: "t1", ID: "s1", UserID: "u1", Kind: store.SessionUser,
		CreatedAt: testBase, ExpiresAt: testBase.Add(1000 * 24 * time.Hour)}
	rt := store.RefreshToken{Hash: tokenHash("rt0"), Generation: 1, CreatedAt: testBase, ExpiresAt: testBase.Add(1000 * 24 * time.Hour)}
	if err := s.CreateSession(ctx, sess, rt); err != nil {
		t.Fatalf("CreateSession: %v", err)
	}
}

// TestTwoStoresOneFileOneWinner opens the same file twice, as two processes
// would, and rotates one token from both at once: the write lock of the
// file, not a mutex of one process, must pick the single winner.
func TestTwoStoresOneFileOneWinner(t *testing.T) {
	path := filepath.Join(t.TempDir(), "shared", "gatehouse.db")
	a := openMigrated(t, path)
	b := openMigrated(t, path) // migrating again from the second "process" is a no-op
	seedSession(t, a)

	const perStore = 25
	results := make([]store.RotateResult, 2*perStore)
	errs := make([]error, 2*perStore)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range 2 * perStore {
		s := a
		if i%2 == 1 {
			s = b
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			results[i], errs[i] = s.RotateRefreshToken(context.Background(), store.RotateRequest{
				TenantID: "t1", PresentedHash: tokenHash("rt0"), Now: testBase.Add(time.Hour),
				IdleTTL: time.Hour, New: store.RefreshToken{Hash: tokenHash(fmt.Sprint("next", i))},
				ReuseAudit: store.AuditEvent{Type: "refresh_token_reused"},
			})
		}()
	}
	close(start)
	wg.Wait()
	count := map[int]int{}
	for i, err := range errs {
		if err != nil {
			t.Fatalf("rotation %d: %v", i, err)
		}
		count[results[i].Outcome]++
	}
	if count[store.Rotated] != 1 || count[store.Reused] < 1 ||
		count[store.Rotated]+count[store.Reused]+count[store.Invalid] != 2*perStore {
		t.Fatalf("outcomes %v: want one Rotated and the rest Reused or Invalid", count)
	}
	// Both handles see the same revoked family.
	for name, s := range map[string]*Store{"a": a, "b": b} {
		sess, err := s.GetSession(context.Background(), "t1", "s1")
		if err != nil || sess.RevokedAt.IsZero() {
			t.Errorf("store %s: session %+v, %v; want revoked", name, sess, err)
		}
	}
}

// TestTwoStoresOneFileUpdates has two handles on one file read-modify-write
// the same user at once: with BEGIN IMMEDIATE every update waits for the
// lock instead of failing on a stale read snapshot, and none is lost.
func TestTwoStoresOneFileUpdates(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gatehouse.db")
	a := openMigrated(t, path)
	b := openMigrated(t, path)
	seedSession(t, a)

	const n = 20
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		s := a
		if i%2 == 1 {
			s = b
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, errs[i] = s.UpdateUser(context.Background(), "t1", "u1", func(u *store.User) error {
				u.Roles = append(u.Roles, fmt.Sprint("r", i))
				return nil
			})
		}()
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("update %d: %v", i, err)
		}
	}
	u, err := b.GetUser(context.Background(), "t1", "u1")
	if err != nil {
		t.Fatalf("GetUser: %v", err)
	}
	if len(u.Roles) != n {
		t.Errorf("roles = %v, want %d entries", u.Roles, n)
	}
}

func BenchmarkRotateRefreshToken(b *testing.B) {
	s := openMigrated(b, filepath.Join(b.TempDir(), "bench.db"))
	seedSession(b, s)
	ctx := context.Background()
	presented := tokenHash("rt0")
	now := testBase.Add(time.Minute)
	for i := 0; b.Loop(); i++ {
		next := tokenHash(fmt.Sprint("rt", i+1))
		res, err := s.RotateRefreshToken(ctx, store.RotateRequest{
			TenantID: "t1", PresentedHash: presented, Now: now.Add(time.Duration(i) * time.Millisecond),
			IdleTTL: 24 * time.Hour, New: store.RefreshToken{Hash: next},
		})
		if err != nil || res.Outcome != store.Rotated {
			b.Fatalf("rotation %d: outcome %d, %v", i, res.Outcome, err)
		}
		presented = next
	}
}

func BenchmarkCreateSession(b *testing.B) {
	s := openMigrated(b, filepath.Join(b.TempDir(), "bench.db"))
	seedSession(b, s)
	ctx := context.Background()
	for i := 0; b.Loop(); i++ {
		id := fmt.Sprint("bench-", i)
		sess := store.Session{TenantID: "t1", ID: id, UserID: "u1", Kind: store.SessionUser, AMR: []string{"pwd"},
			CreatedAt: testBase, ExpiresAt: testBase.Add(30 * 24 * time.Hour)}
		rt := store.RefreshToken{Hash: tokenHash(id), Generation: 1, CreatedAt: testBase, ExpiresAt: testBase.Add(7 * 24 * time.Hour)}
		if err := s.CreateSession(ctx, sess, rt); err != nil {
			b.Fatalf("CreateSession: %v", err)
		}
	}
}
