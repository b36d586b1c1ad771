package postgres

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgtype"
)

// scanner is what pgx.Row and pgx.Rows have in common.
type scanner interface {
	Scan(dest ...any) error
}

// ts prepares a time for a timestamptz column: UTC, whole microseconds
// (the column's precision), and NULL for the zero time.
func ts(t time.Time) pgtype.Timestamptz {
	if t.IsZero() {
		return pgtype.Timestamptz{}
	}
	return pgtype.Timestamptz{Time: t.UTC().Truncate(time.Microsecond), Valid: true}
}

// tsDest scans a timestamptz column into a time.Time: NULL becomes the zero
// time, anything else UTC.
type tsDest struct{ t *time.Time }

// tsOut returns a scan destination for a nullable timestamptz column.
func tsOut(t *time.Time) tsDest { return tsDest{t: t} }

// ScanTimestamptz implements pgtype.TimestamptzScanner.
func (d tsDest) ScanTimestamptz(v pgtype.Timestamptz) error {
	if !v.Valid || v.InfinityModifier != pgtype.Finite {
		*d.t = time.Time{}
		return nil
	}
	*d.t = v.Time.UTC()
	return nil
}

// jsonIn encodes v for a jsonb column. nil slices and maps become the JSON
// null so that they decode back to nil.
func jsonIn(v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("encode json: %w", err)
	}
	return string(b), nil
}

// jsonOut decodes a jsonb column into v.
func jsonOut(b []byte, v any) error {
	if len(b) == 0 {
		return nil
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("decode json: %w", err)
	}
	return nil
}

// cols joins column names, each qualified with alias when alias is set.
func cols(alias string, names []string) string {
	if alias == "" {
		return strings.Join(names, ", ")
	}
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = alias + "." + n
	}
	return strings.Join(q, ", ")
}
