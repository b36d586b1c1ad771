package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/store"
)

// challengeCols lists the columns scanChallenge reads, in order.
const challengeCols = `tenant_id, token_hash, user_id, methods_json, data, created_at, expires_at, attempts, used_at`

func scanChallenge(r scanner) (store.MFAChallenge, error) {
	var c store.MFAChallenge
	err := r.Scan(&c.TenantID, &c.Hash, &c.UserID, jsonCol{&c.Methods}, &c.Data,
		timeCol{&c.CreatedAt}, timeCol{&c.ExpiresAt}, &c.Attempts, timeCol{&c.UsedAt})
	return c, err
}

// openChallenge is the condition of a challenge that may still be
// completed: ?1 tenant, ?2 hash, ?3 now, ?4 max attempts.
const openChallenge = `tenant_id = ?1 AND token_hash = ?2 AND used_at IS NULL AND expires_at > ?3 AND attempts < ?4`

// CreateChallenge implements store.MFAStore.
func (s *Store) CreateChallenge(ctx context.Context, ch store.MFAChallenge) error {
	methods, err := jsonText(ch.Methods)
	if err != nil {
		return fmt.Errorf("create challenge: %w", err)
	}
	err = s.write(ctx, func(c *sql.Conn) error {
		_, err := c.ExecContext(ctx, `INSERT INTO mfa_challenges (`+challengeCols+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, 0, NULL)`,
			ch.TenantID, ch.Hash, ch.UserID, methods, ch.Data, micros(ch.CreatedAt), ch.ExpiresAt.UnixMicro())
		return err
	})
	return wrap("create challenge", err)
}

// GetChallenge implements store.MFAStore.
func (s *Store) GetChallenge(ctx context.Context, tenantID, hash string) (store.MFAChallenge, error) {
	if err := s.usable(); err != nil {
		return store.MFAChallenge{}, err
	}
	c, err := scanChallenge(s.reader.QueryRowContext(ctx, `SELECT `+challengeCols+` FROM mfa_challenges
		WHERE tenant_id = ? AND token_hash = ?`, tenantID, hash))
	return c, wrap("get challenge", err)
}

// ReserveChallengeAttempt implements store.MFAStore.
func (s *Store) ReserveChallengeAttempt(ctx context.Context, tenantID, hash string, now time.Time, maxAttempts int) (store.MFAChallenge, error) {
	var out store.MFAChallenge
	err := s.write(ctx, func(c *sql.Conn) error {
		var err error
		out, err = scanChallenge(c.QueryRowContext(ctx, `UPDATE mfa_challenges SET attempts = attempts + 1
			WHERE `+openChallenge+` RETURNING `+challengeCols, tenantID, hash, now.UnixMicro(), maxAttempts))
		return err
	})
	if err != nil {
		return store.MFAChallenge{}, wrap("fail challenge", err)
	}
	return out, nil
}

// CompleteChallenge implements store.MFAStore. The conditional UPDATE runs
// under the database write lock (BEGIN IMMEDIATE), so of concurrent callers
// exactly one finds the challenge open.
func (s *Store) CompleteChallenge(ctx context.Context, req store.CompleteChallengeRequest) (store.MFAChallenge, error) {
	var out store.MFAChallenge
	err := s.write(ctx, func(c *sql.Conn) error {
		ch, err := scanChallenge(c.QueryRowContext(ctx, `UPDATE mfa_challenges SET used_at = ?5
			WHERE `+openChallenge+` RETURNING `+challengeCols,
			req.TenantID, req.Hash, req.Now.UnixMicro(), req.MaxAttempts, req.Now.UnixMicro()))
		if err != nil {
			return mapErr(err)
		}
		if req.TOTPStep != 0 {
			if err := insertTOTPStep(ctx, c, ch.TenantID, ch.UserID, req.TOTPFactorID, req.TOTPStep, req.Now); err != nil {
				return err
			}
		}
		if req.RecoveryHash != "" {
			res, err := c.ExecContext(ctx, `UPDATE mfa_recovery_codes SET used_at = ?
				WHERE tenant_id = ? AND user_id = ? AND code_hash = ? AND used_at IS NULL`,
				req.Now.UnixMicro(), ch.TenantID, ch.UserID, req.RecoveryHash)
			if err != nil {
				return err
			}
			if n, err := res.RowsAffected(); err != nil {
				return err
			} else if n == 0 {
				return fmt.Errorf("recovery code unknown or used: %w", store.ErrConflict)
			}
		}
		out = ch
		return nil
	})
	if err != nil {
		return store.MFAChallenge{}, wrap("complete challenge", err)
	}
	return out, nil
}
