package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gatehouse-auth/gatehouse/internal/store"
)

const browserCols = `tenant_id, id, token_hash, user_id, amr, ip, user_agent, auth_time, created_at,
	last_seen_at, idle_expires_at, expires_at, revoked_at`

// exec runs one statement under the store's deadline and answers none
// when it changed no row.
func (s *Store) exec(ctx context.Context, what string, none error, query string, args ...any) error {
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	defer cancel()
	tag, err := s.pool.Exec(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("%s: %w", what, mapErr(err))
	}
	if none != nil && tag.RowsAffected() == 0 {
		return fmt.Errorf("%s: %w", what, none)
	}
	return nil
}

// row runs one query under the store's deadline and scans its row.
func row[T any](s *Store, ctx context.Context, what string, scan func(scanner) (T, error), query string, args ...any) (T, error) {
	var zero T
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return zero, fmt.Errorf("%s: %w", what, err)
	}
	defer cancel()
	v, err := scan(s.pool.QueryRow(ctx, query, args...))
	if err != nil {
		return zero, fmt.Errorf("%s: %w", what, mapErr(err))
	}
	return v, nil
}

func scanBrowserSession(r scanner) (store.BrowserSession, error) {
	var b store.BrowserSession
	var amr []byte
	err := r.Scan(&b.TenantID, &b.ID, &b.Hash, &b.UserID, &amr, &b.IP, &b.UserAgent,
		tsOut(&b.AuthTime), tsOut(&b.CreatedAt), tsOut(&b.LastSeenAt), tsOut(&b.IdleExpiresAt),
		tsOut(&b.ExpiresAt), tsOut(&b.RevokedAt))
	if err != nil {
		return store.BrowserSession{}, err
	}
	return b, jsonOut(amr, &b.AMR)
}

// CreateBrowserSession implements store.BrowserStore.
func (s *Store) CreateBrowserSession(ctx context.Context, b store.BrowserSession, replaces string) error {
	amr, err := jsonIn(nonNilList(b.AMR))
	if err != nil {
		return fmt.Errorf("create browser session: %w", err)
	}
	err = s.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO browser_sessions (`+browserCols+`)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
			b.TenantID, b.ID, b.Hash, b.UserID, amr, b.IP, b.UserAgent, ts(b.AuthTime), ts(b.CreatedAt),
			ts(b.LastSeenAt), ts(b.IdleExpiresAt), ts(b.ExpiresAt), ts(b.RevokedAt))
		if err != nil || replaces == "" {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE sessions SET browser_session_id = $3
			WHERE tenant_id = $1 AND browser_session_id = $2`, b.TenantID, replaces, b.ID); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE browser_sessions SET revoked_at = $3
			WHERE tenant_id = $1 AND id = $2 AND revoked_at IS NULL`, b.TenantID, replaces, ts(b.CreatedAt))
		return err
	})
	if err != nil {
		return fmt.Errorf("create browser session: %w", mapErr(err))
	}
	return nil
}

// GetBrowserSessionByID implements store.BrowserStore.
func (s *Store) GetBrowserSessionByID(ctx context.Context, tenantID, id string) (store.BrowserSession, error) {
	return row(s, ctx, "get browser session", scanBrowserSession,
		`SELECT `+browserCols+` FROM browser_sessions WHERE tenant_id = $1 AND id = $2`, tenantID, id)
}

// GetBrowserSession implements store.BrowserStore.
func (s *Store) GetBrowserSession(ctx context.Context, hash string) (store.BrowserSession, error) {
	return row(s, ctx, "get browser session", scanBrowserSession,
		`SELECT `+browserCols+` FROM browser_sessions WHERE token_hash = $1`, hash)
}

// TouchBrowserSession implements store.BrowserStore.
func (s *Store) TouchBrowserSession(ctx context.Context, tenantID, id string, now, idleExpiresAt time.Time) error {
	return s.exec(ctx, "touch browser session", store.ErrNotFound, `UPDATE browser_sessions
		SET last_seen_at = $3, idle_expires_at = CASE WHEN revoked_at IS NULL THEN $4 ELSE idle_expires_at END
		WHERE tenant_id = $1 AND id = $2`, tenantID, id, ts(now), ts(idleExpiresAt))
}

// byBrowserSession selects the sessions a browser session started, and
// the app sessions opened from them.
func byBrowserSession(id string) sessionFilter {
	return sessionFilter{cond: `(s.browser_session_id = $3 OR (s.parent_id <> '' AND s.parent_id IN
		(SELECT p.id FROM sessions p WHERE p.tenant_id = $1 AND p.browser_session_id = $3)))`, args: []any{id}}
}

