package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/store"
)

const browserCols = `tenant_id, id, token_hash, user_id, amr_json, ip, user_agent, auth_time, created_at,
	last_seen_at, idle_expires_at, expires_at, revoked_at`

func scanBrowserSession(r scanner) (store.BrowserSession, error) {
	var b store.BrowserSession
	err := r.Scan(&b.TenantID, &b.ID, &b.Hash, &b.UserID, jsonCol{&b.AMR}, &b.IP, &b.UserAgent,
		timeCol{&b.AuthTime}, timeCol{&b.CreatedAt}, timeCol{&b.LastSeenAt}, timeCol{&b.IdleExpiresAt},
		timeCol{&b.ExpiresAt}, timeCol{&b.RevokedAt})
	return b, err
}

// CreateBrowserSession implements store.BrowserStore.
func (s *Store) CreateBrowserSession(ctx context.Context, b store.BrowserSession, replaces string) error {
	amr, err := jsonText(nonNilList(b.AMR))
	if err != nil {
		return fmt.Errorf("create browser session: %w", err)
	}
	err = s.write(ctx, func(c *sql.Conn) error {
		_, err := c.ExecContext(ctx, `INSERT INTO browser_sessions (`+browserCols+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			b.TenantID, b.ID, b.Hash, b.UserID, amr, b.IP, b.UserAgent, micros(b.AuthTime), micros(b.CreatedAt),
			micros(b.LastSeenAt), b.IdleExpiresAt.UnixMicro(), b.ExpiresAt.UnixMicro(), micros(b.RevokedAt))
		if err != nil || replaces == "" {
			return err
		}
		if _, err := c.ExecContext(ctx, `UPDATE sessions SET browser_session_id = ?
			WHERE tenant_id = ? AND browser_session_id = ?`, b.ID, b.TenantID, replaces); err != nil {
			return err
		}
		_, err = c.ExecContext(ctx, `UPDATE browser_sessions SET revoked_at = ?
			WHERE tenant_id = ? AND id = ? AND revoked_at IS NULL`, micros(b.CreatedAt), b.TenantID, replaces)
		return err
	})
	return wrap("create browser session", err)
}

// GetBrowserSessionByID implements store.BrowserStore.
func (s *Store) GetBrowserSessionByID(ctx context.Context, tenantID, id string) (store.BrowserSession, error) {
	if err := s.usable(); err != nil {
		return store.BrowserSession{}, err
	}
	b, err := scanBrowserSession(s.reader.QueryRowContext(ctx, `SELECT `+browserCols+` FROM browser_sessions
		WHERE tenant_id = ? AND id = ?`, tenantID, id))
	return b, wrap("get browser session", err)
}

// GetBrowserSession implements store.BrowserStore.
func (s *Store) GetBrowserSession(ctx context.Context, hash string) (store.BrowserSession, error) {
	if err := s.usable(); err != nil {
		return store.BrowserSession{}, err
	}
	b, err := scanBrowserSession(s.reader.QueryRowContext(ctx, `SELECT `+browserCols+` FROM browser_sessions
		WHERE token_hash = ?`, hash))
	return b, wrap("get browser session", err)
}

// TouchBrowserSession implements store.BrowserStore.
func (s *Store) TouchBrowserSession(ctx context.Context, tenantID, id string, now, idleExpiresAt time.Time) error {
	err := s.write(ctx, func(c *sql.Conn) error {
		return execOne(ctx, c, store.ErrNotFound, `UPDATE browser_sessions
			SET last_seen_at = ?, idle_expires_at = CASE WHEN revoked_at IS NULL THEN ? ELSE idle_expires_at END
			WHERE tenant_id = ? AND id = ?`, now.UnixMicro(), idleExpiresAt.UnixMicro(), tenantID, id)
	})
	return wrap("touch browser session", err)
}

// EndBrowserSession implements store.BrowserStore.
func (s *Store) EndBrowserSession(ctx context.Context, tenantID, id string, now time.Time, reason string) ([]store.Session, error) {
	var out []store.Session
	err := s.write(ctx, func(c *sql.Conn) error {
		var exists int
		if err := c.QueryRowContext(ctx, `SELECT 1 FROM browser_sessions WHERE tenant_id = ? AND id = ?`,
			tenantID, id).Scan(&exists); err != nil {
			return err
		}
		if _, err := c.ExecContext(ctx, `UPDATE browser_sessions SET revoked_at = ?
			WHERE tenant_id = ? AND id = ? AND revoked_at IS NULL`, now.UnixMicro(), tenantID, id); err != nil {
			return err
		}
		ids, err := sessionIDs(ctx, c, `SELECT id FROM sessions
			WHERE tenant_id = ? AND browser_session_id = ? AND revoked_at IS NULL
			ORDER BY created_at DESC, id DESC`, tenantID, id)
		if err != nil {
			return err
		}
		if out, err = revokeSessions(ctx, c, tenantID, ids, now, reason); err != nil {
			return err
		}
		// App sessions opened from those sessions end with them.
		children, err := revokeChildren(ctx, c, tenantID, ids, now, reason)
		out = append(out, children...)
		return err
	})
	if err != nil {
		return nil, wrap("end browser session", err)
	}
	return out, nil
}

