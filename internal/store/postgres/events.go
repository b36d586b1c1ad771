package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gatehouse-auth/gatehouse/internal/store"
)

// Page sizes of ListOutbox.
const (
	defaultOutboxPage = 100
	maxOutboxPage     = 1000
)

const webhookCols = `tenant_id, id, url, events, secret_enc, created_at, updated_at`

func scanWebhook(r scanner) (store.Webhook, error) {
	var w store.Webhook
	var events []byte
	err := r.Scan(&w.TenantID, &w.ID, &w.URL, &events, &w.SecretEnc, tsOut(&w.CreatedAt), tsOut(&w.UpdatedAt))
	if err != nil {
		return store.Webhook{}, err
	}
	if err := jsonOut(events, &w.Events); err != nil {
		return store.Webhook{}, fmt.Errorf("events: %w", err)
	}
	return w, nil
}

// CreateWebhook implements store.EventStore.
func (s *Store) CreateWebhook(ctx context.Context, w store.Webhook) error {
	events, err := jsonIn(w.Events)
	if err != nil {
		return fmt.Errorf("create webhook: %w", err)
	}
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return fmt.Errorf("create webhook: %w", err)
	}
	defer cancel()
	_, err = s.pool.Exec(ctx, `INSERT INTO webhooks (`+webhookCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		w.TenantID, w.ID, w.URL, events, w.SecretEnc, ts(w.CreatedAt), ts(w.UpdatedAt))
	if err != nil {
		return fmt.Errorf("create webhook: %w", mapErr(err))
	}
	return nil
}

// GetWebhook implements store.EventStore.
func (s *Store) GetWebhook(ctx context.Context, tenantID, id string) (store.Webhook, error) {
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return store.Webhook{}, fmt.Errorf("get webhook: %w", err)
	}
	defer cancel()
	w, err := getWebhook(ctx, s.pool, tenantID, id, false)
	if err != nil {
		return store.Webhook{}, fmt.Errorf("get webhook: %w", mapErr(err))
	}
	return w, nil
}

func getWebhook(ctx context.Context, q querier, tenantID, id string, forUpdate bool) (store.Webhook, error) {
	sql := `SELECT ` + webhookCols + ` FROM webhooks WHERE tenant_id = $1 AND id = $2`
	if forUpdate {
		sql += ` FOR UPDATE`
	}
	return scanWebhook(q.QueryRow(ctx, sql, tenantID, id))
}

// ListWebhooks implements store.EventStore.
func (s *Store) ListWebhooks(ctx context.Context, tenantID string) ([]store.Webhook, error) {
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("list webhooks: %w", err)
	}
	defer cancel()
	rows, err := s.pool.Query(ctx, `SELECT `+webhookCols+` FROM webhooks
		WHERE tenant_id = $1 ORDER BY created_at, id`, tenantID)
	if err != nil {
		return nil, fmt.Errorf("list webhooks: %w", mapErr(err))
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Webhook, error) { return scanWebhook(r) })
	if err != nil {
		return nil, fmt.Errorf("list webhooks: %w", mapErr(err))
	}
	return out, nil
}

// UpdateWebhook implements store.EventStore. The tenant, id and creation
// time cannot be changed by fn.
func (s *Store) UpdateWebhook(ctx context.Context, tenantID, id string, fn func(*store.Webhook) error) (store.Webhook, error) {
	var out store.Webhook
	var fnErr error
	err := s.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		w, err := getWebhook(ctx, tx, tenantID, id, true)
		if err != nil {
			return err
		}
		created := w.CreatedAt
		if fnErr = fn(&w); fnErr != nil {
			return fnErr
		}
		w.TenantID, w.ID, w.CreatedAt = tenantID, id, created
		events, err := jsonIn(w.Events)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE webhooks SET url = $3, events = $4, secret_enc = $5, updated_at = $6
			WHERE tenant_id = $1 AND id = $2`, tenantID, id, w.URL, events, w.SecretEnc, ts(w.UpdatedAt))
		if err != nil {
			return err
		}
		out = w
		return nil
	})
	if fnErr != nil {
		return store.Webhook{}, fnErr
	}
	if err != nil {
		return store.Webhook{}, fmt.Errorf("update webhook: %w", mapErr(err))
	}
	return out, nil
}

// DeleteWebhook implements store.EventStore.
func (s *Store) DeleteWebhook(ctx context.Context, tenantID, id string) error {
	err := s.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM webhooks WHERE tenant_id = $1 AND id = $2`, tenantID, id)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return store.ErrNotFound
		}
		_, err = tx.Exec(ctx, `DELETE FROM outbox WHERE tenant_id = $1 AND kind = $2 AND target = $3`,
			tenantID, store.OutboxWebhook, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("delete webhook: %w", mapErr(err))
	}
	return nil
}

