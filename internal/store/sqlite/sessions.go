package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/store"
)

// Revocation reasons the store sets by itself.
const (
	reasonUserDeleted = "user_deleted"
	reasonReused      = "refresh_token_reused"
	// reasonClientDeleted is the reason of sessions revoked with their client.
	reasonClientDeleted = "client_deleted"
)

// sessionCols lists the columns scanSession reads, in order.
const sessionCols = `tenant_id, id, user_id, client_id, kind, amr_json, actor, ip, user_agent, payload,
	created_at, last_used_at, expires_at, auth_time, revoked_at, reason, scope,
	first_party, client_bound, parent_id, browser_session_id`

func scanSession(r scanner) (store.Session, error) {
	var s store.Session
	err := r.Scan(&s.TenantID, &s.ID, &s.UserID, &s.ClientID, &s.Kind, jsonCol{&s.AMR},
		&s.Actor, &s.IP, &s.UserAgent, &s.Payload,
		timeCol{&s.CreatedAt}, timeCol{&s.LastUsedAt}, timeCol{&s.ExpiresAt}, timeCol{&s.AuthTime},
		timeCol{&s.RevokedAt}, &s.Reason, &s.Scope, &s.FirstParty, &s.ClientBound, &s.ParentID, &s.BrowserSessionID)
	return s, err
}

// CreateSession implements store.Store. The token's tenant and session are
// taken from s.
func (s *Store) CreateSession(ctx context.Context, sess store.Session, rt store.RefreshToken) error {
	amr, err := jsonText(sess.AMR)
	if err != nil {
		return fmt.Errorf("create session: amr: %w", err)
	}
	err = s.write(ctx, func(c *sql.Conn) error { return insertSession(ctx, c, sess, amr, rt) })
	return wrap("create session", err)
}

// insertSession inserts a session (amr already encoded) and its first
// refresh token.
func insertSession(ctx context.Context, c *sql.Conn, sess store.Session, amr string, rt store.RefreshToken) error {
	_, err := c.ExecContext(ctx, `INSERT INTO sessions (`+sessionCols+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		sess.TenantID, sess.ID, sess.UserID, sess.ClientID, sess.Kind, amr,
		sess.Actor, sess.IP, sess.UserAgent, sess.Payload,
		micros(sess.CreatedAt), micros(sess.LastUsedAt), sess.ExpiresAt.UnixMicro(), micros(sess.AuthTime),
		micros(sess.RevokedAt), sess.Reason, sess.Scope, sess.FirstParty, sess.ClientBound, sess.ParentID,
		sess.BrowserSessionID)
	if err != nil {
		return err
	}
	rt.TenantID, rt.SessionID = sess.TenantID, sess.ID
	return insertToken(ctx, c, rt)
}

// insertToken inserts an active refresh token.
func insertToken(ctx context.Context, q querier, rt store.RefreshToken) error {
	_, err := q.ExecContext(ctx, `INSERT INTO refresh_tokens
		(token_hash, tenant_id, session_id, generation, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)`,
		rt.Hash, rt.TenantID, rt.SessionID, rt.Generation, micros(rt.CreatedAt), rt.ExpiresAt.UnixMicro())
	return err
}

// GetSession implements store.Store.
func (s *Store) GetSession(ctx context.Context, tenantID, id string) (store.Session, error) {
	if err := s.usable(); err != nil {
		return store.Session{}, err
	}
	sess, err := getSession(ctx, s.reader, tenantID, id)
	return sess, wrap("get session", err)
}

func getSession(ctx context.Context, q querier, tenantID, id string) (store.Session, error) {
	return scanSession(q.QueryRowContext(ctx, `SELECT `+sessionCols+` FROM sessions
		WHERE tenant_id = ? AND id = ?`, tenantID, id))
}

// ListUserSessions implements store.Store.
func (s *Store) ListUserSessions(ctx context.Context, tenantID, userID string, now time.Time) ([]store.Session, error) {
	if err := s.usable(); err != nil {
		return nil, err
	}
	rows, err := s.reader.QueryContext(ctx, `SELECT `+sessionCols+` FROM sessions
		WHERE tenant_id = ? AND user_id = ? AND revoked_at IS NULL AND expires_at > ?
		ORDER BY created_at DESC, id DESC`, tenantID, userID, now.UnixMicro())
	return collect(rows, err, "list user sessions", scanSession)
}

