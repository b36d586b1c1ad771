package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/gatehouse-auth/gatehouse/internal/store"
)

// providerColumns are the columns of store.Provider in scanProvider's order.
var providerColumns = []string{"tenant_id", "name", "issuer", "audiences", "jwks_uri", "algorithms",
	"auto_provision", "link_by_email", "created_at", "updated_at"}

// providerArgs are the values of p for providerColumns.
func providerArgs(p store.Provider) ([]any, error) {
	auds, err := jsonIn(p.Audiences)
	if err != nil {
		return nil, fmt.Errorf("audiences: %w", err)
	}
	algs, err := jsonIn(p.Algorithms)
	if err != nil {
		return nil, fmt.Errorf("algorithms: %w", err)
	}
	return []any{p.TenantID, p.Name, p.Issuer, auds, p.JWKSURI, algs,
		p.AutoProvision, p.LinkByEmail, ts(p.CreatedAt), ts(p.UpdatedAt)}, nil
}

func scanProvider(row scanner) (store.Provider, error) {
	var p store.Provider
	var auds, algs []byte
	if err := row.Scan(&p.TenantID, &p.Name, &p.Issuer, &auds, &p.JWKSURI, &algs,
		&p.AutoProvision, &p.LinkByEmail, tsOut(&p.CreatedAt), tsOut(&p.UpdatedAt)); err != nil {
		return store.Provider{}, err
	}
	if err := jsonOut(auds, &p.Audiences); err != nil {
		return store.Provider{}, fmt.Errorf("audiences: %w", err)
	}
	if err := jsonOut(algs, &p.Algorithms); err != nil {
		return store.Provider{}, fmt.Errorf("algorithms: %w", err)
	}
	return p, nil
}

const insertProvider = `INSERT INTO providers (tenant_id, name, issuer, audiences, jwks_uri, algorithms,
	auto_provision, link_by_email, created_at, updated_at)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`

// CreateProvider inserts p; store.ErrConflict when its name is taken in
// the tenant, store.ErrNotFound when the tenant does not exist.
func (s *Store) CreateProvider(ctx context.Context, p store.Provider) error {
	args, err := providerArgs(p)
	if err != nil {
		return fmt.Errorf("create provider: %w", err)
	}
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return fmt.Errorf("create provider: %w", err)
	}
	defer cancel()
	if _, err := s.pool.Exec(ctx, insertProvider, args...); err != nil {
		return fmt.Errorf("create provider: %w", mapFedErr(err))
	}
	return nil
}

// PutProvider inserts or replaces p, keeping the CreatedAt of a replaced provider.
func (s *Store) PutProvider(ctx context.Context, p store.Provider) error {
	args, err := providerArgs(p)
	if err != nil {
		return fmt.Errorf("put provider: %w", err)
	}
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return fmt.Errorf("put provider: %w", err)
	}
	defer cancel()
	_, err = s.pool.Exec(ctx, insertProvider+`
		ON CONFLICT (tenant_id, name) DO UPDATE SET
			issuer = excluded.issuer, audiences = excluded.audiences,
			jwks_uri = excluded.jwks_uri, algorithms = excluded.algorithms,
			auto_provision = excluded.auto_provision, link_by_email = excluded.link_by_email,
			updated_at = excluded.updated_at`, args...)
	if err != nil {
		return fmt.Errorf("put provider: %w", mapFedErr(err))
	}
	return nil
}

// GetProvider returns the provider name of the tenant.
func (s *Store) GetProvider(ctx context.Context, tenantID, name string) (store.Provider, error) {
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return store.Provider{}, fmt.Errorf("get provider: %w", err)
	}
	defer cancel()
	p, err := scanProvider(s.pool.QueryRow(ctx, `SELECT `+cols("", providerColumns)+` FROM providers
		WHERE tenant_id = $1 AND name = $2`, tenantID, name))
	if err != nil {
		return store.Provider{}, fmt.Errorf("get provider: %w", mapErr(err))
	}
	return p, nil
}

// ListProviders returns the tenant's providers ordered by name.
func (s *Store) ListProviders(ctx context.Context, tenantID string) ([]store.Provider, error) {
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("list providers: %w", err)
	}
	defer cancel()
	rows, err := s.pool.Query(ctx, `SELECT `+cols("", providerColumns)+` FROM providers
		WHERE tenant_id = $1 ORDER BY name`, tenantID)
	if err != nil {
		return nil, fmt.Errorf("list providers: %w", mapErr(err))
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Provider, error) { return scanProvider(r) })
	if err != nil {
		return nil, fmt.Errorf("list providers: %w", mapErr(err))
	}
	return out, nil
}

// DeleteProvider removes a provider; store.ErrNotFound when there is none.
func (s *Store) DeleteProvider(ctx context.Context, tenantID, name string) error {
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return fmt.Errorf("delete provider: %w", err)
	}
	defer cancel()
	tag, err := s.pool.Exec(ctx, `DELETE FROM providers WHERE tenant_id = $1 AND name = $2`, tenantID, name)
	if err != nil {
		return fmt.Errorf("delete provider: %w", mapErr(err))
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("delete provider: %w", store.ErrNotFound)
	}
	return nil
}
