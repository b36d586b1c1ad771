package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/store"
)

// GetThrottle implements store.Store.
func (s *Store) GetThrottle(ctx context.Context, tenantID, key string) (store.Throttle, error) {
	if err := s.usable(); err != nil {
		return store.Throttle{}, err
	}
	t, err := getThrottle(ctx, s.reader, tenantID, key)
	return t, wrap("get throttle", err)
}

// getThrottle reads the state of key; an unknown key is the zero Throttle.
func getThrottle(ctx context.Context, q querier, tenantID, key string) (store.Throttle, error) {
	var t store.Throttle
	err := q.QueryRowContext(ctx, `SELECT failures, first_at, locked_until FROM throttles
		WHERE tenant_id = ? AND key = ?`, tenantID, key).
		Scan(&t.Failures, timeCol{&t.FirstAt}, timeCol{&t.LockedUntil})
	if errors.Is(err, sql.ErrNoRows) {
		return store.Throttle{}, nil
	}
	return t, err
}

// RecordFailure implements store.Store. A max of zero or less never locks.
func (s *Store) RecordFailure(ctx context.Context, tenantID, key string, now time.Time, max int, window, lockout time.Duration) (store.Throttle, error) {
	var out store.Throttle
	err := s.write(ctx, func(c *sql.Conn) error {
		t, err := getThrottle(ctx, c, tenantID, key)
		if err != nil {
			return err
		}
		t = nextFailure(t, toMicro(now), max, window, lockout)
		out = t
		return putThrottle(ctx, c, tenantID, key, t)
	})
	if err != nil {
		return store.Throttle{}, wrap("record failure", err)
	}
	return out, nil
}

// nextFailure is the throttle state after one more failure at now.
func nextFailure(t store.Throttle, now time.Time, max int, window, lockout time.Duration) store.Throttle {
	if t.Failures > 0 && now.Sub(t.FirstAt) > window {
		t.Failures, t.FirstAt = 0, time.Time{}
	}
	if t.Failures == 0 {
		t.FirstAt = now
	}
	t.Failures++
	if max > 0 && t.Failures >= max {
		t.Failures, t.FirstAt = 0, time.Time{}
		t.LockedUntil = toMicro(now.Add(lockout))
	}
	return t
}

// ResetThrottle implements store.Store. An active lock stays.
func (s *Store) ResetThrottle(ctx context.Context, tenantID, key string) error {
	err := s.write(ctx, func(c *sql.Conn) error {
		_, err := c.ExecContext(ctx, `UPDATE throttles SET failures = 0, first_at = NULL
			WHERE tenant_id = ? AND key = ?`, tenantID, key)
		return err
	})
	return wrap("reset throttle", err)
}
