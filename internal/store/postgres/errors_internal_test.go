package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/gatehouse-auth/gatehouse/internal/store"
)

func TestMapErr(t *testing.T) {
	pgErr := func(code string) error { return fmt.Errorf("exec: %w", &pgconn.PgError{Code: code}) }
	cases := []struct {
		name string
		err  error
		want error // nil: none of the store's sentinels
	}{
		{"no rows", pgx.ErrNoRows, store.ErrNotFound},
		{"unique violation", pgErr("23505"), store.ErrConflict},
		{"admin shutdown", pgErr("57P01"), store.ErrUnavailable},
		{"crash shutdown", pgErr("57P02"), store.ErrUnavailable},
		{"cannot connect now", pgErr("57P03"), store.ErrUnavailable},
		{"connection failure", pgErr("08006"), store.ErrUnavailable},
		{"too many connections", pgErr("53300"), store.ErrUnavailable},
		{"deadline", fmt.Errorf("query: %w", context.DeadlineExceeded), store.ErrUnavailable},
		{"broken socket", fmt.Errorf("read: %w", io.ErrUnexpectedEOF), store.ErrUnavailable},
		{"conn closed", fmt.Errorf("acquire: %w", pgconn.ErrConnClosed), store.ErrUnavailable},
		{"NUL in text", pgErr("22021"), store.ErrInvalid},
		{"NUL in jsonb", pgErr("22P05"), store.ErrInvalid},
		{"syntax error", pgErr("42601"), nil},
		{"check violation", pgErr("23514"), nil},
	}
	sentinels := []error{store.ErrNotFound, store.ErrConflict, store.ErrUnavailable, store.ErrInvalid}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := mapErr(tc.err)
			for _, s := range sentinels {
				if errors.Is(got, s) != (s == tc.want) {
					t.Errorf("mapErr(%v) = %v: errors.Is(%v) = %v", tc.err, got, s, errors.Is(got, s))
				}
			}
			var pe *pgconn.PgError
			if errors.As(tc.err, &pe) && !errors.As(got, &pe) {
				t.Errorf("mapErr(%v) lost the PgError", tc.err)
			}
		})
	}
	if mapErr(nil) != nil {
		t.Error("mapErr(nil) != nil")
	}
}
