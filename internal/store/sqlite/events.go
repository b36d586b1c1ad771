package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/store"
)

// Page sizes of ListOutbox.
const (
	defaultOutboxPage = 100
	maxOutboxPage     = 1000
)

// enqueueWebhooks writes, inside the caller's transaction, one outbox
// message for e to every endpoint of its tenant subscribed to its type.
func enqueueWebhooks(ctx context.Context, q querier, e store.AuditEvent) error {
	body, err := store.WebhookBody(e)
	if err != nil {
		return fmt.Errorf("webhook body: %w", err)
	}
	at := micros(e.Time)
	if e.Time.IsZero() {
		at = time.Now().UnixMicro()
	}
	_, err = q.ExecContext(ctx, `INSERT INTO outbox
		(id, kind, tenant_id, target, event_type, payload, created_at, next_attempt_at)
		SELECT 'msg_' || lower(hex(randomblob(16))), ?1, w.tenant_id, w.id, ?2, ?3, ?4, ?4
		FROM webhooks w
		WHERE w.tenant_id = ?5
		  AND EXISTS (SELECT 1 FROM json_each(w.events_json) j WHERE j.value IN (?2, '*'))
		ORDER BY w.created_at, w.id`,
		store.OutboxWebhook, e.Type, body, at, e.TenantID)
	if err != nil {
		return fmt.Errorf("enqueue webhooks: %w", err)
	}
	return nil
}

const webhookCols = `tenant_id, id, url, events_json, secret_enc, created_at, updated_at`

func scanWebhook(r scanner) (store.Webhook, error) {
	var w store.Webhook
	err := r.Scan(&w.TenantID, &w.ID, &w.URL, jsonCol{&w.Events}, &w.SecretEnc,
		timeCol{&w.CreatedAt}, timeCol{&w.UpdatedAt})
	return w, err
}

func webhookArgs(w store.Webhook) ([]any, error) {
	events, err := jsonText(w.Events)
	if err != nil {
		return nil, fmt.Errorf("events: %w", err)
	}
	return []any{w.TenantID, w.ID, w.URL, events, w.SecretEnc, micros(w.CreatedAt), micros(w.UpdatedAt)}, nil
}

// CreateWebhook implements store.EventStore.
func (s *Store) CreateWebhook(ctx context.Context, w store.Webhook) error {
	args, err := webhookArgs(w)
	if err != nil {
		return fmt.Errorf("create webhook: %w", err)
	}
	err = s.write(ctx, func(c *sql.Conn) error {
		_, err := c.ExecContext(ctx, `INSERT INTO webhooks (`+webhookCols+`) VALUES (?, ?, ?, ?, ?, ?, ?)`, args...)
		return err
	})
	return wrap("create webhook", err)
}

// GetWebhook implements store.EventStore.
func (s *Store) GetWebhook(ctx context.Context, tenantID, id string) (store.Webhook, error) {
	if err := s.usable(); err != nil {
		return store.Webhook{}, err
	}
	w, err := getWebhook(ctx, s.reader, tenantID, id)
	return w, wrap("get webhook", err)
}

func getWebhook(ctx context.Context, q querier, tenantID, id string) (store.Webhook, error) {
	return scanWebhook(q.QueryRowContext(ctx, `SELECT `+webhookCols+` FROM webhooks
		WHERE tenant_id = ? AND id = ?`, tenantID, id))
}

// ListWebhooks implements store.EventStore.
func (s *Store) ListWebhooks(ctx context.Context, tenantID string) ([]store.Webhook, error) {
	if err := s.usable(); err != nil {
		return nil, err
	}
	rows, err := s.reader.QueryContext(ctx, `SELECT `+webhookCols+` FROM webhooks
		WHERE tenant_id = ? ORDER BY created_at, id`, tenantID)
	return collect(rows, err, "list webhooks", scanWebhook)
}

