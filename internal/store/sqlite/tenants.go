package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/gatehouse-auth/gatehouse/internal/store"
)

// CreateTenant implements store.Store.
func (s *Store) CreateTenant(ctx context.Context, t store.Tenant) error {
	err := s.write(ctx, func(c *sql.Conn) error {
		_, err := c.ExecContext(ctx, `INSERT INTO tenants (id, name, created_at) VALUES (?, ?, ?)`,
			t.ID, t.Name, micros(t.CreatedAt))
		return err
	})
	return wrap(fmt.Sprintf("create tenant %q", t.ID), err)
}

// GetTenant implements store.Store.
func (s *Store) GetTenant(ctx context.Context, id string) (store.Tenant, error) {
	if err := s.usable(); err != nil {
		return store.Tenant{}, err
	}
	t := store.Tenant{}
	err := s.reader.QueryRowContext(ctx, `SELECT id, name, created_at FROM tenants WHERE id = ?`, id).
		Scan(&t.ID, &t.Name, timeCol{&t.CreatedAt})
	if err != nil {
		return store.Tenant{}, wrap(fmt.Sprintf("get tenant %q", id), err)
	}
	return t, nil
}

// ListTenants implements store.Store; tenants come ordered by id.
func (s *Store) ListTenants(ctx context.Context) ([]store.Tenant, error) {
	if err := s.usable(); err != nil {
		return nil, err
	}
	rows, err := s.reader.QueryContext(ctx, `SELECT id, name, created_at FROM tenants ORDER BY id`)
	if err != nil {
		return nil, wrap("list tenants", err)
	}
	defer rows.Close()
	var out []store.Tenant
	for rows.Next() {
		var t store.Tenant
		if err := rows.Scan(&t.ID, &t.Name, timeCol{&t.CreatedAt}); err != nil {
			return nil, wrap("list tenants", err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap("list tenants", err)
	}
	return out, nil
}