// EndBrowserSession implements store.BrowserStore.
func (s *Store) EndBrowserSession(ctx context.Context, tenantID, id string, now time.Time, reason string) ([]store.Session, error) {
	var out []store.Session
	err := s.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		var one int
		if err := tx.QueryRow(ctx, `SELECT 1 FROM browser_sessions WHERE tenant_id = $1 AND id = $2`,
			tenantID, id).Scan(&one); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE browser_sessions SET revoked_at = $3
			WHERE tenant_id = $1 AND id = $2 AND revoked_at IS NULL`, tenantID, id, ts(now)); err != nil {
			return err
		}
		var err error
		out, err = revokeSessions(ctx, tx, tenantID, byBrowserSession(id), now, reason)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("end browser session: %w", mapErr(err))
	}
	return out, nil
}

const codeCols = `code_hash, tenant_id, client_id, user_id, browser_session_id, redirect_uri, scope, nonce,
	code_challenge, amr, auth_time, created_at, expires_at, used_at, session_id`

// CreateAuthCode implements store.BrowserStore.
func (s *Store) CreateAuthCode(ctx context.Context, a store.AuthCode, audit store.AuditEvent) error {
	amr, err := jsonIn(nonNilList(a.AMR))
	if err != nil {
		return fmt.Errorf("create auth code: %w", err)
	}
	err = s.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO auth_codes (`+codeCols+`)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
			a.Hash, a.TenantID, a.ClientID, a.UserID, a.BrowserSessionID, a.RedirectURI, a.Scope, a.Nonce,
			a.CodeChallenge, amr, ts(a.AuthTime), ts(a.CreatedAt), ts(a.ExpiresAt), ts(a.UsedAt), a.SessionID); err != nil {
			return err
		}
		return insertAudit(ctx, tx, audit)
	})
	if err != nil {
		return fmt.Errorf("create auth code: %w", mapErr(err))
	}
	return nil
}

// GetAuthCode implements store.BrowserStore.
func (s *Store) GetAuthCode(ctx context.Context, hash string) (store.AuthCode, error) {
	return row(s, ctx, "get auth code", func(r scanner) (store.AuthCode, error) {
		var a store.AuthCode
		var amr []byte
		if err := r.Scan(&a.Hash, &a.TenantID, &a.ClientID, &a.UserID, &a.BrowserSessionID, &a.RedirectURI,
			&a.Scope, &a.Nonce, &a.CodeChallenge, &amr, tsOut(&a.AuthTime), tsOut(&a.CreatedAt),
			tsOut(&a.ExpiresAt), tsOut(&a.UsedAt), &a.SessionID); err != nil {
			return store.AuthCode{}, err
		}
		return a, jsonOut(amr, &a.AMR)
	}, `SELECT `+codeCols+` FROM auth_codes WHERE code_hash = $1`, hash)
}

// RedeemAuthCode implements store.BrowserStore. The conditional UPDATE
// lets exactly one of concurrent callers through.
func (s *Store) RedeemAuthCode(ctx context.Context, hash string, now time.Time, sess store.Session, rt store.RefreshToken, audit store.AuditEvent) error {
	amr, err := jsonIn(sess.AMR)
	if err != nil {
		return fmt.Errorf("redeem auth code: amr: %w", err)
	}
	err = s.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE auth_codes SET used_at = $3, session_id = $2
			WHERE code_hash = $1 AND used_at IS NULL AND expires_at > $3`, hash, sess.ID, ts(now))
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			var one int
			if err := tx.QueryRow(ctx, `SELECT 1 FROM auth_codes WHERE code_hash = $1`, hash).Scan(&one); err != nil {
				return err
			}
			return store.ErrConflict
		}
		if err := insertSession(ctx, tx, sess, amr, rt); err != nil {
			return err
		}
		audit.SessionID = sess.ID
		return insertAudit(ctx, tx, audit)
	})
	if err != nil {
		return fmt.Errorf("redeem auth code: %w", mapErr(err))
	}
	return nil
}

