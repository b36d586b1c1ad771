package sqlite

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"
)

// micros encodes t as unix microseconds, or NULL for the zero time.
func micros(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMicro()
}

// timeCol scans a unix-microsecond column into a UTC time; NULL and 0
// decode to the zero time.
type timeCol struct{ dst *time.Time }

// Scan implements sql.Scanner.
func (c timeCol) Scan(v any) error {
	switch x := v.(type) {
	case nil:
		*c.dst = time.Time{}
	case int64:
		if x == 0 {
			*c.dst = time.Time{}
		} else {
			*c.dst = time.UnixMicro(x).UTC()
		}
	default:
		return fmt.Errorf("time column: unexpected %T", v)
	}
	return nil
}

// jsonText encodes v as JSON text; nil slices and maps become "null" so
// that they decode back to nil.
func jsonText(v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("encode json: %w", err)
	}
	return string(b), nil
}

// jsonCol scans a JSON TEXT column into dst (a pointer).
type jsonCol struct{ dst any }

// Scan implements sql.Scanner.
func (c jsonCol) Scan(v any) error {
	var b []byte
	switch x := v.(type) {
	case nil:
		return nil
	case string:
		b = []byte(x)
	case []byte:
		b = x
	default:
		return fmt.Errorf("json column: unexpected %T", v)
	}
	if err := json.Unmarshal(b, c.dst); err != nil {
		return fmt.Errorf("json column: %w", err)
	}
	return nil
}

// newID returns a random 128-bit identifier in hex.
func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	return hex.EncodeToString(b[:])
}

// clampLimit applies a default and a maximum to a caller's page size.
func clampLimit(n, def, maximum int) int {
	switch {
	case n <= 0:
		return def
	case n > maximum:
		return maximum
	}
	return n
}

// collect scans every row of a query with scan, closes the rows and wraps
// any error with what. It takes the query's own results, so a call site is
// `rows, err := …QueryContext(…); return collect(rows, err, "…", scanX)`.
func collect[T any](rows *sql.Rows, err error, what string, scan func(scanner) (T, error)) ([]T, error) {
	if err != nil {
		return nil, wrap(what, err)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, wrap(what, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap(what, err)
	}
	return out, nil
}

// execOne runs a write that must change at least one row and answers none
// (store.ErrNotFound for a missing record, store.ErrConflict for a
// one-time use already spent) when it changed nothing.
func execOne(ctx context.Context, c *sql.Conn, none error, query string, args ...any) error {
	res, err := c.ExecContext(ctx, query, args...)
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return none
	}
	return nil
}
