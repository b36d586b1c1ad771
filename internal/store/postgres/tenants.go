package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/gatehouse-auth/gatehouse/internal/store"
)

// CreateTenant inserts t; store.ErrConflict when its id exists.
func (s *Store) CreateTenant(ctx context.Context, t store.Tenant) error {
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return fmt.Errorf("create tenant: %w", err)
	}
	defer cancel()
	_, err = s.pool.Exec(ctx, `INSERT INTO tenants (id, name, created_at) VALUES ($1, $2, $3)`,
		t.ID, t.Name, ts(t.CreatedAt))
	if err != nil {
		return fmt.Errorf("create tenant: %w", mapErr(err))
	}
	return nil
}

// GetTenant returns the tenant id; store.ErrNotFound when there is none.
func (s *Store) GetTenant(ctx context.Context, id string) (store.Tenant, error) {
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return store.Tenant{}, fmt.Errorf("get tenant: %w", err)
	}
	defer cancel()
	t, err := scanTenant(s.pool.QueryRow(ctx, `SELECT id, name, created_at FROM tenants WHERE id = $1`, id))
	if err != nil {
		return store.Tenant{}, fmt.Errorf("get tenant: %w", mapErr(err))
	}
	return t, nil
}

// ListTenants returns every tenant ordered by id.
func (s *Store) ListTenants(ctx context.Context) ([]store.Tenant, error) {
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("list tenants: %w", err)
	}
	defer cancel()
	rows, err := s.pool.Query(ctx, `SELECT id, name, created_at FROM tenants ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("list tenants: %w", mapErr(err))
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Tenant, error) { return scanTenant(r) })
	if err != nil {
		return nil, fmt.Errorf("list tenants: %w", mapErr(err))
	}
	return out, nil
}

func scanTenant(row scanner) (store.Tenant, error) {
	var t store.Tenant
	err := row.Scan(&t.ID, &t.Name, tsOut(&t.CreatedAt))
	return t, err
}
