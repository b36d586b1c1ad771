package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/gatehouse-auth/gatehouse/internal/store"
)

// providerCols lists the columns scanProvider reads, in order.
const providerCols = `tenant_id, name, issuer, audiences_json, jwks_uri, algorithms_json,
	auto_provision, link_by_email, created_at, updated_at`

func scanProvider(r scanner) (store.Provider, error) {
	var p store.Provider
	err := r.Scan(&p.TenantID, &p.Name, &p.Issuer, jsonCol{&p.Audiences}, &p.JWKSURI, jsonCol{&p.Algorithms},
		&p.AutoProvision, &p.LinkByEmail, timeCol{&p.CreatedAt}, timeCol{&p.UpdatedAt})
	return p, err
}

// providerArgs encodes p in the order of providerCols.
func providerArgs(p store.Provider) ([]any, error) {
	auds, err := jsonText(p.Audiences)
	if err != nil {
		return nil, fmt.Errorf("audiences: %w", err)
	}
	algs, err := jsonText(p.Algorithms)
	if err != nil {
		return nil, fmt.Errorf("algorithms: %w", err)
	}
	return []any{p.TenantID, p.Name, p.Issuer, auds, p.JWKSURI, algs,
		p.AutoProvision, p.LinkByEmail, micros(p.CreatedAt), micros(p.UpdatedAt)}, nil
}

// CreateProvider implements store.Store.
func (s *Store) CreateProvider(ctx context.Context, p store.Provider) error {
	args, err := providerArgs(p)
	if err != nil {
		return fmt.Errorf("create provider: %w", err)
	}
	err = s.write(ctx, func(c *sql.Conn) error {
		_, err := c.ExecContext(ctx, `INSERT INTO providers (`+providerCols+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, args...)
		return err
	})
	return wrap("create provider", err)
}

// PutProvider implements store.Store.
func (s *Store) PutProvider(ctx context.Context, p store.Provider) error {
	args, err := providerArgs(p)
	if err != nil {
		return fmt.Errorf("put provider: %w", err)
	}
	err = s.write(ctx, func(c *sql.Conn) error {
		_, err := c.ExecContext(ctx, `INSERT INTO providers (`+providerCols+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (tenant_id, name) DO UPDATE SET
				issuer = excluded.issuer, audiences_json = excluded.audiences_json,
				jwks_uri = excluded.jwks_uri, algorithms_json = excluded.algorithms_json,
				auto_provision = excluded.auto_provision, link_by_email = excluded.link_by_email,
				updated_at = excluded.updated_at`, args...)
		return err
	})
	return wrap("put provider", err)
}

// GetProvider implements store.Store.
func (s *Store) GetProvider(ctx context.Context, tenantID, name string) (store.Provider, error) {
	if err := s.usable(); err != nil {
		return store.Provider{}, err
	}
	p, err := scanProvider(s.reader.QueryRowContext(ctx, `SELECT `+providerCols+` FROM providers
		WHERE tenant_id = ? AND name = ?`, tenantID, name))
	if err != nil {
		return store.Provider{}, wrap("get provider", err)
	}
	return p, nil
}

// ListProviders implements store.Store.
func (s *Store) ListProviders(ctx context.Context, tenantID string) ([]store.Provider, error) {
	if err := s.usable(); err != nil {
		return nil, err
	}
	rows, err := s.reader.QueryContext(ctx, `SELECT `+providerCols+` FROM providers
		WHERE tenant_id = ? ORDER BY name`, tenantID)
	return collect(rows, err, "list providers", scanProvider)
}

// DeleteProvider implements store.Store.
func (s *Store) DeleteProvider(ctx context.Context, tenantID, name string) error {
	err := s.write(ctx, func(c *sql.Conn) error {
		return execOne(ctx, c, store.ErrNotFound, `DELETE FROM providers WHERE tenant_id = ? AND name = ?`, tenantID, name)
	})
	return wrap("delete provider", err)
}
