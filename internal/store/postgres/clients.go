package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gatehouse-auth/gatehouse/internal/store"
)

// clientColumns are the columns of store.Client in scanClient's order.
var clientColumns = []string{"tenant_id", "id", "name", "secret_hash", "public", "grant_types",
	"scopes", "created_at", "updated_at", "redirect_uris", "post_logout_redirect_uris", "backchannel_logout_uri", "require_par", "first_party"}

// clientArgs are the values of c for clientColumns.
func clientArgs(c store.Client) ([]any, error) {
	grants, err := jsonIn(c.GrantTypes)
	if err != nil {
		return nil, fmt.Errorf("grant types: %w", err)
	}
	scopes, err := jsonIn(c.Scopes)
	if err != nil {
		return nil, fmt.Errorf("scopes: %w", err)
	}
	redirects, err := jsonIn(nonNilList(c.RedirectURIs))
	if err != nil {
		return nil, fmt.Errorf("redirect uris: %w", err)
	}
	logouts, err := jsonIn(nonNilList(c.PostLogoutRedirectURIs))
	if err != nil {
		return nil, fmt.Errorf("post-logout redirect uris: %w", err)
	}
	return []any{c.TenantID, c.ID, c.Name, c.SecretHash, c.Public, grants, scopes,
		ts(c.CreatedAt), ts(c.UpdatedAt), redirects, logouts, c.BackchannelLogoutURI, c.RequirePAR, c.FirstParty}, nil
}

func scanClient(row scanner) (store.Client, error) {
	var c store.Client
	var grants, scopes, redirects, logouts []byte
	err := row.Scan(&c.TenantID, &c.ID, &c.Name, &c.SecretHash, &c.Public, &grants, &scopes,
		tsOut(&c.CreatedAt), tsOut(&c.UpdatedAt), &redirects, &logouts, &c.BackchannelLogoutURI, &c.RequirePAR, &c.FirstParty)
	if err != nil {
		return store.Client{}, err
	}
	if err := jsonOut(grants, &c.GrantTypes); err != nil {
		return store.Client{}, fmt.Errorf("grant types: %w", err)
	}
	if err := jsonOut(scopes, &c.Scopes); err != nil {
		return store.Client{}, fmt.Errorf("scopes: %w", err)
	}
	if err := jsonOut(redirects, &c.RedirectURIs); err != nil {
		return store.Client{}, fmt.Errorf("redirect uris: %w", err)
	}
	if err := jsonOut(logouts, &c.PostLogoutRedirectURIs); err != nil {
		return store.Client{}, fmt.Errorf("post-logout redirect uris: %w", err)
	}
	return c, nil
}

// CreateClient inserts c; store.ErrConflict when its id is taken in any tenant.
func (s *Store) CreateClient(ctx context.Context, c store.Client) error {
	args, err := clientArgs(c)
	if err != nil {
		return fmt.Errorf("create client: %w", err)
	}
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return fmt.Errorf("create client: %w", err)
	}
	defer cancel()
	_, err = s.pool.Exec(ctx, `INSERT INTO clients (`+cols("", clientColumns)+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`, args...)
	if err != nil {
		return fmt.Errorf("create client: %w", mapErr(err))
	}
	return nil
}

// GetClient returns the client id of the tenant; store.ErrNotFound otherwise.
func (s *Store) GetClient(ctx context.Context, tenantID, id string) (store.Client, error) {
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return store.Client{}, fmt.Errorf("get client: %w", err)
	}
	defer cancel()
	c, err := getClient(ctx, s.pool, tenantID, id, false)
	if err != nil {
		return store.Client{}, fmt.Errorf("get client: %w", mapErr(err))
	}
	return c, nil
}

func getClient(ctx context.Context, q querier, tenantID, id string, forUpdate bool) (store.Client, error) {
	sql := `SELECT ` + cols("", clientColumns) + ` FROM clients WHERE tenant_id = $1 AND id = $2`
	if forUpdate {
		sql += ` FOR UPDATE`
	}
	return scanClient(q.QueryRow(ctx, sql, tenantID, id))
}

// FindClient returns the client id whatever its tenant; store.ErrNotFound
// when no tenant has it.
func (s *Store) FindClient(ctx context.Context, id string) (store.Client, error) {
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return store.Client{}, fmt.Errorf("find client: %w", err)
	}
	defer cancel()
	c, err := scanClient(s.pool.QueryRow(ctx, `SELECT `+cols("", clientColumns)+` FROM clients WHERE id = $1`, id))
	if err != nil {
		return store.Client{}, fmt.Errorf("find client: %w", mapErr(err))
	}
	return c, nil
}

// ListClients returns the tenant's clients ordered by id (byte order).
func (s *Store) ListClients(ctx context.Context, tenantID string) ([]store.Client, error) {
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("list clients: %w", err)
	}
	defer cancel()
	rows, err := s.pool.Query(ctx, `SELECT `+cols("", clientColumns)+` FROM clients
		WHERE tenant_id = $1 ORDER BY id`, tenantID)
	if err != nil {
		return nil, fmt.Errorf("list clients: %w", mapErr(err))
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Client, error) { return scanClient(r) })
	if err != nil {
		return nil, fmt.Errorf("list clients: %w", mapErr(err))
	}
	return out, nil
}

// UpdateClient locks the client's row, applies fn to it and writes the
// result, in one transaction. The tenant and id cannot be changed by fn. An
// error from fn is returned unchanged and nothing is written.
func (s *Store) UpdateClient(ctx context.Context, tenantID, id string, fn func(*store.Client) error) (store.Client, error) {
	var out store.Client
	var fnErr error
	err := s.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		c, err := getClient(ctx, tx, tenantID, id, true)
		if err != nil {
			return err
		}
		if fnErr = fn(&c); fnErr != nil {
			return fnErr
		}
		c.TenantID, c.ID = tenantID, id
		args, err := clientArgs(c)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE clients SET name = $3, secret_hash = $4, public = $5,
			grant_types = $6, scopes = $7, created_at = $8, updated_at = $9,
			redirect_uris = $10, post_logout_redirect_uris = $11, backchannel_logout_uri = $12, require_par = $13, first_party = $14
			WHERE tenant_id = $1 AND id = $2`, args...)
		if err != nil {
			return err
		}
		out = c
		return nil
	})
	if fnErr != nil {
		return store.Client{}, fnErr
	}
	if err != nil {
		return store.Client{}, fmt.Errorf("update client: %w", mapErr(err))
	}
	return out, nil
}

// DeleteClient removes the client and revokes its sessions and their
// children in one transaction; store.ErrNotFound when the tenant has no
// such client.
func (s *Store) DeleteClient(ctx context.Context, tenantID, id string, now time.Time) ([]store.Session, error) {
	var out []store.Session
	err := s.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM clients WHERE tenant_id = $1 AND id = $2`, tenantID, id)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return store.ErrNotFound
		}
		out, err = revokeSessions(ctx, tx, tenantID, byClient(id), now, reasonClientDeleted)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("delete client: %w", mapErr(err))
	}
	return out, nil
}

// nonNilList stores an absent list as [] rather than null.
func nonNilList(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}
