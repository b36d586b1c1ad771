package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gatehouse-auth/gatehouse/internal/store"
)

// challengeCols lists the columns scanChallenge reads, in order.
const challengeCols = `tenant_id, token_hash, user_id, methods, data, created_at, expires_at, attempts, used_at`

func scanChallenge(r scanner) (store.MFAChallenge, error) {
	var c store.MFAChallenge
	var methods []byte
	if err := r.Scan(&c.TenantID, &c.Hash, &c.UserID, &methods, &c.Data,
		tsOut(&c.CreatedAt), tsOut(&c.ExpiresAt), &c.Attempts, tsOut(&c.UsedAt)); err != nil {
		return store.MFAChallenge{}, err
	}
	if err := jsonOut(methods, &c.Methods); err != nil {
		return store.MFAChallenge{}, fmt.Errorf("methods: %w", err)
	}
	return c, nil
}

// openChallenge is the condition of a challenge that may still be
// completed: $1 tenant, $2 hash, $3 now, $4 max attempts.
const openChallenge = `tenant_id = $1 AND token_hash = $2 AND used_at IS NULL AND expires_at > $3 AND attempts < $4`

// CreateChallenge implements store.MFAStore.
func (s *Store) CreateChallenge(ctx context.Context, ch store.MFAChallenge) error {
	methods, err := jsonIn(ch.Methods)
	if err != nil {
		return fmt.Errorf("create challenge: %w", err)
	}
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return fmt.Errorf("create challenge: %w", err)
	}
	defer cancel()
	if _, err := s.pool.Exec(ctx, `INSERT INTO mfa_challenges (`+challengeCols+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, 0, NULL)`,
		ch.TenantID, ch.Hash, ch.UserID, methods, ch.Data, ts(ch.CreatedAt), ts(ch.ExpiresAt)); err != nil {
		return fmt.Errorf("create challenge: %w", mapMFAErr(err))
	}
	return nil
}

// GetChallenge implements store.MFAStore.
func (s *Store) GetChallenge(ctx context.Context, tenantID, hash string) (store.MFAChallenge, error) {
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return store.MFAChallenge{}, fmt.Errorf("get challenge: %w", err)
	}
	defer cancel()
	c, err := scanChallenge(s.pool.QueryRow(ctx, `SELECT `+challengeCols+` FROM mfa_challenges
		WHERE tenant_id = $1 AND token_hash = $2`, tenantID, hash))
	if err != nil {
		return store.MFAChallenge{}, fmt.Errorf("get challenge: %w", mapErr(err))
	}
	return c, nil
}

// ReserveChallengeAttempt implements store.MFAStore. The UPDATE re-evaluates its
// condition on the row's latest version, so concurrent failures all count.
func (s *Store) ReserveChallengeAttempt(ctx context.Context, tenantID, hash string, now time.Time, maxAttempts int) (store.MFAChallenge, error) {
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return store.MFAChallenge{}, fmt.Errorf("fail challenge: %w", err)
	}
	defer cancel()
	c, err := scanChallenge(s.pool.QueryRow(ctx, `UPDATE mfa_challenges SET attempts = attempts + 1
		WHERE `+openChallenge+` RETURNING `+challengeCols, tenantID, hash, ts(now), maxAttempts))
	if err != nil {
		return store.MFAChallenge{}, fmt.Errorf("fail challenge: %w", mapErr(err))
	}
	return c, nil
}

// CompleteChallenge implements store.MFAStore. The conditional UPDATE locks
// the challenge's row: a concurrent caller waits, then finds it used (or, if
// the first transaction rolled back, open).
func (s *Store) CompleteChallenge(ctx context.Context, req store.CompleteChallengeRequest) (store.MFAChallenge, error) {
	var out store.MFAChallenge
	err := s.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		ch, err := scanChallenge(tx.QueryRow(ctx, `UPDATE mfa_challenges SET used_at = $3
			WHERE `+openChallenge+` RETURNING `+challengeCols,
			req.TenantID, req.Hash, ts(req.Now), req.MaxAttempts))
		if err != nil {
			return err
		}
		if req.TOTPStep != 0 {
			if err := insertTOTPStep(ctx, tx, ch.TenantID, ch.UserID, req.TOTPFactorID, req.TOTPStep, req.Now); err != nil {
				return err
			}
		}
		if req.RecoveryHash != "" {
			tag, err := tx.Exec(ctx, `UPDATE mfa_recovery_codes SET used_at = $4
				WHERE tenant_id = $1 AND user_id = $2 AND code_hash = $3 AND used_at IS NULL`,
				ch.TenantID, ch.UserID, req.RecoveryHash, ts(req.Now))
			if err != nil {
				return err
			}
			if tag.RowsAffected() == 0 {
				return fmt.Errorf("recovery code unknown or used: %w", store.ErrConflict)
			}
		}
		out = ch
		return nil
	})
	if err != nil {
		return store.MFAChallenge{}, fmt.Errorf("complete challenge: %w", mapErr(err))
	}
	return out, nil
}
