package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/gatehouse-auth/gatehouse/internal/store"
)

// mapFedErr is mapErr plus the foreign-key violations of the federation
// tables, which mean that the referenced user or tenant does not exist.
func mapFedErr(err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23503" { // foreign_key_violation
		return fmt.Errorf("%w: %w", store.ErrNotFound, err)
	}
	return mapErr(err)
}

// CreateTicket stores a ticket; store.ErrNotFound when its user does not exist.
func (s *Store) CreateTicket(ctx context.Context, t store.Ticket) error {
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return fmt.Errorf("create ticket: %w", err)
	}
	defer cancel()
	_, err = s.pool.Exec(ctx, `INSERT INTO tickets
		(token_hash, tenant_id, user_id, purpose, actor, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		t.Hash, t.TenantID, t.UserID, t.Purpose, t.Actor, ts(t.CreatedAt), ts(t.ExpiresAt))
	if err != nil {
		return fmt.Errorf("create ticket: %w", mapFedErr(err))
	}
	return nil
}

// RedeemTicket marks the ticket used in one conditional UPDATE. Concurrent
// callers serialise on the row lock; once the first commits, the others
// re-evaluate the condition, find used_at set and update nothing.
func (s *Store) RedeemTicket(ctx context.Context, tenantID, hash string, now time.Time) (store.Ticket, error) {
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return store.Ticket{}, fmt.Errorf("redeem ticket: %w", err)
	}
	defer cancel()
	var t store.Ticket
	err = s.pool.QueryRow(ctx, `UPDATE tickets SET used_at = $1
		WHERE token_hash = $2 AND tenant_id = $3 AND used_at IS NULL AND expires_at > $1
		RETURNING token_hash, tenant_id, user_id, purpose, actor, created_at, expires_at, used_at`,
		ts(now), hash, tenantID).
		Scan(&t.Hash, &t.TenantID, &t.UserID, &t.Purpose, &t.Actor,
			tsOut(&t.CreatedAt), tsOut(&t.ExpiresAt), tsOut(&t.UsedAt))
	if err != nil {
		return store.Ticket{}, fmt.Errorf("redeem ticket: %w", mapErr(err))
	}
	return t, nil
}
