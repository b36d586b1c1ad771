package sqlite

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/store"
)

func TestOpenCreatesPrivateDirectoryAndFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data", "nested")
	s := openMigrated(t, filepath.Join(dir, "gatehouse.db"))
	if err := s.Ping(context.Background()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	for path, want := range map[string]os.FileMode{dir: 0o700, filepath.Join(dir, "gatehouse.db"): 0o600} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != want {
			t.Errorf("%s mode = %v, want %v", path, got, want)
		}
	}
}

func TestOpenOptions(t *testing.T) {
	dir := t.TempDir()
	for _, o := range []Options{{Synchronous: "sometimes"}, {BusyTimeout: -time.Second}} {
		if s, err := Open(context.Background(), filepath.Join(dir, "x.db"), o); err == nil {
			_ = s.Close()
			t.Errorf("Open(%+v) succeeded, want an error", o)
		}
	}
	s, err := Open(context.Background(), filepath.Join(dir, "full.db"), Options{Synchronous: "full", BusyTimeout: time.Second})
	if err != nil {
		t.Fatalf("Open FULL: %v", err)
	}
	defer s.Close()
	var syncLevel, timeout int
	var mode string
	c, err := s.writer.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.QueryRowContext(context.Background(), "PRAGMA synchronous").Scan(&syncLevel); err != nil {
		t.Fatal(err)
	}
	if err := c.QueryRowContext(context.Background(), "PRAGMA busy_timeout").Scan(&timeout); err != nil {
		t.Fatal(err)
	}
	if err := c.QueryRowContext(context.Background(), "PRAGMA journal_mode").Scan(&mode); err != nil {
		t.Fatal(err)
	}
	if syncLevel != 2 || timeout != 1000 || mode != "wal" {
		t.Errorf("writer pragmas: synchronous=%d busy_timeout=%d journal_mode=%s; want 2, 1000, wal", syncLevel, timeout, mode)
	}
	var fk, queryOnly int
	if err := s.reader.QueryRowContext(context.Background(), "PRAGMA foreign_keys").Scan(&fk); err != nil {
		t.Fatal(err)
	}
	if err := s.reader.QueryRowContext(context.Background(), "PRAGMA query_only").Scan(&queryOnly); err != nil {
		t.Fatal(err)
	}
	if fk != 1 || queryOnly != 1 {
		t.Errorf("reader pragmas: foreign_keys=%d query_only=%d; want 1, 1", fk, queryOnly)
	}
}

// TestMigrateConcurrently migrates one new file from two handles at once,
// as two processes starting together would.
func TestMigrateConcurrently(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gatehouse.db")
	var stores [2]*Store
	for i := range stores {
		s, err := Open(context.Background(), path, Options{})
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		t.Cleanup(func() { _ = s.Close() })
		stores[i] = s
	}
	var wg sync.WaitGroup
	errs := make([]error, len(stores))
	for i, s := range stores {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = s.Migrate(context.Background())
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("Migrate %d: %v", i, err)
		}
	}
	ms, err := loadMigrations()
	if err != nil {
		t.Fatal(err)
	}
	var rows, maxVersion int
	err = stores[0].reader.QueryRowContext(context.Background(),
		`SELECT COUNT(*), MAX(version) FROM schema_migrations`).Scan(&rows, &maxVersion)
	if err != nil {
		t.Fatalf("read schema_migrations: %v", err)
	}
	if rows != len(ms) || maxVersion != ms[len(ms)-1].version {
		t.Errorf("schema_migrations has %d rows up to %d, want %d up to %d", rows, maxVersion, len(ms), ms[len(ms)-1].version)
	}
	if err := stores[1].CreateTenant(context.Background(), store.Tenant{ID: "t1", Name: "T"}); err != nil {
		t.Errorf("CreateTenant after concurrent migration: %v", err)
	}
}
