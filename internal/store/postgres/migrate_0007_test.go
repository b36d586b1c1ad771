package postgres_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gatehouse-auth/gatehouse/internal/store"
	"github.com/gatehouse-auth/gatehouse/internal/store/postgres"
	"github.com/gatehouse-auth/gatehouse/internal/store/postgres/pgtest"
)

// TestMigrate0007_StepsGoToTheConfirmedFactor upgrades a database that has
// TOTP steps recorded per user: after 0007 a recorded step still refuses
// the user's confirmed factor, and no longer refuses another factor.
func TestMigrate0007_StepsGoToTheConfirmedFactor(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.NewDatabase(t)
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer conn.Close(ctx)
	files, err := filepath.Glob("migrations/*.sql")
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(files)
	if _, err := conn.Exec(ctx, `CREATE TABLE schema_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		v, err := strconv.Atoi(strings.SplitN(filepath.Base(f), "_", 2)[0])
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if v >= 7 {
			continue
		}
		sqlText, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := conn.Exec(ctx, string(sqlText)); err != nil {
			t.Fatalf("apply %s: %v", f, err)
		}
		if _, err := conn.Exec(ctx, `INSERT INTO schema_migrations (version) VALUES ($1)`, v); err != nil {
			t.Fatal(err)
		}
	}
	s, err := postgres.Open(ctx, dsn, postgres.Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
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
	if _, err := conn.Exec(ctx, `INSERT INTO mfa_totp_steps (tenant_id, user_id, step, used_at) VALUES ('t1', 'u1', 77, $1)`, now); err != nil {
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