const codeCols = `code_hash, tenant_id, client_id, user_id, browser_session_id, redirect_uri, scope, nonce,
	code_challenge, amr_json, auth_time, created_at, expires_at, used_at, session_id`

// CreateAuthCode implements store.BrowserStore.
func (s *Store) CreateAuthCode(ctx context.Context, a store.AuthCode, audit store.AuditEvent) error {
	amr, err := jsonText(nonNilList(a.AMR))
	if err != nil {
		return fmt.Errorf("create auth code: %w", err)
	}
	err = s.write(ctx, func(c *sql.Conn) error {
		_, err := c.ExecContext(ctx, `INSERT INTO auth_codes (`+codeCols+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			a.Hash, a.TenantID, a.ClientID, a.UserID, a.BrowserSessionID, a.RedirectURI, a.Scope, a.Nonce,
			a.CodeChallenge, amr, micros(a.AuthTime), micros(a.CreatedAt), a.ExpiresAt.UnixMicro(),
			micros(a.UsedAt), a.SessionID)
		if err != nil {
			return err
		}
		return insertAudit(ctx, c, audit)
	})
	return wrap("create auth code", err)
}

// GetAuthCode implements store.BrowserStore.
func (s *Store) GetAuthCode(ctx context.Context, hash string) (store.AuthCode, error) {
	if err := s.usable(); err != nil {
		return store.AuthCode{}, err
	}
	var a store.AuthCode
	err := s.reader.QueryRowContext(ctx, `SELECT `+codeCols+` FROM auth_codes WHERE code_hash = ?`, hash).Scan(
		&a.Hash, &a.TenantID, &a.ClientID, &a.UserID, &a.BrowserSessionID, &a.RedirectURI, &a.Scope, &a.Nonce,
		&a.CodeChallenge, jsonCol{&a.AMR}, timeCol{&a.AuthTime}, timeCol{&a.CreatedAt}, timeCol{&a.ExpiresAt},
		timeCol{&a.UsedAt}, &a.SessionID)
	return a, wrap("get auth code", err)
}

// RedeemAuthCode implements store.BrowserStore.
func (s *Store) RedeemAuthCode(ctx context.Context, hash string, now time.Time, sess store.Session, rt store.RefreshToken, audit store.AuditEvent) error {
	amr, err := jsonText(sess.AMR)
	if err != nil {
		return fmt.Errorf("redeem auth code: amr: %w", err)
	}
	err = s.write(ctx, func(c *sql.Conn) error {
		err := execOne(ctx, c, store.ErrConflict, `UPDATE auth_codes SET used_at = ?, session_id = ?
			WHERE code_hash = ? AND used_at IS NULL AND expires_at > ?`, now.UnixMicro(), sess.ID, hash, now.UnixMicro())
		if errors.Is(err, store.ErrConflict) {
			var one int
			if e := c.QueryRowContext(ctx, `SELECT 1 FROM auth_codes WHERE code_hash = ?`, hash).Scan(&one); e != nil {
				return e
			}
		}
		if err != nil {
			return err
		}
		if err := insertSession(ctx, c, sess, amr, rt); err != nil {
			return err
		}
		audit.SessionID = sess.ID
		return insertAudit(ctx, c, audit)
	})
	return wrap("redeem auth code", err)
}

// SaveConsent implements store.BrowserStore.
func (s *Store) SaveConsent(ctx context.Context, k store.Consent) error {
	scopes, err := jsonText(nonNilList(k.Scopes))
	if err != nil {
		return fmt.Errorf("save consent: %w", err)
	}
	err = s.write(ctx, func(c *sql.Conn) error {
		_, err := c.ExecContext(ctx, `INSERT INTO consents (tenant_id, user_id, client_id, scopes_json, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (tenant_id, user_id, client_id) DO UPDATE SET scopes_json = excluded.scopes_json,
				updated_at = excluded.updated_at`,
			k.TenantID, k.UserID, k.ClientID, scopes, micros(k.CreatedAt), micros(k.UpdatedAt))
		return err
	})
	return wrap("save consent", err)
}

