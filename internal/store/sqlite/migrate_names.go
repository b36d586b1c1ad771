package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/gatehouse-auth/gatehouse/internal/names"
	"github.com/gatehouse-auth/gatehouse/internal/store"
)

// goSteps are the parts of migrations that SQL cannot express; each runs in
// the migration's transaction, after its SQL file.
var goSteps = map[int]func(context.Context, *sql.Conn) error{
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
func rekeyNames(ctx context.Context, c *sql.Conn) error {
	rows, err := c.QueryContext(ctx, `SELECT tenant_id, id, username, username_lower, email, email_lower
		FROM users ORDER BY tenant_id, created_at, id`)
	if err != nil {
		return fmt.Errorf("read users: %w", err)
	}
	var all []names.Stored
	for rows.Next() {
		var r names.Stored
		if err := rows.Scan(&r.Tenant, &r.ID, &r.Username, &r.Key, &r.Email, &r.EmailKey); err != nil {
			rows.Close()
			return fmt.Errorf("read users: %w", err)
		}
		all = append(all, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read users: %w", err)
	}
	for _, ch := range names.PlanRekey(all) {
		if _, err := c.ExecContext(ctx, `UPDATE users SET username_lower = ?, username_legacy = ?, email_lower = ?
			WHERE tenant_id = ? AND id = ?`, ch.Key, ch.Legacy, ch.EmailKey, ch.Tenant, ch.ID); err != nil {
			return fmt.Errorf("re-key user %s/%s: %w", ch.Tenant, ch.ID, err)
		}
	}
	return nil
}