// RevokeSession implements store.Store.
func (s *Store) RevokeSession(ctx context.Context, tenantID, sessionID string, now time.Time, reason string) (store.Session, []store.Session, error) {
	var out store.Session
	var children []store.Session
	err := s.write(ctx, func(c *sql.Conn) error {
		sess, revoked, err := revokeSession(ctx, c, tenantID, sessionID, now, reason)
		if err != nil {
			return err
		}
		if !revoked { // already revoked, or unknown
			if sess, err = getSession(ctx, c, tenantID, sessionID); err != nil {
				return err
			}
		}
		out = sess
		children, err = revokeChildren(ctx, c, tenantID, []string{sessionID}, now, reason)
		return err
	})
	if err != nil {
		return store.Session{}, nil, wrap("revoke session", err)
	}
	return out, children, nil
}

// revokeChildren revokes the live children of the sessions parents.
func revokeChildren(ctx context.Context, c *sql.Conn, tenantID string, parents []string, now time.Time, reason string) ([]store.Session, error) {
	var out []store.Session
	for _, parent := range parents {
		ids, err := sessionIDs(ctx, c, `SELECT id FROM sessions
			WHERE tenant_id = ? AND parent_id = ? AND parent_id <> '' AND revoked_at IS NULL
			ORDER BY created_at DESC, id DESC`, tenantID, parent)
		if err != nil {
			return nil, err
		}
		revoked, err := revokeSessions(ctx, c, tenantID, ids, now, reason)
		if err != nil {
			return nil, err
		}
		out = append(out, revoked...)
	}
	return out, nil
}

// revokeSessions revokes the sessions ids that are not revoked yet and
// returns those it revoked.
func revokeSessions(ctx context.Context, c *sql.Conn, tenantID string, ids []string, now time.Time, reason string) ([]store.Session, error) {
	var out []store.Session
	for _, id := range ids {
		sess, revoked, err := revokeSession(ctx, c, tenantID, id, now, reason)
		if err != nil {
			return nil, err
		}
		if revoked {
			out = append(out, sess)
		}
	}
	return out, nil
}

// RevokeUserSessions implements store.Store. The revoked sessions come
// newest first.
func (s *Store) RevokeUserSessions(ctx context.Context, tenantID, userID, exceptSessionID string, now time.Time, reason string) ([]store.Session, error) {
	var out []store.Session
	err := s.write(ctx, func(c *sql.Conn) error {
		var err error
		out, err = revokeUserSessions(ctx, c, tenantID, userID, exceptSessionID, now, reason)
		return err
	})
	if err != nil {
		return nil, wrap("revoke user sessions", err)
	}
	return out, nil
}

// revokeSession revokes a session that is not revoked yet, together with
// its refresh tokens, and appends its revocation record. revoked is false,
// with nothing written, when the session is unknown or already revoked.
func revokeSession(ctx context.Context, c *sql.Conn, tenantID, sessionID string, now time.Time, reason string) (sess store.Session, revoked bool, err error) {
	sess, err = scanSession(c.QueryRowContext(ctx, `UPDATE sessions SET revoked_at = ?, reason = ?
		WHERE tenant_id = ? AND id = ? AND revoked_at IS NULL
		RETURNING `+sessionCols, now.UnixMicro(), reason, tenantID, sessionID))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Session{}, false, nil
	}
	if err != nil {
		return store.Session{}, false, err
	}
	if _, err := c.ExecContext(ctx, `UPDATE refresh_tokens SET revoked_at = ?
		WHERE tenant_id = ? AND session_id = ? AND revoked_at IS NULL`,
		now.UnixMicro(), tenantID, sessionID); err != nil {
		return store.Session{}, false, err
	}
	if _, err := c.ExecContext(ctx, `INSERT INTO revocations (tenant_id, session_id, exp, revoked_at)
		VALUES (?, ?, ?, ?)`, tenantID, sessionID, sess.ExpiresAt.UnixMicro(), now.UnixMicro()); err != nil {
		return store.Session{}, false, err
	}
	return sess, true, nil
}

// revokeUserSessions revokes every live session of the user but except.
// Children are sessions of the same user, so they are among them.
func revokeUserSessions(ctx context.Context, c *sql.Conn, tenantID, userID, except string, now time.Time, reason string) ([]store.Session, error) {
	// Read the ids first: the connection cannot run the updates while the
	// rows are open.
	ids, err := sessionIDs(ctx, c, `SELECT id FROM sessions
		WHERE tenant_id = ? AND user_id = ? AND id <> ? AND revoked_at IS NULL AND expires_at > ?
		ORDER BY created_at DESC, id DESC`, tenantID, userID, except, now.UnixMicro())
	if err != nil {
		return nil, err
	}
	return revokeSessions(ctx, c, tenantID, ids, now, reason)
}

// sessionIDs runs a query that selects session ids and collects them.
func sessionIDs(ctx context.Context, c *sql.Conn, query string, args ...any) ([]string, error) {
	rows, err := c.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}
