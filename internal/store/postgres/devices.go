package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gatehouse-auth/gatehouse/internal/store"
)

// ListKnownDevices implements store.MFAStore.
func (s *Store) ListKnownDevices(ctx context.Context, tenantID, userID string) ([]store.KnownDevice, error) {
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("list known devices: %w", err)
	}
	defer cancel()
	rows, err := s.pool.Query(ctx, `SELECT tenant_id, user_id, kind, hash, first_seen, last_seen
		FROM known_devices WHERE tenant_id = $1 AND user_id = $2 ORDER BY last_seen DESC, kind, hash`, tenantID, userID)
	if err != nil {
		return nil, fmt.Errorf("list known devices: %w", mapErr(err))
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.KnownDevice, error) {
		var d store.KnownDevice
		err := r.Scan(&d.TenantID, &d.UserID, &d.Kind, &d.Hash, tsOut(&d.FirstSeen), tsOut(&d.LastSeen))
		return d, err
	})
	if err != nil {
		return nil, fmt.Errorf("list known devices: %w", mapErr(err))
	}
	return out, nil
}

// RememberDevices implements store.MFAStore.
func (s *Store) RememberDevices(ctx context.Context, tenantID, userID string, marks []store.DeviceMark, now time.Time, maxPerKind int) error {
	err := s.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		kinds := map[string]bool{}
		for _, m := range marks {
			kinds[m.Kind] = true
			if _, err := tx.Exec(ctx, `INSERT INTO known_devices (tenant_id, user_id, kind, hash, first_seen, last_seen)
				VALUES ($1, $2, $3, $4, $5, $5)
				ON CONFLICT (tenant_id, user_id, kind, hash) DO UPDATE SET last_seen = excluded.last_seen`,
				tenantID, userID, m.Kind, m.Hash, ts(now)); err != nil {
				return err
			}
		}
		for k := range kinds {
			if maxPerKind <= 0 {
				break
			}
			if _, err := tx.Exec(ctx, `DELETE FROM known_devices WHERE (tenant_id, user_id, kind, hash) IN (
				SELECT tenant_id, user_id, kind, hash FROM known_devices
				WHERE tenant_id = $1 AND user_id = $2 AND kind = $3
				ORDER BY last_seen DESC, hash OFFSET $4)`, tenantID, userID, k, maxPerKind); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("remember devices: %w", mapMFAErr(err))
	}
	return nil
}
