package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/store"
)

// factorCols lists the columns scanFactor reads, in order.
const factorCols = `tenant_id, user_id, id, kind, secret_enc, created_at, confirmed_at`

func scanFactor(r scanner) (store.MFAFactor, error) {
	var f store.MFAFactor
	err := r.Scan(&f.TenantID, &f.UserID, &f.ID, &f.Kind, &f.SecretEnc, timeCol{&f.CreatedAt}, timeCol{&f.ConfirmedAt})
	return f, err
}

// PutPendingFactor implements store.MFAStore.
func (s *Store) PutPendingFactor(ctx context.Context, f store.MFAFactor) error {
	err := s.write(ctx, func(c *sql.Conn) error {
		if _, err := c.ExecContext(ctx, `DELETE FROM mfa_factors
			WHERE tenant_id = ? AND user_id = ? AND kind = ? AND confirmed_at IS NULL`,
			f.TenantID, f.UserID, f.Kind); err != nil {
			return err
		}
		_, err := c.ExecContext(ctx, `INSERT INTO mfa_factors (`+factorCols+`) VALUES (?, ?, ?, ?, ?, ?, NULL)`,
			f.TenantID, f.UserID, f.ID, f.Kind, f.SecretEnc, micros(f.CreatedAt))
		return err
	})
	return wrap("put pending factor", err)
}

// ListFactors implements store.MFAStore.
func (s *Store) ListFactors(ctx context.Context, tenantID, userID string) ([]store.MFAFactor, error) {
	if err := s.usable(); err != nil {
		return nil, err
	}
	rows, err := s.reader.QueryContext(ctx, `SELECT `+factorCols+` FROM mfa_factors
		WHERE tenant_id = ? AND user_id = ? ORDER BY created_at, id`, tenantID, userID)
	if err != nil {
		return nil, wrap("list factors", err)
	}
	defer rows.Close()
	var out []store.MFAFactor
	for rows.Next() {
		f, err := scanFactor(rows)
		if err != nil {
			return nil, wrap("list factors", err)
		}
		out = append(out, f)
	}
	return out, wrap("list factors", rows.Err())
}

// ConfirmFactor implements store.MFAStore.
func (s *Store) ConfirmFactor(ctx context.Context, tenantID, userID, factorID string, now time.Time, recoveryHashes []string) (store.MFAFactor, error) {
	var out store.MFAFactor
	err := s.write(ctx, func(c *sql.Conn) error {
		f, err := scanFactor(c.QueryRowContext(ctx, `UPDATE mfa_factors SET confirmed_at = ?
			WHERE tenant_id = ? AND user_id = ? AND id = ? AND confirmed_at IS NULL
			RETURNING `+factorCols, now.UnixMicro(), tenantID, userID, factorID))
		if err != nil {
			return err // no row: not pending
		}
		if _, err := c.ExecContext(ctx, `DELETE FROM mfa_factors
			WHERE tenant_id = ? AND user_id = ? AND kind = ? AND id <> ?`, tenantID, userID, f.Kind, f.ID); err != nil {
			return err
		}
		if err := replaceRecoveryCodes(ctx, c, tenantID, userID, recoveryHashes); err != nil {
			return err
		}
		out = f
		return nil
	})
	if err != nil {
		return store.MFAFactor{}, wrap("confirm factor", err)
	}
	return out, nil
}

func replaceRecoveryCodes(ctx context.Context, c *sql.Conn, tenantID, userID string, hashes []string) error {
	if _, err := c.ExecContext(ctx, `DELETE FROM mfa_recovery_codes WHERE tenant_id = ? AND user_id = ?`,
		tenantID, userID); err != nil {
		return err
	}
	for _, h := range hashes {
		if _, err := c.ExecContext(ctx, `INSERT INTO mfa_recovery_codes (tenant_id, user_id, code_hash)
			VALUES (?, ?, ?)`, tenantID, userID, h); err != nil {
			return err
		}
	}
	return nil
}

// DeleteFactors implements store.MFAStore.
func (s *Store) DeleteFactors(ctx context.Context, tenantID, userID string) (int, error) {
	var n int64
	err := s.write(ctx, func(c *sql.Conn) error {
		res, err := c.ExecContext(ctx, `DELETE FROM mfa_factors WHERE tenant_id = ? AND user_id = ?`, tenantID, userID)
		if err != nil {
			return err
		}
		if n, err = res.RowsAffected(); err != nil {
			return err
		}
		for _, q := range []string{
			`DELETE FROM mfa_recovery_codes WHERE tenant_id = ? AND user_id = ?`,
			`DELETE FROM mfa_challenges WHERE tenant_id = ? AND user_id = ? AND used_at IS NULL`,
		} {
			if _, err := c.ExecContext(ctx, q, tenantID, userID); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, wrap("delete factors", err)
	}
	return int(n), nil
}

// CountRecoveryCodes implements store.MFAStore.
func (s *Store) CountRecoveryCodes(ctx context.Context, tenantID, userID string) (int, error) {
	if err := s.usable(); err != nil {
		return 0, err
	}
	var n int
	err := s.reader.QueryRowContext(ctx, `SELECT count(*) FROM mfa_recovery_codes
		WHERE tenant_id = ? AND user_id = ? AND used_at IS NULL`, tenantID, userID).Scan(&n)
	return n, wrap("count recovery codes", err)
}

// UseTOTPStep implements store.MFAStore: the primary key makes a second
// use of a step a conflict.
func (s *Store) UseTOTPStep(ctx context.Context, tenantID, userID, factorID string, step int64, now time.Time) error {
	err := s.write(ctx, func(c *sql.Conn) error {
		return insertTOTPStep(ctx, c, tenantID, userID, factorID, step, now)
	})
	return wrap("use totp step", err)
}

func insertTOTPStep(ctx context.Context, c *sql.Conn, tenantID, userID, factorID string, step int64, now time.Time) error {
	_, err := c.ExecContext(ctx, `INSERT INTO mfa_totp_steps (tenant_id, user_id, factor_id, step, used_at)
		VALUES (?, ?, ?, ?, ?)`, tenantID, userID, factorID, step, now.UnixMicro())
	return mapErr(err)
}

// SweepMFA implements store.MFAStore.
func (s *Store) SweepMFA(ctx context.Context, now, usedBefore time.Time) error {
	for _, q := range []struct {
		name, sql string
		arg       time.Time
	}{
		{"challenges", `DELETE FROM mfa_challenges WHERE rowid IN
			(SELECT rowid FROM mfa_challenges WHERE expires_at <= ?1 LIMIT ?2)`, now},
		{"passkey ceremonies", `DELETE FROM passkey_ceremonies WHERE rowid IN
			(SELECT rowid FROM passkey_ceremonies WHERE expires_at <= ?1 LIMIT ?2)`, now},
		{"totp steps", `DELETE FROM mfa_totp_steps WHERE rowid IN
			(SELECT rowid FROM mfa_totp_steps WHERE used_at < ?1 LIMIT ?2)`, usedBefore},
	} {
		for {
			var n int64
			err := s.write(ctx, func(c *sql.Conn) error {
				res, err := c.ExecContext(ctx, q.sql, q.arg.UnixMicro(), sweepBatch)
				if err != nil {
					return err
				}
				n, err = res.RowsAffected()
				return err
			})
			if err != nil {
				return wrap("sweep "+q.name, err)
			}
			if n < sweepBatch {
				break
			}
		}
	}
	return nil
}
