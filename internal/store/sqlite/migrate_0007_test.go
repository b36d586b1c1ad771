package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/store"
)

// TestMigrate0007_StepsGoToTheConfirmedFactor upgrades a database that has
// TOTP steps recorded per user: after 0007 a recorded step still refuses
// the user's confirmed factor, and no longer refuses another factor.
func TestMigrate0007_StepsGoToTheConfirmedFactor(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "gatehouse.db"), Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	ms, err := loadMigrations()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.write(ctx, func(c *sql.Conn) error {
		if _, err := c.ExecContext(ctx, `CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)`); err != nil {
			return err
		}
		for _, m := range ms {
			if m.version < 7 {
				if err := applyMigration(ctx, c, m); err != nil {
					return err
				}
			}
		}
		return nil
	}); err != nil {
		t.Fatalf("migrations before 0007: %v", err)
	}
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := s.CreateTenant(ctx, store.Tenant{ID: "t1", Name: "t1", CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateUser(ctx, store.User{TenantID: "t1", ID: "u1", Username: "alice", Status: store.StatusActive, CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	if err := s.PutPendingFactor(ctx, store.MFAFactor{TenantID: "t1", UserID: "u1", ID: "f1", Kind: store.FactorTOTP, SecretEnc: []byte("x"), CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ConfirmFactor(ctx, "t1", "u1", "f1", now, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.write(ctx, func(c *sql.Conn) error {
		_, err := c.ExecContext(ctx, `INSERT INTO mfa_totp_steps (tenant_id, user_id, step, used_at) VALUES ('t1', 'u1', 77, ?)`, now.UnixMicro())
		return err
	}); err != nil {
		t.Fatalf("step before 0007: %v", err)
	}
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	if err := s.UseTOTPStep(ctx, "t1", "u1", "f1", 77, now); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("step recorded before 0007, confirmed factor: %v, want ErrConflict", err)
	}
	if err := s.UseTOTPStep(ctx, "t1", "u1", "f2", 77, now); err != nil {
		t.Fatalf("step recorded before 0007, another factor: %v", err)
	}
}
