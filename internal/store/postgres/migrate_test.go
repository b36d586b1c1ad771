package postgres_test

import (
	"context"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/gatehouse-auth/gatehouse/internal/store/postgres"
	"github.com/gatehouse-auth/gatehouse/internal/store/postgres/pgtest"
)

// TestMigrate_ConcurrentProcesses runs Migrate from several pools at once
// on an empty database, as processes starting together would: every call
// succeeds, each migration is applied once, and Migrate stays idempotent.
func TestMigrate_ConcurrentProcesses(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.NewDatabase(t)
	const procs = 4
	stores := make([]*postgres.Store, procs)
	for i := range stores {
		s, err := postgres.Open(ctx, dsn, postgres.Options{MaxConns: 2})
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		t.Cleanup(func() { _ = s.Close() })
		stores[i] = s
	}
	errs := make([]error, procs)
	var wg sync.WaitGroup
	for i, s := range stores {
		wg.Go(func() { errs[i] = s.Migrate(ctx) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("Migrate %d: %v", i, err)
		}
	}
	if err := stores[0].Migrate(ctx); err != nil {
		t.Fatalf("second Migrate: %v", err)
	}

	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer conn.Close(ctx)
	var rows, distinct, lowest int
	err = conn.QueryRow(ctx, `SELECT count(*), count(DISTINCT version), min(version) FROM schema_migrations`).
		Scan(&rows, &distinct, &lowest)
	if err != nil {
		t.Fatalf("read schema_migrations: %v", err)
	}
	if rows == 0 || rows != distinct || lowest != 1 {
		t.Errorf("schema_migrations: %d rows, %d versions, lowest %d; want each version once from 1", rows, distinct, lowest)
	}
}
