package postgres_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/store"
	"github.com/gatehouse-auth/gatehouse/internal/store/postgres/pgtest"
)

// BenchmarkRotateRefreshToken measures one step of a rotation chain: each
// iteration presents the token the previous one created.
func BenchmarkRotateRefreshToken(b *testing.B) {
	s := pgtest.NewStore(b)
	seedSession(b, s, "t1", "u1", "s1")
	ctx := context.Background()
	cur := tokenHash("s1", 0)
	now := base.Add(time.Minute)
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		next := hashOf("s1/bench/" + strconv.Itoa(i))
		res, err := s.RotateRefreshToken(ctx, rotateReq("t1", cur, next, now, 0))
		if err != nil {
			b.Fatalf("rotate: %v", err)
		}
		if res.Outcome != store.Rotated {
			b.Fatalf("iteration %d: outcome %d, want Rotated", i, res.Outcome)
		}
		cur = next
		now = now.Add(time.Millisecond)
	}
}
