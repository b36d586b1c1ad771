package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/store"
)

// CreateTicket implements store.Store.
func (s *Store) CreateTicket(ctx context.Context, t store.Ticket) error {
	err := s.write(ctx, func(c *sql.Conn) error {
		_, err := c.ExecContext(ctx, `INSERT INTO tickets
			(token_hash, tenant_id, user_id, purpose, actor, created_at, expires_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`,
			t.Hash, t.TenantID, t.UserID, t.Purpose, t.Actor, micros(t.CreatedAt), t.ExpiresAt.UnixMicro())
		return err
	})
	return wrap("create ticket", err)
}

// RedeemTicket implements store.Store. The single conditional UPDATE is the
// whole redemption: the write lock (BEGIN IMMEDIATE) serialises concurrent
// callers, and only the first finds used_at still NULL.
func (s *Store) RedeemTicket(ctx context.Context, tenantID, hash string, now time.Time) (store.Ticket, error) {
	var t store.Ticket
	err := s.write(ctx, func(c *sql.Conn) error {
		return c.QueryRowContext(ctx, `UPDATE tickets SET used_at = ?1
			WHERE token_hash = ?2 AND tenant_id = ?3 AND used_at IS NULL AND expires_at > ?1
			RETURNING token_hash, tenant_id, user_id, purpose, actor, created_at, expires_at, used_at`,
			now.UnixMicro(), hash, tenantID).
			Scan(&t.Hash, &t.TenantID, &t.UserID, &t.Purpose, &t.Actor,
				timeCol{&t.CreatedAt}, timeCol{&t.ExpiresAt}, timeCol{&t.UsedAt})
	})
	if err != nil {
		return store.Ticket{}, wrap("redeem ticket", err)
	}
	return t, nil
}
