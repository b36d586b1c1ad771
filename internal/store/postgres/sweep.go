package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/store"
)

// Sweep deletes the refresh tokens and the sessions (with their tokens)
// expired before now, clears the leeway retry data of tokens rotated before
// retryBefore, and deletes revocation records whose Exp has passed (no
// token of those sessions can be valid any more) and outbox messages
// finished more than store.OutboxRetention ago. Each step is its own
// statement, so that no lock is held across the whole sweep.
func (s *Store) Sweep(ctx context.Context, now, retryBefore time.Time) error {
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return fmt.Errorf("sweep: %w", err)
	}
	defer cancel()
	steps := []struct {
		what string
		sql  string
		arg  time.Time
	}{
		{"refresh tokens", `DELETE FROM refresh_tokens WHERE expires_at < $1`, now},
		{"sessions", `DELETE FROM sessions WHERE expires_at < $1`, now},
		{"retry data", `UPDATE refresh_tokens SET retry_data = NULL
			WHERE retry_data IS NOT NULL AND rotated_at < $1`, retryBefore},
		{"revocations", `DELETE FROM revocations WHERE exp < $1`, now},
		{"tickets", `DELETE FROM tickets WHERE expires_at <= $1`, now},
		{"browser sessions", `DELETE FROM browser_sessions WHERE expires_at <= $1`, now},
		{"authorization codes", `DELETE FROM auth_codes WHERE expires_at <= $1`, now},
		{"authorization requests", `DELETE FROM auth_requests WHERE expires_at <= $1`, now},
		{"id token replay entries", `DELETE FROM id_token_replay WHERE exp <= $1`, now},
		{"finished outbox messages", `DELETE FROM outbox WHERE status <> 'pending' AND delivered_at < $1`,
			now.Add(-store.OutboxRetention)},
	}
	for _, st := range steps {
		if _, err := s.pool.Exec(ctx, st.sql, ts(st.arg)); err != nil {
			return fmt.Errorf("sweep %s: %w", st.what, mapErr(err))
		}
	}
	return nil
}
