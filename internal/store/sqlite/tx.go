package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"strings"
)

// querier is what both the reader pool (*sql.DB) and the writer connection
// inside a transaction (*sql.Conn) offer, so lookups are written once.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// write runs fn inside one BEGIN IMMEDIATE transaction on the writer
// connection and commits when fn returns nil. BEGIN IMMEDIATE takes the
// database write lock up front (waiting up to the busy timeout), so a
// transaction never has to upgrade a read lock and two writers, even in two
// processes, cannot deadlock. Errors of fn are returned as they are.
func (s *Store) write(ctx context.Context, fn func(c *sql.Conn) error) error {
	if err := s.usable(); err != nil {
		return err
	}
	c, err := s.writer.Conn(ctx)
	if err != nil {
		return fmt.Errorf("writer connection: %w", mapErr(err))
	}
	defer c.Close()

	committed := false
	// Runs on every failure, including a failed BEGIN (which may still have
	// opened the transaction) and a panic in fn.
	defer func() {
		if !committed {
			rollback(c)
		}
	}()
	if _, err := c.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return fmt.Errorf("begin: %w", mapErr(err))
	}
	if err := fn(c); err != nil {
		return err
	}
	// COMMIT must not be cancelled half-way by the caller's context: the
	// work is done and the caller may already count on it.
	if _, err := c.ExecContext(context.WithoutCancel(ctx), "COMMIT"); err != nil {
		return fmt.Errorf("commit: %w", mapErr(err))
	}
	committed = true
	return nil
}

// rollback ends the open transaction of c, if any. When that fails the
// connection is discarded so that no later transaction inherits its state.
func rollback(c *sql.Conn) {
	_, err := c.ExecContext(context.Background(), "ROLLBACK")
	if err == nil || isNoTransaction(err) {
		return
	}
	_ = c.Raw(func(any) error { return driver.ErrBadConn })
}

// isNoTransaction reports the error of a ROLLBACK with no transaction open,
// which happens when SQLite already rolled back on its own (for example
// after an interrupted statement).
func isNoTransaction(err error) bool {
	return strings.Contains(err.Error(), "no transaction is active")
}
