package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/gatehouse-auth/gatehouse/internal/store"
)

// codeForeignKeyViolation is the SQLSTATE of a row that refers to a missing
// one: for MFA records, a user that does not exist.
const codeForeignKeyViolation = "23503"

// mapMFAErr is mapErr, with a missing user reported as store.ErrNotFound.
func mapMFAErr(err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == codeForeignKeyViolation {
		return fmt.Errorf("%w: %w", store.ErrNotFound, err)
	}
	return mapErr(err)
}

// factorCols lists the columns scanFactor reads, in order.
const factorCols = `tenant_id, user_id, id, kind, secret_enc, created_at, confirmed_at`

func scanFactor(r scanner) (store.MFAFactor, error) {
	var f store.MFAFactor
	err := r.Scan(&f.TenantID, &f.UserID, &f.ID, &f.Kind, &f.SecretEnc, tsOut(&f.CreatedAt), tsOut(&f.ConfirmedAt))
	return f, err
}

// PutPendingFactor implements store.MFAStore.
func (s *Store) PutPendingFactor(ctx context.Context, f store.MFAFactor) error {
	err := s.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM mfa_factors
			WHERE tenant_id = $1 AND user_id = $2 AND kind = $3 AND confirmed_at IS NULL`,
			f.TenantID, f.UserID, f.Kind); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO mfa_factors (`+factorCols+`) VALUES ($1, $2, $3, $4, $5, $6, NULL)`,
			f.TenantID, f.UserID, f.ID, f.Kind, f.SecretEnc, ts(f.CreatedAt))
		return err
	})
	if err != nil {
		return fmt.Errorf("put pending factor: %w", mapMFAErr(err))
	}
	return nil
}

// ListFactors implements store.MFAStore.
func (s *Store) ListFactors(ctx context.Context, tenantID, userID string) ([]store.MFAFactor, error) {
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("list factors: %w", err)
	}
	defer cancel()
	rows, err := s.pool.Query(ctx, `SELECT `+factorCols+` FROM mfa_factors
		WHERE tenant_id = $1 AND user_id = $2 ORDER BY created_at, id`, tenantID, userID)
	if err != nil {
		return nil, fmt.Errorf("list factors: %w", mapErr(err))
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.MFAFactor, error) { return scanFactor(r) })
	if err != nil {
		return nil, fmt.Errorf("list factors: %w", mapErr(err))
	}
	return out, nil
}

// ConfirmFactor implements store.MFAStore.
func (s *Store) ConfirmFactor(ctx context.Context, tenantID, userID, factorID string, now time.Time, recoveryHashes []string) (store.MFAFactor, error) {
	var out store.MFAFactor
	err := s.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		f, err := scanFactor(tx.QueryRow(ctx, `UPDATE mfa_factors SET confirmed_at = $4
			WHERE tenant_id = $1 AND user_id = $2 AND id = $3 AND confirmed_at IS NULL
			RETURNING `+factorCols, tenantID, userID, factorID, ts(now)))
		if err != nil {
			return err // no row: not pending
		}
		if _, err := tx.Exec(ctx, `DELETE FROM mfa_factors
			WHERE tenant_id = $1 AND user_id = $2 AND kind = $3 AND id <> $4`, tenantID, userID, f.Kind, f.ID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM mfa_recovery_codes WHERE tenant_id = $1 AND user_id = $2`,
			tenantID, userID); err != nil {
			return err
		}
		if len(recoveryHashes) > 0 {
			if _, err := tx.Exec(ctx, `INSERT INTO mfa_recovery_codes (tenant_id, user_id, code_hash)
				SELECT $1, $2, h FROM unnest($3::text[]) AS h`, tenantID, userID, recoveryHashes); err != nil {
				return err
			}
		}
		out = f
		return nil
	})
	if err != nil {
		return store.MFAFactor{}, fmt.Errorf("confirm factor: %w", mapMFAErr(err))
	}
	return out, nil
}

// DeleteFactors implements store.MFAStore.
func (s *Store) DeleteFactors(ctx context.Context, tenantID, userID string) (int, error) {
	var n int64
	err := s.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM mfa_factors WHERE tenant_id = $1 AND user_id = $2`, tenantID, userID)
		if err != nil {
			return err
		}
		n = tag.RowsAffected()
		for _, q := range []string{
			`DELETE FROM mfa_recovery_codes WHERE tenant_id = $1 AND user_id = $2`,
			`DELETE FROM mfa_challenges WHERE tenant_id = $1 AND user_id = $2 AND used_at IS NULL`,
		} {
			if _, err := tx.Exec(ctx, q, tenantID, userID); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("delete factors: %w", mapErr(err))
	}
	return int(n), nil
}

// CountRecoveryCodes implements store.MFAStore.
func (s *Store) CountRecoveryCodes(ctx context.Context, tenantID, userID string) (int, error) {
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return 0, fmt.Errorf("count recovery codes: %w", err)
	}
	defer cancel()
	var n int
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM mfa_recovery_codes
		WHERE tenant_id = $1 AND user_id = $2 AND used_at IS NULL`, tenantID, userID).Scan(&n); err != nil {
		return 0, fmt.Errorf("count recovery codes: %w", mapErr(err))
	}
	return n, nil
}

// UseTOTPStep implements store.MFAStore: the primary key makes a second
// use of a step a conflict; a concurrent insert of the same step waits for
// the first and then fails.
func (s *Store) UseTOTPStep(ctx context.Context, tenantID, userID, factorID string, step int64, now time.Time) error {
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return fmt.Errorf("use totp step: %w", err)
	}
	defer cancel()
	if err := insertTOTPStep(ctx, s.pool, tenantID, userID, factorID, step, now); err != nil {
		return fmt.Errorf("use totp step: %w", mapMFAErr(err))
	}
	return nil
}

func insertTOTPStep(ctx context.Context, q querier, tenantID, userID, factorID string, step int64, now time.Time) error {
	_, err := q.Exec(ctx, `INSERT INTO mfa_totp_steps (tenant_id, user_id, factor_id, step, used_at)
		VALUES ($1, $2, $3, $4, $5)`, tenantID, userID, factorID, step, ts(now))
	return err
}

// SweepMFA implements store.MFAStore.
func (s *Store) SweepMFA(ctx context.Context, now, usedBefore time.Time) error {
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return fmt.Errorf("sweep mfa: %w", err)
	}
	defer cancel()
	if _, err := s.pool.Exec(ctx, `DELETE FROM mfa_challenges WHERE expires_at <= $1`, ts(now)); err != nil {
		return fmt.Errorf("sweep mfa challenges: %w", mapErr(err))
	}
	if _, err := s.pool.Exec(ctx, `DELETE FROM passkey_ceremonies WHERE expires_at <= $1`, ts(now)); err != nil {
		return fmt.Errorf("sweep passkey ceremonies: %w", mapErr(err))
	}
	if _, err := s.pool.Exec(ctx, `DELETE FROM mfa_totp_steps WHERE used_at < $1`, ts(usedBefore)); err != nil {
		return fmt.Errorf("sweep totp steps: %w", mapErr(err))
	}
	return nil
}
