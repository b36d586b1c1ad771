package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/store"
)

// ListKnownDevices implements store.MFAStore.
func (s *Store) ListKnownDevices(ctx context.Context, tenantID, userID string) ([]store.KnownDevice, error) {
	if err := s.usable(); err != nil {
		return nil, err
	}
	rows, err := s.reader.QueryContext(ctx, `SELECT tenant_id, user_id, kind, hash, first_seen, last_seen
		FROM known_devices WHERE tenant_id = ? AND user_id = ? ORDER BY last_seen DESC, kind, hash`, tenantID, userID)
	if err != nil {
		return nil, wrap("list known devices", err)
	}
	defer rows.Close()
	var out []store.KnownDevice
	for rows.Next() {
		var d store.KnownDevice
		if err := rows.Scan(&d.TenantID, &d.UserID, &d.Kind, &d.Hash, timeCol{&d.FirstSeen}, timeCol{&d.LastSeen}); err != nil {
			return nil, wrap("list known devices", err)
		}
		out = append(out, d)
	}
	return out, wrap("list known devices", rows.Err())
}

// RememberDevices implements store.MFAStore.
func (s *Store) RememberDevices(ctx context.Context, tenantID, userID string, marks []store.DeviceMark, now time.Time, maxPerKind int) error {
	err := s.write(ctx, func(c *sql.Conn) error {
		kinds := map[string]bool{}
		for _, m := range marks {
			kinds[m.Kind] = true
			if _, err := c.ExecContext(ctx, `INSERT INTO known_devices (tenant_id, user_id, kind, hash, first_seen, last_seen)
				VALUES (?1, ?2, ?3, ?4, ?5, ?5)
				ON CONFLICT (tenant_id, user_id, kind, hash) DO UPDATE SET last_seen = excluded.last_seen`,
				tenantID, userID, m.Kind, m.Hash, now.UnixMicro()); err != nil {
				return err
			}
		}
		for k := range kinds {
			if maxPerKind <= 0 {
				break
			}
			if _, err := c.ExecContext(ctx, `DELETE FROM known_devices WHERE rowid IN (
				SELECT rowid FROM known_devices WHERE tenant_id = ?1 AND user_id = ?2 AND kind = ?3
				ORDER BY last_seen DESC, hash LIMIT -1 OFFSET ?4)`, tenantID, userID, k, maxPerKind); err != nil {
				return err
			}
		}
		return nil
	})
	return wrap("remember devices", err)
}
