package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// maxAttempts bounds how often a transaction is run again after the server
// chose it as a deadlock victim or a serialization failure.
const maxAttempts = 3

// rollbackTimeout bounds a rollback, which runs even after the call's own
// deadline has passed.
const rollbackTimeout = 2 * time.Second

// errRetry asks inTx to roll back and run the transaction again: the
// transaction saw a concurrent change that makes its work invalid.
var errRetry = errors.New("postgres: retry transaction")

// inTx runs fn in one READ COMMITTED transaction under the call's deadline
// and commits when fn returns nil. An error from fn is returned as it is, so
// that callers can pass errors through unchanged; deadlocks and
// serialization failures run fn again in a new transaction.
func (s *Store) inTx(ctx context.Context, fn func(ctx context.Context, tx pgx.Tx) error) error {
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return err
	}
	defer cancel()
	for attempt := 1; ; attempt++ {
		err = s.runTx(ctx, fn)
		if err == nil {
			return nil
		}
		if attempt >= maxAttempts || ctx.Err() != nil || (!retryable(err) && !errors.Is(err, errRetry)) {
			return err
		}
	}
}

func (s *Store) runTx(ctx context.Context, fn func(ctx context.Context, tx pgx.Tx) error) (err error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			// The rollback's own error adds nothing: a failed transaction
			// is discarded by the server as the connection returns.
			rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), rollbackTimeout)
			_ = tx.Rollback(rctx)
			rcancel()
		}
	}()
	if err = fn(ctx, tx); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// querier is what pgxpool.Pool and pgx.Tx have in common.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}
