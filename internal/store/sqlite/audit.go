package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/gatehouse-auth/gatehouse/internal/store"
)

// Page sizes of ListAudit, as documented on store.AuditFilter.
const (
	defaultAuditPage = 100
	maxAuditPage     = 1000
)

// AppendAudit implements store.Store. An empty ID is replaced by a random one.
// The event's webhook messages are written in the same transaction.
func (s *Store) AppendAudit(ctx context.Context, e store.AuditEvent) error {
	err := s.write(ctx, func(c *sql.Conn) error { return insertAudit(ctx, c, e) })
	return wrap("append audit", err)
}

func insertAudit(ctx context.Context, q querier, e store.AuditEvent) error {
	if e.ID == "" {
		e.ID = newID()
	}
	details, err := jsonText(e.Details)
	if err != nil {
		return fmt.Errorf("details: %w", err)
	}
	_, err = q.ExecContext(ctx, `INSERT INTO audit_events
		(id, tenant_id, time, type, user_id, session_id, actor, ip, user_agent, details_json)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.ID, e.TenantID, micros(e.Time), e.Type, e.UserID, e.SessionID, e.Actor, e.IP, e.UserAgent, details)
	if err != nil {
		return err
	}
	return enqueueWebhooks(ctx, q, e)
}

// ListAudit implements store.Store.
func (s *Store) ListAudit(ctx context.Context, tenantID string, f store.AuditFilter) ([]store.AuditEvent, error) {
	if err := s.usable(); err != nil {
		return nil, err
	}
	// An empty filter value matches every event.
	rows, err := s.reader.QueryContext(ctx, `SELECT id, tenant_id, time, type, user_id, session_id,
		       actor, ip, user_agent, details_json
		FROM audit_events
		WHERE tenant_id = ?1 AND (?2 = '' OR user_id = ?2) AND (?3 = '' OR type = ?3)
		ORDER BY time DESC, seq DESC LIMIT ?4`,
		tenantID, f.UserID, f.Type, clampLimit(f.Limit, defaultAuditPage, maxAuditPage))
	if err != nil {
		return nil, wrap("list audit", err)
	}
	defer rows.Close()
	var out []store.AuditEvent
	for rows.Next() {
		var e store.AuditEvent
		if err := rows.Scan(&e.ID, &e.TenantID, timeCol{&e.Time}, &e.Type, &e.UserID, &e.SessionID,
			&e.Actor, &e.IP, &e.UserAgent, jsonCol{&e.Details}); err != nil {
			return nil, wrap("list audit", err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap("list audit", err)
	}
	return out, nil
}