func scanConsent(r scanner) (store.Consent, error) {
	var k store.Consent
	err := r.Scan(&k.TenantID, &k.UserID, &k.ClientID, jsonCol{&k.Scopes}, timeCol{&k.CreatedAt}, timeCol{&k.UpdatedAt})
	return k, err
}

// GetConsent implements store.BrowserStore.
func (s *Store) GetConsent(ctx context.Context, tenantID, userID, clientID string) (store.Consent, error) {
	if err := s.usable(); err != nil {
		return store.Consent{}, err
	}
	k, err := scanConsent(s.reader.QueryRowContext(ctx, `SELECT tenant_id, user_id, client_id, scopes_json, created_at, updated_at
		FROM consents WHERE tenant_id = ? AND user_id = ? AND client_id = ?`, tenantID, userID, clientID))
	return k, wrap("get consent", err)
}

// ListConsents implements store.BrowserStore.
func (s *Store) ListConsents(ctx context.Context, tenantID, userID string) ([]store.Consent, error) {
	if err := s.usable(); err != nil {
		return nil, err
	}
	rows, err := s.reader.QueryContext(ctx, `SELECT tenant_id, user_id, client_id, scopes_json, created_at, updated_at
		FROM consents WHERE tenant_id = ? AND user_id = ? ORDER BY client_id`, tenantID, userID)
	return collect(rows, err, "list consents", scanConsent)
}

// DeleteConsent implements store.BrowserStore.
func (s *Store) DeleteConsent(ctx context.Context, tenantID, userID, clientID string) error {
	err := s.write(ctx, func(c *sql.Conn) error {
		return execOne(ctx, c, store.ErrNotFound, `DELETE FROM consents
			WHERE tenant_id = ? AND user_id = ? AND client_id = ?`, tenantID, userID, clientID)
	})
	return wrap("delete consent", err)
}

const authRequestCols = `request_hash, tenant_id, client_id, kind, data, created_at, expires_at, used_at`

func scanAuthRequest(r scanner) (store.AuthRequest, error) {
	var a store.AuthRequest
	err := r.Scan(&a.Hash, &a.TenantID, &a.ClientID, &a.Kind, &a.Data, timeCol{&a.CreatedAt},
		timeCol{&a.ExpiresAt}, timeCol{&a.UsedAt})
	return a, err
}

// CreateAuthRequest implements store.BrowserStore.
func (s *Store) CreateAuthRequest(ctx context.Context, a store.AuthRequest) error {
	err := s.write(ctx, func(c *sql.Conn) error {
		_, err := c.ExecContext(ctx, `INSERT INTO auth_requests (`+authRequestCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			a.Hash, a.TenantID, a.ClientID, a.Kind, a.Data, micros(a.CreatedAt), a.ExpiresAt.UnixMicro(), micros(a.UsedAt))
		return err
	})
	return wrap("create auth request", err)
}

// GetAuthRequest implements store.BrowserStore.
func (s *Store) GetAuthRequest(ctx context.Context, hash, kind string, now time.Time) (store.AuthRequest, error) {
	if err := s.usable(); err != nil {
		return store.AuthRequest{}, err
	}
	a, err := scanAuthRequest(s.reader.QueryRowContext(ctx, `SELECT `+authRequestCols+` FROM auth_requests
		WHERE request_hash = ? AND kind = ? AND used_at IS NULL AND expires_at > ?`, hash, kind, now.UnixMicro()))
	return a, wrap("get auth request", err)
}

// UpdateAuthRequest implements store.BrowserStore.
func (s *Store) UpdateAuthRequest(ctx context.Context, hash string, data []byte, now time.Time) error {
	err := s.write(ctx, func(c *sql.Conn) error {
		return execOne(ctx, c, store.ErrNotFound, `UPDATE auth_requests SET data = ?
			WHERE request_hash = ? AND used_at IS NULL AND expires_at > ?`, data, hash, now.UnixMicro())
	})
	return wrap("update auth request", err)
}

// UseAuthRequest implements store.BrowserStore.
func (s *Store) UseAuthRequest(ctx context.Context, hash, kind string, now time.Time) (store.AuthRequest, error) {
	var out store.AuthRequest
	err := s.write(ctx, func(c *sql.Conn) error {
		var err error
		out, err = scanAuthRequest(c.QueryRowContext(ctx, `UPDATE auth_requests SET used_at = ?
			WHERE request_hash = ? AND kind = ? AND used_at IS NULL AND expires_at > ?
			RETURNING `+authRequestCols, now.UnixMicro(), hash, kind, now.UnixMicro()))
		return err
	})
	return out, wrap("use auth request", err)
}
