package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gatehouse-auth/gatehouse/internal/store"
)

// sessionColumns are the columns of store.Session in scanSession's order.
var sessionColumns = []string{"tenant_id", "id", "user_id", "client_id", "kind", "amr", "actor",
	"ip", "user_agent", "payload", "created_at", "last_used_at", "expires_at", "auth_time",
	"revoked_at", "reason", "scope", "first_party", "client_bound", "parent_id", "browser_session_id"}

// sessionScan holds the raw parts of a session row until finish decodes them.
type sessionScan struct {
	s   *store.Session
	amr []byte
}

// sessionDest returns scan destinations for sessionColumns into s; call
// finish on the first result after the scan.
func sessionDest(s *store.Session) (*sessionScan, []any) {
	sc := &sessionScan{s: s}
	return sc, []any{&s.TenantID, &s.ID, &s.UserID, &s.ClientID, &s.Kind, &sc.amr, &s.Actor,
		&s.IP, &s.UserAgent, &s.Payload, tsOut(&s.CreatedAt), tsOut(&s.LastUsedAt),
		tsOut(&s.ExpiresAt), tsOut(&s.AuthTime), tsOut(&s.RevokedAt), &s.Reason, &s.Scope,
		&s.FirstParty, &s.ClientBound, &s.ParentID, &s.BrowserSessionID}
}

func (sc *sessionScan) finish() error {
	if err := jsonOut(sc.amr, &sc.s.AMR); err != nil {
		return fmt.Errorf("amr: %w", err)
	}
	return nil
}

func scanSession(row scanner) (store.Session, error) {
	var s store.Session
	sc, dest := sessionDest(&s)
	if err := row.Scan(dest...); err != nil {
		return store.Session{}, err
	}
	if err := sc.finish(); err != nil {
		return store.Session{}, err
	}
	return s, nil
}

func collectSessions(rows pgx.Rows) ([]store.Session, error) {
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Session, error) { return scanSession(r) })
}

// CreateSession inserts s and its first refresh token rt (which takes the
// session's tenant and id) in one transaction.
func (s *Store) CreateSession(ctx context.Context, sess store.Session, rt store.RefreshToken) error {
	amr, err := jsonIn(sess.AMR)
	if err != nil {
		return fmt.Errorf("create session: amr: %w", err)
	}
	err = s.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error { return insertSession(ctx, tx, sess, amr, rt) })
	if err != nil {
		return fmt.Errorf("create session: %w", mapErr(err))
	}
	return nil
}

// insertSession inserts a session (amr already encoded) and its first
// refresh token in tx.
func insertSession(ctx context.Context, tx pgx.Tx, sess store.Session, amr string, rt store.RefreshToken) error {
	_, err := tx.Exec(ctx, `INSERT INTO sessions (`+cols("", sessionColumns)+`)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)`,
		sess.TenantID, sess.ID, sess.UserID, sess.ClientID, sess.Kind, amr, sess.Actor,
		sess.IP, sess.UserAgent, sess.Payload, ts(sess.CreatedAt), ts(sess.LastUsedAt),
		ts(sess.ExpiresAt), ts(sess.AuthTime), ts(sess.RevokedAt), sess.Reason, sess.Scope,
		sess.FirstParty, sess.ClientBound, sess.ParentID, sess.BrowserSessionID)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `INSERT INTO refresh_tokens
			(token_hash, tenant_id, session_id, generation, created_at, expires_at)
			VALUES ($1, $2, $3, $4, $5, $6)`,
		rt.Hash, sess.TenantID, sess.ID, rt.Generation, ts(rt.CreatedAt), ts(rt.ExpiresAt))
	return err
}

// GetSession returns the session id of the tenant; store.ErrNotFound otherwise.
func (s *Store) GetSession(ctx context.Context, tenantID, id string) (store.Session, error) {
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return store.Session{}, fmt.Errorf("get session: %w", err)
	}
	defer cancel()
	sess, err := getSession(ctx, s.pool, tenantID, id)
	if err != nil {
		return store.Session{}, fmt.Errorf("get session: %w", mapErr(err))
	}
	return sess, nil
}

func getSession(ctx context.Context, q querier, tenantID, id string) (store.Session, error) {
	return scanSession(q.QueryRow(ctx, `SELECT `+cols("", sessionColumns)+` FROM sessions
		WHERE tenant_id = $1 AND id = $2`, tenantID, id))
}

// ListUserSessions returns the user's sessions that are neither revoked nor
// expired at now, newest first.
func (s *Store) ListUserSessions(ctx context.Context, tenantID, userID string, now time.Time) ([]store.Session, error) {
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("list user sessions: %w", err)
	}
	defer cancel()
	rows, err := s.pool.Query(ctx, `SELECT `+cols("", sessionColumns)+` FROM sessions
		WHERE tenant_id = $1 AND user_id = $2 AND revoked_at IS NULL AND expires_at > $3
		ORDER BY created_at DESC, id DESC`, tenantID, userID, ts(now))
	if err != nil {
		return nil, fmt.Errorf("list user sessions: %w", mapErr(err))
	}
	out, err := collectSessions(rows)
	if err != nil {
		return nil, fmt.Errorf("list user sessions: %w", mapErr(err))
	}
	return out, nil
}

// RevokeSession revokes the session and its refresh tokens and appends a
// revocation record, and the same for its live children. An already
// revoked session is returned as it is and nothing is appended for it;
// store.ErrNotFound for an unknown session.
func (s *Store) RevokeSession(ctx context.Context, tenantID, sessionID string, now time.Time, reason string) (store.Session, []store.Session, error) {
	var out store.Session
	var children []store.Session
	err := s.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		revoked, err := revokeSessions(ctx, tx, tenantID, bySession(sessionID), now, reason)
		if err != nil {
			return err
		}
		var found bool
		if out, children, found = splitFamily(revoked, sessionID); found {
			return nil
		}
		out, err = getSession(ctx, tx, tenantID, sessionID)
		return err
	})
	if err != nil {
		return store.Session{}, nil, fmt.Errorf("revoke session: %w", mapErr(err))
	}
	return out, children, nil
}

// splitFamily separates the session id from its children among revoked.
func splitFamily(revoked []store.Session, id string) (sess store.Session, children []store.Session, found bool) {
	for _, r := range revoked {
		if r.ID == id {
			sess, found = r, true
		} else {
			children = append(children, r)
		}
	}
	return sess, children, found
}

// RevokeUserSessions revokes every live session of the user except
// exceptSessionID and returns the sessions it revoked.
func (s *Store) RevokeUserSessions(ctx context.Context, tenantID, userID, exceptSessionID string, now time.Time, reason string) ([]store.Session, error) {
	var out []store.Session
	err := s.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		var err error
		out, err = revokeSessions(ctx, tx, tenantID, byUser(userID, exceptSessionID), now, reason)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("revoke user sessions: %w", mapErr(err))
	}
	return out, nil
}
