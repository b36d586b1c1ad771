package server

import (
	"context"
	"fmt"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/config"
	"github.com/gatehouse-auth/gatehouse/internal/store"
	"github.com/gatehouse-auth/gatehouse/internal/store/postgres"
	"github.com/gatehouse-auth/gatehouse/internal/store/sqlite"
	"github.com/gatehouse-auth/gatehouse/internal/store/storetrace"
	"go.opentelemetry.io/otel/trace"
)

// OpenStore opens the store that cfg.DB names and applies the migrations.
func OpenStore(ctx context.Context, cfg config.Config) (store.Store, error) {
	return openStore(ctx, cfg, nil)
}

// openStore is OpenStore with tracing when tp is not nil: every store call
// is a span (storetrace) and, on PostgreSQL, every statement too.
func openStore(ctx context.Context, cfg config.Config, tp trace.TracerProvider) (store.Store, error) {
	var st store.Store
	switch cfg.DBKind() {
	case "sqlite":
		s, err := sqlite.Open(ctx, cfg.SQLitePath(), sqlite.Options{Synchronous: cfg.SQLiteSynchronous})
		if err != nil {
			return nil, fmt.Errorf("database %s: %w (check GATEHOUSE_DB)", cfg.DBLocation(), err)
		}
		st = s
	default:
		s, err := postgres.Open(ctx, cfg.DB, postgres.Options{
			MaxConns:        int32(cfg.DBMaxConns),
			MinConns:        int32(cfg.DBMinConns),
			MaxConnLifetime: cfg.DBMaxConnLifetime,
			MaxConnIdleTime: cfg.DBMaxConnIdleTime,
			QueryTimeout:    cfg.DBTimeout,
			TracerProvider:  tp,
		})
		if err != nil {
			return nil, fmt.Errorf("database %s: %w (check GATEHOUSE_DB and that PostgreSQL is running)", cfg.DBLocation(), err)
		}
		st = s
	}
	mctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if err := st.Migrate(mctx); err != nil {
		st.Close()
		return nil, fmt.Errorf("database %s: apply migrations: %w", cfg.DBLocation(), err)
	}
	if tp != nil {
		st = storetrace.Wrap(st, tp)
	}
	return st, nil
}
