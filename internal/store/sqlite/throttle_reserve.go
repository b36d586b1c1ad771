package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/store"
)

// ReserveAttempt implements store.Store. The read and the write run under
// the database write lock, so concurrent reservations are counted one after
// the other.
func (s *Store) ReserveAttempt(ctx context.Context, tenantID, key string, now time.Time, max int, window time.Duration) (store.Throttle, bool, error) {
	var (
		out     store.Throttle
		granted bool
	)
	now = toMicro(now)
	err := s.write(ctx, func(c *sql.Conn) error {
		t, err := getThrottle(ctx, c, tenantID, key)
		if err != nil {
			return err
		}
		out = t
		if now.Before(t.LockedUntil) {
			return nil
		}
		if t.Failures > 0 && now.Sub(t.FirstAt) > window {
			t.Failures, t.FirstAt = 0, time.Time{}
		}
		if max > 0 && t.Failures >= max {
			return nil
		}
		if t.Failures == 0 {
			t.FirstAt = now
		}
		t.Failures++
		if err := putThrottle(ctx, c, tenantID, key, t); err != nil {
			return err
		}
		out, granted = t, true
		return nil
	})
	if err != nil {
		return store.Throttle{}, false, wrap("reserve attempt", err)
	}
	return out, granted, nil
}

// FailAttempt implements store.Store.
func (s *Store) FailAttempt(ctx context.Context, tenantID, key string, now time.Time, max int, lockout time.Duration) (bool, error) {
	if max <= 0 {
		return false, nil
	}
	var locked bool
	err := s.write(ctx, func(c *sql.Conn) error {
		res, err := c.ExecContext(ctx, `UPDATE throttles SET failures = 0, first_at = NULL, locked_until = ?
			WHERE tenant_id = ? AND key = ? AND failures >= ? AND (locked_until IS NULL OR locked_until <= ?)`,
			now.Add(lockout).UnixMicro(), tenantID, key, max, now.UnixMicro())
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		locked = n == 1
		return err
	})
	return locked, wrap("fail attempt", err)
}

// ReleaseAttempt implements store.Store.
func (s *Store) ReleaseAttempt(ctx context.Context, tenantID, key string, now time.Time) error {
	err := s.write(ctx, func(c *sql.Conn) error {
		_, err := c.ExecContext(ctx, `UPDATE throttles
			SET failures = failures - 1, first_at = CASE WHEN failures = 1 THEN NULL ELSE first_at END
			WHERE tenant_id = ? AND key = ? AND failures > 0 AND (locked_until IS NULL OR locked_until <= ?)`,
			tenantID, key, now.UnixMicro())
		return err
	})
	return wrap("release attempt", err)
}

// ClearThrottle implements store.Store.
func (s *Store) ClearThrottle(ctx context.Context, tenantID, key string) error {
	err := s.write(ctx, func(c *sql.Conn) error {
		_, err := c.ExecContext(ctx, `DELETE FROM throttles WHERE tenant_id = ? AND key = ?`, tenantID, key)
		return err
	})
	return wrap("clear throttle", err)
}

// putThrottle writes the state of key.
func putThrottle(ctx context.Context, c *sql.Conn, tenantID, key string, t store.Throttle) error {
	_, err := c.ExecContext(ctx, `INSERT INTO throttles (tenant_id, key, failures, first_at, locked_until)
		VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (tenant_id, key) DO UPDATE
		SET failures = excluded.failures, first_at = excluded.first_at, locked_until = excluded.locked_until`,
		tenantID, key, t.Failures, micros(t.FirstAt), micros(t.LockedUntil))
	return err
}
