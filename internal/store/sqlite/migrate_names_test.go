package sqlite

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/store/storetest"
)

// TestMigrate0008_KeepsCollidingUsernames builds a database as the release
// before usernames were compared by RFC 8265 left it, with users whose
// names become equal once prepared, and migrates it.
func TestMigrate0008_KeepsCollidingUsernames(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "old.db"), Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	if err := s.migrateTo(ctx, 7); err != nil {
		t.Fatalf("migrate to 7: %v", err)
	}
	err = s.write(ctx, func(c *sql.Conn) error {
		if _, err := c.ExecContext(ctx, `INSERT INTO tenants (id, name, created_at) VALUES ('t1', 't1', 0), ('t2', 't2', 0)`); err != nil {
			return err
		}
		for i, u := range storetest.LegacyNames {
			if _, err := c.ExecContext(ctx, `INSERT INTO users (tenant_id, id, username, username_lower, email, email_lower,
				status, created_at, updated_at) VALUES ('t1', ?, ?, ?, ?, ?, 'active', ?, ?)`,
				u.ID, u.Username, u.OldKey, u.Email, u.OldEmailKey, i+1, i+1); err != nil {
				return err
			}
		}
		_, err := c.ExecContext(ctx, `INSERT INTO providers (tenant_id, name, issuer, audiences_json, algorithms_json, created_at, updated_at)
			VALUES ('t1', 'p1', 'https://idp.example', '["a"]', '["RS256"]', 1, 1),
			       ('t1', 'p2', 'https://idp.example', '["b"]', '["RS256"]', 2, 2)`)
		return err
	})
	if err != nil {
		t.Fatalf("seed: %v", err)
	}
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	storetest.CheckNameMigration(t, s)
}
