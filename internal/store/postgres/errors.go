package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/gatehouse-auth/gatehouse/internal/store"
)

// SQLSTATE codes the store reacts to.
const (
	codeUniqueViolation      = "23505"
	codeSerializationFailure = "40001"
	codeDeadlockDetected     = "40P01"
	// A NUL byte in text (22021) or a \u0000 escape in jsonb (22P05).
	codeCharacterNotInRepertoire = "22021"
	codeUntranslatableCharacter  = "22P05"
)

// mapErr translates a pgx error into the store's sentinel errors, keeping
// the original in the chain: errors.Is works for both.
func mapErr(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrUnavailable) ||
		errors.Is(err, store.ErrInvalid) {
		return err
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return store.ErrNotFound
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch {
		case pgErr.Code == codeUniqueViolation:
			return fmt.Errorf("%w: %w", store.ErrConflict, err)
		case pgErr.Code == codeCharacterNotInRepertoire || pgErr.Code == codeUntranslatableCharacter:
			return fmt.Errorf("%w: %w", store.ErrInvalid, err)
		case unavailableCode(pgErr.Code):
			return fmt.Errorf("%w: %w", store.ErrUnavailable, err)
		}
		return err
	}
	if unreachable(err) {
		return fmt.Errorf("%w: %w", store.ErrUnavailable, err)
	}
	return err
}

// unavailableCode reports SQLSTATEs that mean the server cannot serve now:
// connection exceptions (08), insufficient resources (53), operator
// intervention such as admin or crash shutdown (57P01..57P05) and query
// cancellation by a statement timeout (57014).
func unavailableCode(code string) bool {
	return strings.HasPrefix(code, "08") || strings.HasPrefix(code, "53") ||
		strings.HasPrefix(code, "57P") || code == "57014"
}

// unreachable reports errors of the connection itself rather than of a
// statement: refused or failed connects, timeouts, broken sockets.
func unreachable(err error) bool {
	var connectErr *pgconn.ConnectError
	var netErr net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded), pgconn.Timeout(err):
		return true
	case errors.As(err, &connectErr), errors.As(err, &netErr):
		return true
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed):
		return true
	case errors.Is(err, pgconn.ErrConnClosed):
		return true
	}
	return false
}

// retryable reports errors after which the whole transaction may simply be
// run again: a deadlock or serialization failure chosen by the server.
func retryable(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == codeDeadlockDetected || pgErr.Code == codeSerializationFailure
	}
	return false
}

// isCode reports whether err is a PostgreSQL error with SQLSTATE code.
func isCode(err error, code string) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == code
}