const outboxCols = `seq, id, kind, tenant_id, target, event_type, payload, status, attempts,
	created_at, next_attempt_at, delivered_at, last_status, last_error`

func scanOutbox(r scanner) (store.OutboxMessage, error) {
	var m store.OutboxMessage
	err := r.Scan(&m.Seq, &m.ID, &m.Kind, &m.TenantID, &m.Target, &m.EventType, &m.Payload, &m.Status,
		&m.Attempts, tsOut(&m.CreatedAt), tsOut(&m.NextAttemptAt), tsOut(&m.DeliveredAt),
		&m.LastStatus, &m.LastError)
	return m, err
}

func collectOutbox(rows pgx.Rows, err error) ([]store.OutboxMessage, error) {
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.OutboxMessage, error) { return scanOutbox(r) })
}

// EnqueueOutbox implements store.EventStore.
func (s *Store) EnqueueOutbox(ctx context.Context, m store.OutboxMessage) (store.OutboxMessage, error) {
	if m.ID == "" {
		m.ID = "msg_" + newAuditID()
	}
	m.Status, m.NextAttemptAt = store.OutboxPending, m.CreatedAt
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return store.OutboxMessage{}, fmt.Errorf("enqueue outbox: %w", err)
	}
	defer cancel()
	err = s.pool.QueryRow(ctx, `INSERT INTO outbox
		(id, kind, tenant_id, target, event_type, payload, created_at, next_attempt_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING seq`,
		m.ID, m.Kind, m.TenantID, m.Target, m.EventType, m.Payload, ts(m.CreatedAt)).Scan(&m.Seq)
	if err != nil {
		return store.OutboxMessage{}, fmt.Errorf("enqueue outbox: %w", mapErr(err))
	}
	return m, nil
}

// ClaimOutbox implements store.EventStore. FOR UPDATE SKIP LOCKED lets
// several processes claim at once without waiting on each other: a message
// another claim is leasing is skipped, and once that claim commits the
// message's new next_attempt_at keeps it out of later scans until the lease
// ends. The NOT EXISTS keeps each target's messages in order.
func (s *Store) ClaimOutbox(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]store.OutboxMessage, error) {
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("claim outbox: %w", err)
	}
	defer cancel()
	rows, err := s.pool.Query(ctx, `UPDATE outbox SET next_attempt_at = $1, attempts = attempts + 1
		WHERE seq IN (
			SELECT o.seq FROM outbox o
			WHERE o.status = 'pending' AND o.next_attempt_at <= $2
			  AND NOT EXISTS (SELECT 1 FROM outbox p WHERE p.status = 'pending'
			                  AND p.kind = o.kind AND p.target = o.target AND p.seq < o.seq)
			ORDER BY o.seq LIMIT $3
			FOR UPDATE SKIP LOCKED)
		RETURNING `+outboxCols, ts(now.Add(lease)), ts(now), limit)
	out, err := collectOutbox(rows, err)
	if err != nil {
		return nil, fmt.Errorf("claim outbox: %w", mapErr(err))
	}
	return out, nil
}

// CompleteOutbox implements store.EventStore.
func (s *Store) CompleteOutbox(ctx context.Context, seq int64, r store.OutboxResult) error {
	next, delivered := ts(r.RetryAt), ts(r.At)
	if r.Status != store.OutboxPending {
		next = ts(r.At)
	} else {
		delivered = ts(time.Time{})
	}
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return fmt.Errorf("complete outbox: %w", err)
	}
	defer cancel()
	tag, err := s.pool.Exec(ctx, `UPDATE outbox SET status = $2, next_attempt_at = $3, delivered_at = $4,
		last_status = $5, last_error = $6 WHERE seq = $1 AND status = 'pending'`,
		seq, r.Status, next, delivered, r.HTTPStatus, r.Error)
	if err != nil {
		return fmt.Errorf("complete outbox: %w", mapErr(err))
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("complete outbox: %w", store.ErrNotFound)
	}
	return nil
}

// ListOutbox implements store.EventStore.
func (s *Store) ListOutbox(ctx context.Context, tenantID, kind, target string, limit int) ([]store.OutboxMessage, error) {
	if limit <= 0 {
		limit = defaultOutboxPage
	}
	limit = min(limit, maxOutboxPage)
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("list outbox: %w", err)
	}
	defer cancel()
	rows, err := s.pool.Query(ctx, `SELECT `+outboxCols+` FROM outbox
		WHERE tenant_id = $1 AND kind = $2 AND target = $3 ORDER BY seq DESC LIMIT $4`,
		tenantID, kind, target, limit)
	out, err := collectOutbox(rows, err)
	if err != nil {
		return nil, fmt.Errorf("list outbox: %w", mapErr(err))
	}
	return out, nil
}
