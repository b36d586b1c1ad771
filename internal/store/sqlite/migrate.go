package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"
)

// migrationFiles holds the numbered schema migrations. A migration is never
// edited once released; changes come as a new file.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

// migration is one numbered SQL file.
type migration struct {
	version int
	name    string
	sql     string
}

// Migrate implements store.Store. Each pending migration runs in its own
// write transaction together with its schema_migrations row, so a crash
// leaves no half-applied migration and two processes migrating at once
// apply each migration exactly once.
func (s *Store) Migrate(ctx context.Context) error { return s.migrateTo(ctx, 1<<30) }

// migrateTo applies the pending migrations up to version last; tests use it
// to build a database as an older release left it.
func (s *Store) migrateTo(ctx context.Context, last int) error {
	ms, err := loadMigrations()
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	err = s.write(ctx, func(c *sql.Conn) error {
		_, err := c.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version    INTEGER PRIMARY KEY,
			applied_at INTEGER NOT NULL
		)`)
		return err
	})
	if err != nil {
		return wrap("migrate: create schema_migrations", err)
	}
	for _, m := range ms {
		if m.version > last {
			break
		}
		if err := s.write(ctx, func(c *sql.Conn) error { return applyMigration(ctx, c, m) }); err != nil {
			return wrap("migrate "+m.name, err)
		}
	}
	return nil
}

// applyMigration runs m unless it is already recorded. It runs inside the
// write transaction, so the check and the change cannot interleave with
// another process.
func applyMigration(ctx context.Context, c *sql.Conn, m migration) error {
	var one int
	err := c.QueryRowContext(ctx, `SELECT 1 FROM schema_migrations WHERE version = ?`, m.version).Scan(&one)
	switch {
	case err == nil:
		return nil
	case !errors.Is(err, sql.ErrNoRows):
		return err
	}
	if _, err := c.ExecContext(ctx, m.sql); err != nil {
		return err
	}
	if step := goSteps[m.version]; step != nil {
		if err := step(ctx, c); err != nil {
			return err
		}
	}
	_, err = c.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`,
		m.version, time.Now().UnixMicro())
	return err
}

// loadMigrations reads the embedded files in version order. File names are
// NNNN_description.sql.
func loadMigrations() ([]migration, error) {
	entries, err := fs.ReadDir(migrationFiles, "migrations")
	if err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}
	var ms []migration
	seen := map[int]string{}
	for _, e := range entries {
		name := e.Name()
		num, _, ok := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %q: name must start with a positive number and '_'", name)
		}
		if prev, dup := seen[v]; dup {
			return nil, fmt.Errorf("migrations %q and %q share version %d", prev, name, v)
		}
		seen[v] = name
		b, err := migrationFiles.ReadFile(path.Join("migrations", name))
		if err != nil {
			return nil, fmt.Errorf("read migration %q: %w", name, err)
		}
		ms = append(ms, migration{version: v, name: name, sql: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	return ms, nil
}
