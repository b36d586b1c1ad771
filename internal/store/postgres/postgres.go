// Package postgres is the PostgreSQL implementation of store.Store, for
// deployments that run several Gatehouse processes on one database. It uses
// a pgx connection pool; every call runs under a deadline, and every
// read-modify-write method is one transaction whose atomicity holds across
// processes.
package postgres

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.opentelemetry.io/otel/trace"

	"github.com/gatehouse-auth/gatehouse/internal/store"
)

// Default pool and timeout settings, used where Options leaves a field zero.
const (
	DefaultMaxConns     int32 = 10
	DefaultQueryTimeout       = 5 * time.Second
)

// Options tunes the connection pool. Zero fields take the defaults.
type Options struct {
	// MaxConns is the largest number of open connections (default 10).
	MaxConns int32
	// MinConns is the number of connections kept open when idle (default 0).
	MinConns int32
	// MaxConnLifetime closes connections older than this (default: pgxpool's, 1h).
	MaxConnLifetime time.Duration
	// MaxConnIdleTime closes connections idle longer than this (default: pgxpool's, 30m).
	MaxConnIdleTime time.Duration
	// QueryTimeout bounds every call of the store, connection included (default 5s).
	QueryTimeout time.Duration
	// TracerProvider, when set, makes every statement a span.
	TracerProvider trace.TracerProvider
}

// Store is a store.Store on PostgreSQL. It is safe for concurrent use.
type Store struct {
	pool    *pgxpool.Pool
	timeout time.Duration
	closed  atomic.Bool
}

var _ store.Store = (*Store)(nil)

// Open connects to the database named by dsn (a postgres:// URL or a
// key=value string) and checks that it answers. It does not migrate: call
// Migrate. An unreachable database yields an error wrapping
// store.ErrUnavailable.
func Open(ctx context.Context, dsn string, opts Options) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// The DSN may carry a password: never echo it.
		return nil, fmt.Errorf("open postgres: invalid connection string")
	}
	if opts.MaxConns <= 0 {
		opts.MaxConns = DefaultMaxConns
	}
	if opts.MinConns < 0 {
		opts.MinConns = 0
	}
	if opts.MinConns > opts.MaxConns {
		opts.MinConns = opts.MaxConns
	}
	if opts.QueryTimeout <= 0 {
		opts.QueryTimeout = DefaultQueryTimeout
	}
	cfg.MaxConns = opts.MaxConns
	if opts.TracerProvider != nil {
		cfg.ConnConfig.Tracer = newQueryTracer(opts.TracerProvider)
	}
	cfg.MinConns = opts.MinConns
	if opts.MaxConnLifetime > 0 {
		cfg.MaxConnLifetime = opts.MaxConnLifetime
	}
	if opts.MaxConnIdleTime > 0 {
		cfg.MaxConnIdleTime = opts.MaxConnIdleTime
	}
	// A connection attempt must not outlive a call's deadline, and a server
	// that accepts TCP but never answers must not hang the pool.
	if cfg.ConnConfig.ConnectTimeout <= 0 || cfg.ConnConfig.ConnectTimeout > opts.QueryTimeout {
		cfg.ConnConfig.ConnectTimeout = opts.QueryTimeout
	}
	cfg.ConnConfig.RuntimeParams["timezone"] = "UTC"

	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", mapErr(err))
	}
	s := &Store{pool: pool, timeout: opts.QueryTimeout}
	if err := s.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	return s, nil
}

// Kind reports "postgres".
func (s *Store) Kind() string { return "postgres" }

// Ping reports whether the database answers within the query timeout.
func (s *Store) Ping(ctx context.Context) error {
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return fmt.Errorf("ping: %w", err)
	}
	defer cancel()
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("ping: %w", mapErr(err))
	}
	return nil
}

// Close releases every connection. Calls after Close fail with
// store.ErrUnavailable.
func (s *Store) Close() error {
	if s.closed.CompareAndSwap(false, true) {
		s.pool.Close()
	}
	return nil
}

// begin gives a call its deadline, or refuses it once the store is closed.
func (s *Store) begin(ctx context.Context) (context.Context, context.CancelFunc, error) {
	if s.closed.Load() {
		return nil, nil, fmt.Errorf("store closed: %w", store.ErrUnavailable)
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	return ctx, cancel, nil
}