// UpdateWebhook implements store.EventStore. The tenant, id and creation
// time cannot be changed by fn.
func (s *Store) UpdateWebhook(ctx context.Context, tenantID, id string, fn func(*store.Webhook) error) (store.Webhook, error) {
	var out store.Webhook
	var fnErr error
	err := s.write(ctx, func(c *sql.Conn) error {
		w, err := getWebhook(ctx, c, tenantID, id)
		if err != nil {
			return err
		}
		created := w.CreatedAt
		if fnErr = fn(&w); fnErr != nil {
			return fnErr
		}
		w.TenantID, w.ID, w.CreatedAt = tenantID, id, created
		events, err := jsonText(w.Events)
		if err != nil {
			return err
		}
		_, err = c.ExecContext(ctx, `UPDATE webhooks SET url = ?, events_json = ?, secret_enc = ?, updated_at = ?
			WHERE tenant_id = ? AND id = ?`, w.URL, events, w.SecretEnc, micros(w.UpdatedAt), tenantID, id)
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
		return store.Webhook{}, wrap("update webhook", err)
	}
	return out, nil
}

// DeleteWebhook implements store.EventStore.
func (s *Store) DeleteWebhook(ctx context.Context, tenantID, id string) error {
	err := s.write(ctx, func(c *sql.Conn) error {
		if err := execOne(ctx, c, store.ErrNotFound, `DELETE FROM webhooks WHERE tenant_id = ? AND id = ?`, tenantID, id); err != nil {
			return err
		}
		_, err := c.ExecContext(ctx, `DELETE FROM outbox WHERE tenant_id = ? AND kind = ? AND target = ?`,
			tenantID, store.OutboxWebhook, id)
		return err
	})
	return wrap("delete webhook", err)
}

const outboxCols = `seq, id, kind, tenant_id, target, event_type, payload, status, attempts,
	created_at, next_attempt_at, delivered_at, last_status, last_error`

func scanOutbox(r scanner) (store.OutboxMessage, error) {
	var m store.OutboxMessage
	err := r.Scan(&m.Seq, &m.ID, &m.Kind, &m.TenantID, &m.Target, &m.EventType, &m.Payload, &m.Status,
		&m.Attempts, timeCol{&m.CreatedAt}, timeCol{&m.NextAttemptAt}, timeCol{&m.DeliveredAt},
		&m.LastStatus, &m.LastError)
	return m, err
}

// EnqueueOutbox implements store.EventStore.
func (s *Store) EnqueueOutbox(ctx context.Context, m store.OutboxMessage) (store.OutboxMessage, error) {
	if m.ID == "" {
		m.ID = "msg_" + newID()
	}
	m.Status, m.NextAttemptAt = store.OutboxPending, m.CreatedAt
	err := s.write(ctx, func(c *sql.Conn) error {
		return c.QueryRowContext(ctx, `INSERT INTO outbox
			(id, kind, tenant_id, target, event_type, payload, created_at, next_attempt_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING seq`,
			m.ID, m.Kind, m.TenantID, m.Target, m.EventType, m.Payload, micros(m.CreatedAt), micros(m.CreatedAt)).Scan(&m.Seq)
	})
	if err != nil {
		return store.OutboxMessage{}, wrap("enqueue outbox", err)
	}
	return m, nil
}

// ClaimOutbox implements store.EventStore. SQLite has one writer at a time
// (BEGIN IMMEDIATE), so the select and the lease in one write transaction
// cannot interleave with another claim, in this process or another.
func (s *Store) ClaimOutbox(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]store.OutboxMessage, error) {
	if err := s.usable(); err != nil {
		return nil, err
	}
	// The poll runs every second in every process: when nothing is due, a
	// read on a reader connection answers without taking the write lock
	// that sign-ins and the group commit need.
	var due bool
	err := s.reader.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM outbox
		WHERE status = 'pending' AND next_attempt_at <= ?)`, micros(now)).Scan(&due)
	if err != nil {
		return nil, wrap("claim outbox", err)
	}
	if !due {
		return nil, nil
	}
	var out []store.OutboxMessage
	err = s.write(ctx, func(c *sql.Conn) error {
		rows, err := c.QueryContext(ctx, `UPDATE outbox SET next_attempt_at = ?1, attempts = attempts + 1
			WHERE seq IN (
				SELECT o.seq FROM outbox o
				WHERE o.status = 'pending' AND o.next_attempt_at <= ?2
				  AND NOT EXISTS (SELECT 1 FROM outbox p WHERE p.status = 'pending'
				                  AND p.kind = o.kind AND p.target = o.target AND p.seq < o.seq)
				ORDER BY o.seq LIMIT ?3)
			RETURNING `+outboxCols, micros(now.Add(lease)), micros(now), limit)
		out, err = collect(rows, err, "claim", scanOutbox)
		return err
	})
	if err != nil {
		return nil, wrap("claim outbox", err)
	}
	return out, nil
}

// CompleteOutbox implements store.EventStore.
func (s *Store) CompleteOutbox(ctx context.Context, seq int64, r store.OutboxResult) error {
	var delivered, next any
	if r.Status == store.OutboxPending {
		next = micros(r.RetryAt)
	} else {
		delivered, next = micros(r.At), micros(r.At)
	}
	err := s.write(ctx, func(c *sql.Conn) error {
		return execOne(ctx, c, store.ErrNotFound, `UPDATE outbox SET status = ?, next_attempt_at = ?,
			delivered_at = ?, last_status = ?, last_error = ? WHERE seq = ? AND status = 'pending'`,
			r.Status, next, delivered, r.HTTPStatus, r.Error, seq)
	})
	return wrap("complete outbox", err)
}

// ListOutbox implements store.EventStore.
func (s *Store) ListOutbox(ctx context.Context, tenantID, kind, target string, limit int) ([]store.OutboxMessage, error) {
	if err := s.usable(); err != nil {
		return nil, err
	}
	rows, err := s.reader.QueryContext(ctx, `SELECT `+outboxCols+` FROM outbox
		WHERE tenant_id = ? AND kind = ? AND target = ? ORDER BY seq DESC LIMIT ?`,
		tenantID, kind, target, clampLimit(limit, defaultOutboxPage, maxOutboxPage))
	return collect(rows, err, "list outbox", scanOutbox)
}
