package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strconv"

	"github.com/jackc/pgx/v5"

	"github.com/gatehouse-auth/gatehouse/internal/store"
)

// Paging bounds of ListAudit.
const (
	defaultAuditPage = 100
	maxAuditPage     = 1000
)

// AppendAudit stores e, giving it a random id when it has none.
func (s *Store) AppendAudit(ctx context.Context, e store.AuditEvent) error {
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return fmt.Errorf("append audit: %w", err)
	}
	defer cancel()
	if err := insertAudit(ctx, s.pool, e); err != nil {
		return fmt.Errorf("append audit: %w", mapErr(err))
	}
	return nil
}

// newAuditID returns 128 random bits in hex.
func newAuditID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return hex.EncodeToString(b)
}

// insertAudit writes e and, in the same statement (so in the caller's
// transaction, or atomically on its own), one outbox message for it to
// every endpoint of its tenant subscribed to its type.
func insertAudit(ctx context.Context, q querier, e store.AuditEvent) error {
	if e.ID == "" {
		e.ID = newAuditID()
	}
	details, err := jsonIn(e.Details)
	if err != nil {
		return fmt.Errorf("audit details: %w", err)
	}
	body, err := store.WebhookBody(e)
	if err != nil {
		return fmt.Errorf("webhook body: %w", err)
	}
	_, err = q.Exec(ctx, `WITH ev AS (
			INSERT INTO audit_events
			(id, time, type, tenant_id, user_id, session_id, actor, ip, user_agent, details)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id)
		INSERT INTO outbox (id, kind, tenant_id, target, event_type, payload, created_at, next_attempt_at)
		SELECT 'msg_' || replace(gen_random_uuid()::text, '-', ''), $11, w.tenant_id, w.id, $3, $12,
		       coalesce($2, now()), coalesce($2, now())
		FROM webhooks w, ev
		WHERE w.tenant_id = $4 AND (w.events ? $3 OR w.events ? '*')
		ORDER BY w.created_at, w.id`,
		e.ID, ts(e.Time), e.Type, e.TenantID, e.UserID, e.SessionID, e.Actor, e.IP, e.UserAgent, details,
		store.OutboxWebhook, body)
	if err != nil {
		return fmt.Errorf("insert audit event: %w", err)
	}
	return nil
}

// ListAudit returns the tenant's events matching f, newest first; events
// with equal times come in reverse order of appending.
func (s *Store) ListAudit(ctx context.Context, tenantID string, f store.AuditFilter) ([]store.AuditEvent, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = defaultAuditPage
	}
	limit = min(limit, maxAuditPage)
	sql := `SELECT id, time, type, tenant_id, user_id, session_id, actor, ip, user_agent, details
		FROM audit_events WHERE tenant_id = $1`
	args := []any{tenantID}
	if f.UserID != "" {
		args = append(args, f.UserID)
		sql += ` AND user_id = $` + strconv.Itoa(len(args))
	}
	if f.Type != "" {
		args = append(args, f.Type)
		sql += ` AND type = $` + strconv.Itoa(len(args))
	}
	args = append(args, limit)
	sql += ` ORDER BY time DESC, seq DESC LIMIT $` + strconv.Itoa(len(args))

	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("list audit: %w", err)
	}
	defer cancel()
	rows, err := s.pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("list audit: %w", mapErr(err))
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.AuditEvent, error) {
		var e store.AuditEvent
		var details []byte
		err := r.Scan(&e.ID, tsOut(&e.Time), &e.Type, &e.TenantID, &e.UserID, &e.SessionID,
			&e.Actor, &e.IP, &e.UserAgent, &details)
		if err != nil {
			return store.AuditEvent{}, err
		}
		if err := jsonOut(details, &e.Details); err != nil {
			return store.AuditEvent{}, fmt.Errorf("details: %w", err)
		}
		return e, nil
	})
	if err != nil {
		return nil, fmt.Errorf("list audit: %w", mapErr(err))
	}
	return out, nil
}
