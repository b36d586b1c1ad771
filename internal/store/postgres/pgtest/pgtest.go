// Package pgtest gives tests a PostgreSQL database of their own on the
// server named by GATEHOUSE_TEST_POSTGRES_DSN, which scripts/test.sh starts
// and exports. Without it, tests skip on a developer's machine and fail in
// CI, so that PostgreSQL tests never silently stop running there.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

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

// sharedDB is the database that holds every test's schema.
const sharedDB = "gh_tests"

var sharedOnce sync.Once

// NewDatabase gives the test an empty database of its own and returns its
// DSN. To keep the suite fast it is a fresh schema gh_test_<random> in the
// shared database gh_tests, selected with search_path in the DSN (creating
// and dropping a schema takes milliseconds; a database takes seconds). The
// schema is dropped when the test ends.
func NewDatabase(t testing.TB) string {
	t.Helper()
	admin := DSN(t)
	b := make([]byte, 8)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	name := "gh_test_" + hex.EncodeToString(b)
	ident := pgx.Identifier{name}.Sanitize()

	ctx, cancel := context.WithTimeout(context.Background(), adminTimeout)
	defer cancel()
	var sharedErr error
	sharedOnce.Do(func() {
		err := adminExec(ctx, admin, "CREATE DATABASE "+pgx.Identifier{sharedDB}.Sanitize())
		var pgErr *pgconn.PgError
		if err != nil && !(errors.As(err, &pgErr) && (pgErr.Code == "42P04" || pgErr.Code == "23505")) {
			sharedErr = err // 42P04: it exists already (another test binary made it)
		}
	})
	if sharedErr != nil {
		t.Fatalf("create the shared test database: %v", sharedErr)
	}
	db, err := withDatabase(admin, sharedDB)
	if err != nil {
		t.Fatalf("test database DSN: %v", err)
	}
	if err := adminExec(ctx, db, "CREATE SCHEMA "+ident); err != nil {
		t.Fatalf("create test schema: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), adminTimeout)
		defer cancel()
		if err := adminExec(ctx, db, "DROP SCHEMA IF EXISTS "+ident+" CASCADE"); err != nil {
			t.Errorf("drop test schema: %v", err)
		}
	})
	dsn, err := withSearchPath(db, name)
	if err != nil {
		t.Fatalf("test database DSN: %v", err)
	}
	return dsn
}

// withSearchPath returns dsn with search_path set to schema. The schema is
// also the connections' application_name, so that a test can find (and
// terminate) its own connections without touching other tests' ones.
func withSearchPath(dsn, schema string) (string, error) {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return "", err
		}
		q := u.Query()
		q.Set("search_path", schema)
		q.Set("application_name", schema)
		u.RawQuery = q.Encode()
		return u.String(), nil
	}
	return dsn + " search_path=" + schema + " application_name=" + schema, nil
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
