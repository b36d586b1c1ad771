package sqlite

import (
	"context"
	"database/sql"

	"github.com/gatehouse-auth/gatehouse/internal/store"
)

// appSessionMatch is the condition, on the sessions table, that selects the
// app session of an AppSessionQuery. Its parameters are ?1 now, ?2 tenant,
// ?3 client, ?4 refresh token hash. The token's hash is its primary key, so
// the sub-select yields at most one session.
const appSessionMatch = `tenant_id = ?2 AND kind = '` + store.SessionApp + `' AND client_id = ?3
	AND revoked_at IS NULL AND expires_at > ?1
	AND id = (SELECT session_id FROM refresh_tokens
	          WHERE token_hash = ?4 AND tenant_id = ?2
	            AND revoked_at IS NULL AND rotated_at IS NULL AND expires_at > ?1)`

// GetAppSession implements store.AppSessionStore.
func (s *Store) GetAppSession(ctx context.Context, q store.AppSessionQuery) (store.Session, error) {
	if err := s.usable(); err != nil {
		return store.Session{}, err
	}
	sess, err := scanSession(s.reader.QueryRowContext(ctx, `SELECT `+sessionCols+` FROM sessions
		WHERE `+appSessionMatch, q.Now.UnixMicro(), q.TenantID, q.ClientID, q.RefreshHash))
	return sess, wrap("get app session", err)
}

// UseAppSession implements store.AppSessionStore with one conditional
// UPDATE: a session that stops matching (revoked, expired) concurrently is
// simply not found.
func (s *Store) UseAppSession(ctx context.Context, q store.AppSessionQuery, payload *string) (store.Session, error) {
	var newPayload any // NULL keeps the stored payload
	if payload != nil {
		newPayload = *payload
	}
	var out store.Session
	err := s.write(ctx, func(c *sql.Conn) error {
		var err error
		out, err = scanSession(c.QueryRowContext(ctx, `UPDATE sessions
			SET last_used_at = ?1, payload = COALESCE(?5, payload)
			WHERE `+appSessionMatch+` RETURNING `+sessionCols,
			q.Now.UnixMicro(), q.TenantID, q.ClientID, q.RefreshHash, newPayload))
		return err
	})
	if err != nil {
		return store.Session{}, wrap("use app session", err)
	}
	return out, nil
}
