package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gatehouse-auth/gatehouse/internal/store"
)

// staleCount is true when the count of th is to be forgotten before the
// next attempt: nothing counted, or counted before $4 (now-window).
const staleCount = `(th.failures = 0 OR th.first_at IS NULL OR th.first_at < $4)`

// reserveSQL counts one attempt unless the key is locked at $3 or already
// counts $5 (> 0) attempts in the window. Like recordFailureSQL, every
// expression reads th, so an UPDATE that waited for a concurrent one
// re-evaluates its condition on the latest committed row: no two callers
// are granted the same place.
//
// $1 tenant, $2 key, $3 now, $4 now-window, $5 max.
const reserveSQL = `
UPDATE throttles th SET
	failures = CASE WHEN ` + staleCount + ` THEN 1 ELSE th.failures + 1 END,
	first_at = CASE WHEN ` + staleCount + ` THEN $3 ELSE th.first_at END
WHERE th.tenant_id = $1 AND th.key = $2
	AND (th.locked_until IS NULL OR th.locked_until <= $3)
	AND ($5 <= 0 OR ` + staleCount + ` OR th.failures < $5)
RETURNING th.failures, th.first_at, th.locked_until`

// ReserveAttempt implements store.Store with one conditional UPDATE.
func (s *Store) ReserveAttempt(ctx context.Context, tenantID, key string, now time.Time, max int, window time.Duration) (store.Throttle, bool, error) {
	var (
		th      store.Throttle
		granted bool
	)
	err := s.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO throttles (tenant_id, key) VALUES ($1, $2)
			ON CONFLICT (tenant_id, key) DO NOTHING`, tenantID, key); err != nil {
			return err
		}
		err := tx.QueryRow(ctx, reserveSQL, tenantID, key, ts(now), ts(now.Add(-window)), max).
			Scan(&th.Failures, tsOut(&th.FirstAt), tsOut(&th.LockedUntil))
		if err == nil {
			granted = true
			return nil
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		return tx.QueryRow(ctx, `SELECT failures, first_at, locked_until FROM throttles
			WHERE tenant_id = $1 AND key = $2`, tenantID, key).
			Scan(&th.Failures, tsOut(&th.FirstAt), tsOut(&th.LockedUntil))
	})
	if err != nil {
		return store.Throttle{}, false, fmt.Errorf("reserve attempt: %w", mapErr(err))
	}
	return th, granted, nil
}

// FailAttempt implements store.Store: the conditional UPDATE locks the key
// for exactly one of concurrent callers.
func (s *Store) FailAttempt(ctx context.Context, tenantID, key string, now time.Time, max int, lockout time.Duration) (bool, error) {
	if max <= 0 {
		return false, nil
	}
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return false, fmt.Errorf("fail attempt: %w", err)
	}
	defer cancel()
	tag, err := s.pool.Exec(ctx, `UPDATE throttles th SET failures = 0, first_at = NULL, locked_until = $5
		WHERE th.tenant_id = $1 AND th.key = $2 AND th.failures >= $4
			AND (th.locked_until IS NULL OR th.locked_until <= $3)`,
		tenantID, key, ts(now), max, ts(now.Add(lockout)))
	if err != nil {
		return false, fmt.Errorf("fail attempt: %w", mapErr(err))
	}
	return tag.RowsAffected() == 1, nil
}

// ReleaseAttempt implements store.Store.
func (s *Store) ReleaseAttempt(ctx context.Context, tenantID, key string, now time.Time) error {
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return fmt.Errorf("release attempt: %w", err)
	}
	defer cancel()
	_, err = s.pool.Exec(ctx, `UPDATE throttles th
		SET failures = th.failures - 1, first_at = CASE WHEN th.failures = 1 THEN NULL ELSE th.first_at END
		WHERE th.tenant_id = $1 AND th.key = $2 AND th.failures > 0
			AND (th.locked_until IS NULL OR th.locked_until <= $3)`, tenantID, key, ts(now))
	if err != nil {
		return fmt.Errorf("release attempt: %w", mapErr(err))
	}
	return nil
}

// ClearThrottle implements store.Store.
func (s *Store) ClearThrottle(ctx context.Context, tenantID, key string) error {
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return fmt.Errorf("clear throttle: %w", err)
	}
	defer cancel()
	if _, err := s.pool.Exec(ctx, `DELETE FROM throttles WHERE tenant_id = $1 AND key = $2`, tenantID, key); err != nil {
		return fmt.Errorf("clear throttle: %w", mapErr(err))
	}
	return nil
}
