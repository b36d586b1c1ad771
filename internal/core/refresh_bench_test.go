package core

import (
	"context"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/store"
)

// BenchmarkRefresh rotates refresh tokens through the service, without
// HTTP, from 16 goroutines per GOMAXPROCS unit, each presenting the newest
// token of its own session: the load of `gatehouse loadtest --mode chain`
// minus the HTTP layer. Its two cases split the cost of a rotation:
//
//   - sqlite: the real store (group commit, WAL, answered after the commit);
//   - memory: the same, except that every rotation after a session's first
//     is answered from memory instead of the database: what a rotation
//     costs outside the store (hashing the tokens, building and signing
//     the access token).
func BenchmarkRefresh(b *testing.B) {
	for _, mode := range []string{"sqlite", "memory"} {
		b.Run(mode, func(b *testing.B) {
			ctx := context.Background()
			st := openTestStore(b, filepath.Join(b.TempDir(), "bench.db"))
			var backing store.Store = st
			if mode == "memory" {
				backing = &memRotations{Store: st, next: map[string]store.RotateResult{}}
			}
			svc := newTestService(b, backing, &testClock{now: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}, appTestPolicy)
			if err := svc.EnsureTenant(ctx, DefaultTenant, "Default"); err != nil {
				b.Fatal(err)
			}
			u, err := svc.CreateUser(ctx, NewUser{TenantID: DefaultTenant, Username: "bench", Groups: []string{"eng"}}, Meta{})
			if err != nil {
				b.Fatal(err)
			}
			const perProc = 16
			tokens := make([]string, perProc*64)
			for i := range tokens {
				res, err := svc.startSession(ctx, u, SessionParams{AMR: []string{"pwd"}})
				if err != nil {
					b.Fatal(err)
				}
				tokens[i] = res.RefreshToken
			}
			var next atomic.Int64
			b.SetParallelism(perProc)
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				refresh := tokens[next.Add(1)-1]
				for pb.Next() {
					res, err := svc.Refresh(ctx, RefreshRequest{TenantID: DefaultTenant, RefreshToken: refresh})
					if err != nil {
						b.Errorf("refresh: %v", err)
						return
					}
					refresh = res.RefreshToken
				}
			})
		})
	}
}

// memRotations answers the rotation of a token that it saw issued by a
// rotation from memory, and everything else from the wrapped store. It
// keeps no guarantee of the real store (nothing is durable, nothing is
// checked); it exists only to measure what a rotation costs outside the
// database.
type memRotations struct {
	store.Store
	mu   sync.Mutex
	next map[string]store.RotateResult // by the hash its holder will present
}

func (m *memRotations) RotateRefreshToken(ctx context.Context, req store.RotateRequest) (store.RotateResult, error) {
	m.mu.Lock()
	res, ok := m.next[req.PresentedHash]
	if ok {
		delete(m.next, req.PresentedHash)
		res.New = req.New
		m.next[req.New.Hash] = res
	}
	m.mu.Unlock()
	if ok {
		return res, nil
	}
	res, err := m.Store.RotateRefreshToken(ctx, req)
	if err == nil && res.Outcome == store.Rotated {
		m.mu.Lock()
		m.next[req.New.Hash] = res
		m.mu.Unlock()
	}
	return res, err
}
