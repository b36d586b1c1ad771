package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gatehouse-auth/gatehouse/internal/store"
	"github.com/gatehouse-auth/gatehouse/internal/store/postgres/pgtest"
)

// TestRotate_SingleStatementNeverCommitsHalf: the success path commits on
// its own, so when the token update matches but the session cannot be
// touched (a revocation committing in between; here a trigger that skips
// the update stands for it), the statement must fail as a whole: no
// rotated token, no successor, and no answer of Rotated.
func TestRotate_SingleStatementNeverCommitsHalf(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.NewDatabase(t)
	s := openStore(t, dsn)
	seedSession(t, s, "t1", "u1", "s1")
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	exec := func(sql string) {
		t.Helper()
		if _, err := conn.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	exec(`CREATE FUNCTION skip_touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$`)
	exec(`CREATE TRIGGER skip_touch BEFORE UPDATE OF last_used_at ON sessions FOR EACH ROW EXECUTE FUNCTION skip_touch()`)

	presented, next := tokenHash("s1", 0), hashOf("s1/next")
	now := base.Add(time.Hour)
	res, err := s.RotateRefreshToken(ctx, rotateReq("t1", presented, next, now, 0))
	if err == nil && res.Outcome == store.Rotated {
		t.Fatal("answered Rotated although the session was not touched")
	}
	var rotated bool
	if err := conn.QueryRow(ctx, `SELECT rotated_at IS NOT NULL FROM refresh_tokens WHERE token_hash = $1`, presented).Scan(&rotated); err != nil {
		t.Fatal(err)
	}
	var successors int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM refresh_tokens WHERE token_hash = $1`, next).Scan(&successors); err != nil {
		t.Fatal(err)
	}
	if rotated || successors != 0 {
		t.Fatalf("half a rotation committed: presented rotated=%v, successors=%d", rotated, successors)
	}

	exec(`DROP TRIGGER skip_touch ON sessions`)
	res, err = s.RotateRefreshToken(ctx, rotateReq("t1", presented, next, now, 0))
	if err != nil || res.Outcome != store.Rotated || res.New.Generation != 1 || !res.Session.LastUsedAt.Equal(now) {
		t.Fatalf("rotation after the trigger is gone: outcome %d, generation %d, last used %v, %v",
			res.Outcome, res.New.Generation, res.Session.LastUsedAt, err)
	}
}
