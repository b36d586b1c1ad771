// Package pgtest gives tests a PostgreSQL database of their own on the
// server named by GATEHOUSE_TEST_POSTGRES_DSN, which scripts/test.sh starts
// and exports. Without it, tests skip on a developer's machine and fail in
// CI, so that PostgreSQL tests never silently stop running there.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gatehouse-auth/gatehouse/internal/store/postgres"
)

// EnvDSN names the environment variable holding a superuser DSN of an
// existing database, e.g. postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable.
const EnvDSN = "GATEHOUSE_TEST_POSTGRES_DSN"

// adminTimeout bounds creating or dropping a test database.
const adminTimeout = 60 * time.Second

// DSN returns the superuser DSN from GATEHOUSE_TEST_POSTGRES_DSN. When it is
// empty the test fails if CI is set and is skipped otherwise.
func DSN(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv(EnvDSN)
	if dsn != "" {
		return dsn
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("%s is not set: PostgreSQL tests must run in CI (run ./scripts/test.sh)", EnvDSN)
	}
	t.Skipf("%s is not set: run ./scripts/test.sh to test against a throwaway PostgreSQL", EnvDSN)
	return ""
}

// NewDatabase creates a new empty database gh_test_<random> and returns its
// DSN; the database is dropped when the test ends.
func NewDatabase(t testing.TB) string {
	t.Helper()
	admin := DSN(t)
	b := make([]byte, 8)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	name := "gh_test_" + hex.EncodeToString(b)
	ident := pgx.Identifier{name}.Sanitize()

	ctx, cancel := context.WithTimeout(context.Background(), adminTimeout)
	defer cancel()
	if err := adminExec(ctx, admin, "CREATE DATABASE "+ident); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), adminTimeout)
		defer cancel()
		if err := adminExec(ctx, admin, "DROP DATABASE IF EXISTS "+ident+" WITH (FORCE)"); err != nil {
			t.Errorf("drop test database: %v", err)
		}
	})
	dsn, err := withDatabase(admin, name)
	if err != nil {
		t.Fatalf("test database DSN: %v", err)
	}
	return dsn
}

// NewStore opens a migrated store on a new database (see NewDatabase) and
// closes it when the test ends.
func NewStore(t testing.TB) *postgres.Store {
	t.Helper()
	dsn := NewDatabase(t)
	ctx, cancel := context.WithTimeout(context.Background(), adminTimeout)
	defer cancel()
	s, err := postgres.Open(ctx, dsn, postgres.Options{})
	if err != nil {
		t.Fatalf("open test store: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("migrate test store: %v", err)
	}
	return s
}

func adminExec(ctx context.Context, dsn, sql string) error {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	_, err = conn.Exec(ctx, sql)
	return err
}

// withDatabase returns dsn naming database name instead of its own, in
// either DSN form (URL or key=value).
func withDatabase(dsn, name string) (string, error) {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return "", err
		}
		u.Path = "/" + name
		u.RawPath = ""
		return u.String(), nil
	}
	// In the key=value form a later key overrides an earlier one.
	return dsn + " dbname=" + name, nil
}
