package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gatehouse-auth/gatehouse/internal/store"
)

// GetThrottle returns the login-failure state of key; a key never seen
// yields a zero Throttle.
func (s *Store) GetThrottle(ctx context.Context, tenantID, key string) (store.Throttle, error) {
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return store.Throttle{}, fmt.Errorf("get throttle: %w", err)
	}
	defer cancel()
	var th store.Throttle
	err = s.pool.QueryRow(ctx, `SELECT failures, first_at, locked_until FROM throttles
		WHERE tenant_id = $1 AND key = $2`, tenantID, key).
		Scan(&th.Failures, tsOut(&th.FirstAt), tsOut(&th.LockedUntil))
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Throttle{}, nil
	}
	if err != nil {
		return store.Throttle{}, fmt.Errorf("get throttle: %w", mapErr(err))
	}
	return th, nil
}

// failureCount is the count after one more failure, the failures older
// than the window ($4 = now-window) forgotten first.
const failureCount = `(CASE WHEN th.first_at IS NOT NULL AND th.first_at >= $4 THEN th.failures ELSE 0 END + 1)`

// recordFailureSQL counts one failure. Every expression reads th, the row
// being updated, because an UPDATE that waited for a concurrent writer
// re-evaluates them on the row's latest committed version: no failure is
// lost. (A subquery would be read from the statement's older snapshot.)
//
// $1 tenant, $2 key, $3 now, $4 now-window, $5 max, $6 now+lockout.
const recordFailureSQL = `
UPDATE throttles th SET
	failures     = CASE WHEN ` + failureCount + ` >= $5 THEN 0 ELSE ` + failureCount + ` END,
	first_at     = CASE WHEN ` + failureCount + ` >= $5 THEN NULL
	                    WHEN ` + failureCount + ` = 1 THEN $3 ELSE th.first_at END,
	locked_until = CASE WHEN ` + failureCount + ` >= $5 THEN $6 ELSE th.locked_until END
WHERE th.tenant_id = $1 AND th.key = $2
RETURNING th.failures, th.first_at, th.locked_until`

// RecordFailure counts one failure for key atomically: failures older than
// window are forgotten first, and when the count reaches max the key is
// locked until now+lockout and the count starts again from zero.
func (s *Store) RecordFailure(ctx context.Context, tenantID, key string, now time.Time, max int, window, lockout time.Duration) (store.Throttle, error) {
	var th store.Throttle
	err := s.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO throttles (tenant_id, key) VALUES ($1, $2)
			ON CONFLICT (tenant_id, key) DO NOTHING`, tenantID, key)
		if err != nil {
			return err
		}
		return tx.QueryRow(ctx, recordFailureSQL, tenantID, key, ts(now), ts(now.Add(-window)),
			max, ts(now.Add(lockout))).Scan(&th.Failures, tsOut(&th.FirstAt), tsOut(&th.LockedUntil))
	})
	if err != nil {
		return store.Throttle{}, fmt.Errorf("record failure: %w", mapErr(err))
	}
	return th, nil
}

// ResetThrottle forgets the failures of key; an active lock stays.
func (s *Store) ResetThrottle(ctx context.Context, tenantID, key string) error {
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return fmt.Errorf("reset throttle: %w", err)
	}
	defer cancel()
	_, err = s.pool.Exec(ctx, `UPDATE throttles SET failures = 0, first_at = NULL
		WHERE tenant_id = $1 AND key = $2`, tenantID, key)
	if err != nil {
		return fmt.Errorf("reset throttle: %w", mapErr(err))
	}
	return nil
}
