package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/gatehouse-auth/gatehouse/internal/names"
	"github.com/gatehouse-auth/gatehouse/internal/store"
)

// goSteps are the parts of migrations that SQL cannot express; each runs in
// the migration's transaction, after its SQL file.
var goSteps = map[int]func(context.Context, pgx.Tx) error{
	8: rekeyNames,
}

func legacyReason(code int) string {
	if code == names.LegacyRefused {
		return store.LegacyRefused
	}
	return store.LegacyCollision
}

// rekeyNames moves every user to the comparison keys of package names and
// marks the users that cannot move (migration 0008).
func rekeyNames(ctx context.Context, tx pgx.Tx) error {
	rows, err := tx.Query(ctx, `SELECT tenant_id, id, username, username_lower, email, email_lower
		FROM users ORDER BY tenant_id, created_at, id`)
	if err != nil {
		return fmt.Errorf("read users: %w", err)
	}
	all, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (names.Stored, error) {
		var s names.Stored
		err := r.Scan(&s.Tenant, &s.ID, &s.Username, &s.Key, &s.Email, &s.EmailKey)
		return s, err
	})
	if err != nil {
		return fmt.Errorf("read users: %w", err)
	}
	for _, ch := range names.PlanRekey(all) {
		if _, err := tx.Exec(ctx, `UPDATE users SET username_lower = $1, username_legacy = $2, email_lower = $3
			WHERE tenant_id = $4 AND id = $5`, ch.Key, ch.Legacy, ch.EmailKey, ch.Tenant, ch.ID); err != nil {
			return fmt.Errorf("re-key user %s/%s: %w", ch.Tenant, ch.ID, err)
		}
	}
	return nil
}
