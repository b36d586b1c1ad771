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
func (s *Store) write(ctx context.Context, fn func(c *sql.Conn) error) (err error) {
	if err := s.usable(); err != nil {
		return err
	}
	c, err := s.writer.Conn(ctx)
	if err != nil {
		return fmt.Errorf("writer connection: %w", mapErr(err))
	}
	defer c.Close()

	if _, err := c.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		// A failed BEGIN may still leave a transaction open (for example when
		// the context ends while the statement runs): make sure it is gone.
		rollback(c)
		return fmt.Errorf("begin: %w", mapErr(err))
	}
	done := false
	defer func() {
		if !done {
			rollback(c) // fn panicked
		}
	}()

	if err := fn(c); err != nil {
		done = true
		rollback(c)
		return err
	}
	done = true
	// COMMIT must not be cancelled half-way by the caller's context: the
	// work is done and the caller may already count on it.
	if _, err := c.ExecContext(context.WithoutCancel(ctx), "COMMIT"); err != nil {
		rollback(c)
		return fmt.Errorf("commit: %w", mapErr(err))
	}
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