// SaveConsent implements store.BrowserStore.
func (s *Store) SaveConsent(ctx context.Context, k store.Consent) error {
	scopes, err := jsonIn(nonNilList(k.Scopes))
	if err != nil {
		return fmt.Errorf("save consent: %w", err)
	}
	return s.exec(ctx, "save consent", nil, `INSERT INTO consents (tenant_id, user_id, client_id, scopes, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (tenant_id, user_id, client_id) DO UPDATE SET scopes = excluded.scopes, updated_at = excluded.updated_at`,
		k.TenantID, k.UserID, k.ClientID, scopes, ts(k.CreatedAt), ts(k.UpdatedAt))
}

func scanConsent(r scanner) (store.Consent, error) {
	var k store.Consent
	var scopes []byte
	if err := r.Scan(&k.TenantID, &k.UserID, &k.ClientID, &scopes, tsOut(&k.CreatedAt), tsOut(&k.UpdatedAt)); err != nil {
		return store.Consent{}, err
	}
	return k, jsonOut(scopes, &k.Scopes)
}

// GetConsent implements store.BrowserStore.
func (s *Store) GetConsent(ctx context.Context, tenantID, userID, clientID string) (store.Consent, error) {
	return row(s, ctx, "get consent", scanConsent, `SELECT tenant_id, user_id, client_id, scopes, created_at, updated_at
		FROM consents WHERE tenant_id = $1 AND user_id = $2 AND client_id = $3`, tenantID, userID, clientID)
}

// ListConsents implements store.BrowserStore.
func (s *Store) ListConsents(ctx context.Context, tenantID, userID string) ([]store.Consent, error) {
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("list consents: %w", err)
	}
	defer cancel()
	rows, err := s.pool.Query(ctx, `SELECT tenant_id, user_id, client_id, scopes, created_at, updated_at
		FROM consents WHERE tenant_id = $1 AND user_id = $2 ORDER BY client_id`, tenantID, userID)
	if err != nil {
		return nil, fmt.Errorf("list consents: %w", mapErr(err))
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Consent, error) { return scanConsent(r) })
	if err != nil {
		return nil, fmt.Errorf("list consents: %w", mapErr(err))
	}
	return out, nil
}

// DeleteConsent implements store.BrowserStore.
func (s *Store) DeleteConsent(ctx context.Context, tenantID, userID, clientID string) error {
	return s.exec(ctx, "delete consent", store.ErrNotFound, `DELETE FROM consents
		WHERE tenant_id = $1 AND user_id = $2 AND client_id = $3`, tenantID, userID, clientID)
}

const authRequestCols = `request_hash, tenant_id, client_id, kind, data, created_at, expires_at, used_at`

func scanAuthRequest(r scanner) (store.AuthRequest, error) {
	var a store.AuthRequest
	err := r.Scan(&a.Hash, &a.TenantID, &a.ClientID, &a.Kind, &a.Data, tsOut(&a.CreatedAt),
		tsOut(&a.ExpiresAt), tsOut(&a.UsedAt))
	return a, err
}

// CreateAuthRequest implements store.BrowserStore.
func (s *Store) CreateAuthRequest(ctx context.Context, a store.AuthRequest) error {
	return s.exec(ctx, "create auth request", nil, `INSERT INTO auth_requests (`+authRequestCols+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		a.Hash, a.TenantID, a.ClientID, a.Kind, a.Data, ts(a.CreatedAt), ts(a.ExpiresAt), ts(a.UsedAt))
}

// GetAuthRequest implements store.BrowserStore.
func (s *Store) GetAuthRequest(ctx context.Context, hash, kind string, now time.Time) (store.AuthRequest, error) {
	return row(s, ctx, "get auth request", scanAuthRequest, `SELECT `+authRequestCols+` FROM auth_requests
		WHERE request_hash = $1 AND kind = $2 AND used_at IS NULL AND expires_at > $3`, hash, kind, ts(now))
}

// UpdateAuthRequest implements store.BrowserStore.
func (s *Store) UpdateAuthRequest(ctx context.Context, hash string, data []byte, now time.Time) error {
	return s.exec(ctx, "update auth request", store.ErrNotFound, `UPDATE auth_requests SET data = $2
		WHERE request_hash = $1 AND used_at IS NULL AND expires_at > $3`, hash, data, ts(now))
}

// UseAuthRequest implements store.BrowserStore.
func (s *Store) UseAuthRequest(ctx context.Context, hash, kind string, now time.Time) (store.AuthRequest, error) {
	return row(s, ctx, "use auth request", scanAuthRequest, `UPDATE auth_requests SET used_at = $3
		WHERE request_hash = $1 AND kind = $2 AND used_at IS NULL AND expires_at > $3
		RETURNING `+authRequestCols, hash, kind, ts(now))
}
