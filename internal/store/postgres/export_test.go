package postgres

import "context"

// MigrateTo exposes migrateTo to the external tests.
func (s *Store) MigrateTo(ctx context.Context, last int) error { return s.migrateTo(ctx, last) }

// ExecForTest runs one statement on the pool, for tests that build a
// database as an older release left it.
func (s *Store) ExecForTest(ctx context.Context, sql string, args ...any) error {
	_, err := s.pool.Exec(ctx, sql, args...)
	return err
}
