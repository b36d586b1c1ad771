package sqlite

import (
	"context"
	"database/sql"
	"time"
)

// sweepBatch bounds the rows one sweep transaction touches, so that the
// write lock is never held for long and refreshes keep flowing.
const sweepBatch = 2000

// sweepSteps are the statements of Sweep. Each takes (now, retryBefore,
// batch) as ?1, ?2, ?3 and affects at most one batch of rows.
var sweepSteps = []struct{ name, sql string }{
	{"expired sessions", `DELETE FROM sessions WHERE rowid IN
		(SELECT rowid FROM sessions WHERE expires_at <= ?1 LIMIT ?3)`}, // their tokens cascade
	{"expired refresh tokens", `DELETE FROM refresh_tokens WHERE rowid IN
		(SELECT rowid FROM refresh_tokens WHERE expires_at <= ?1 LIMIT ?3)`},
	{"retry data", `UPDATE refresh_tokens SET retry_data = NULL WHERE rowid IN
		(SELECT rowid FROM refresh_tokens WHERE retry_data IS NOT NULL AND rotated_at < ?2 LIMIT ?3)`},
	{"expired revocations", `DELETE FROM revocations WHERE seq IN
		(SELECT seq FROM revocations WHERE exp <= ?1 LIMIT ?3)`},
	{"expired tickets", `DELETE FROM tickets WHERE rowid IN
		(SELECT rowid FROM tickets WHERE expires_at <= ?1 LIMIT ?3)`},
	{"expired browser sessions", `DELETE FROM browser_sessions WHERE rowid IN
		(SELECT rowid FROM browser_sessions WHERE expires_at <= ?1 LIMIT ?3)`},
	{"expired authorization codes", `DELETE FROM auth_codes WHERE rowid IN
		(SELECT rowid FROM auth_codes WHERE expires_at <= ?1 LIMIT ?3)`},
	{"expired authorization requests", `DELETE FROM auth_requests WHERE rowid IN
		(SELECT rowid FROM auth_requests WHERE expires_at <= ?1 LIMIT ?3)`},
	{"expired id token replay entries", `DELETE FROM id_token_replay WHERE rowid IN
		(SELECT rowid FROM id_token_replay WHERE exp <= ?1 LIMIT ?3)`},
	// store.OutboxRetention is 30 days: 2 592 000 000 000 µs.
	{"finished outbox messages", `DELETE FROM outbox WHERE seq IN
		(SELECT seq FROM outbox WHERE status <> 'pending' AND delivered_at < ?1 - 2592000000000 LIMIT ?3)`},
}

// Sweep implements store.Store. It works in batches of short transactions;
// an error leaves the work done so far in place, and the next Sweep
// continues.
func (s *Store) Sweep(ctx context.Context, now, retryBefore time.Time) error {
	for _, step := range sweepSteps {
		for {
			var n int64
			err := s.write(ctx, func(c *sql.Conn) error {
				res, err := c.ExecContext(ctx, step.sql, now.UnixMicro(), retryBefore.UnixMicro(), sweepBatch)
				if err != nil {
					return err
				}
				n, err = res.RowsAffected()
				return err
			})
			if err != nil {
				return wrap("sweep "+step.name, err)
			}
			if n < sweepBatch {
				break
			}
		}
	}
	return nil
}
