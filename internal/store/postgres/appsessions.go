package postgres

import (
	"context"
	"fmt"

	"github.com/gatehouse-auth/gatehouse/internal/store"
)

// appSessionMatch is the condition, on the sessions table, that selects the
// app session of an AppSessionQuery. Its parameters are $1 now, $2 tenant,
// $3 client, $4 refresh token hash. The token's hash is its primary key, so
// the sub-select yields at most one session.
const appSessionMatch = `tenant_id = $2 AND kind = '` + store.SessionApp + `' AND client_id = $3
	AND revoked_at IS NULL AND expires_at > $1
	AND id = (SELECT session_id FROM refresh_tokens
	          WHERE token_hash = $4 AND tenant_id = $2
	            AND revoked_at IS NULL AND rotated_at IS NULL AND expires_at > $1)`

// GetAppSession returns the live app session of q; store.ErrNotFound
// otherwise (see store.AppSessionStore).
func (s *Store) GetAppSession(ctx context.Context, q store.AppSessionQuery) (store.Session, error) {
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return store.Session{}, fmt.Errorf("get app session: %w", err)
	}
	defer cancel()
	sess, err := scanSession(s.pool.QueryRow(ctx, `SELECT `+cols("", sessionColumns)+` FROM sessions
		WHERE `+appSessionMatch, ts(q.Now), q.TenantID, q.ClientID, q.RefreshHash))
	if err != nil {
		return store.Session{}, fmt.Errorf("get app session: %w", mapErr(err))
	}
	return sess, nil
}

// UseAppSession touches the live app session of q and, when payload is not
// nil, sets its payload, with one conditional UPDATE (which locks the row,
// so it serialises with a concurrent revocation).
func (s *Store) UseAppSession(ctx context.Context, q store.AppSessionQuery, payload *string) (store.Session, error) {
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return store.Session{}, fmt.Errorf("use app session: %w", err)
	}
	defer cancel()
	sess, err := scanSession(s.pool.QueryRow(ctx, `UPDATE sessions
		SET last_used_at = $1, payload = COALESCE($5::text, payload)
		WHERE `+appSessionMatch+` RETURNING `+cols("", sessionColumns),
		ts(q.Now), q.TenantID, q.ClientID, q.RefreshHash, payload))
	if err != nil {
		return store.Session{}, fmt.Errorf("use app session: %w", mapErr(err))
	}
	return sess, nil
}
