package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/store"
)

// clientCols lists the columns scanClient reads, in order.
const clientCols = `tenant_id, id, name, secret_hash, public, grant_types_json, scopes_json,
	created_at, updated_at, redirect_uris_json, post_logout_redirect_uris_json, backchannel_logout_uri, require_par, first_party`

func scanClient(r scanner) (store.Client, error) {
	var c store.Client
	err := r.Scan(&c.TenantID, &c.ID, &c.Name, &c.SecretHash, &c.Public,
		jsonCol{&c.GrantTypes}, jsonCol{&c.Scopes}, timeCol{&c.CreatedAt}, timeCol{&c.UpdatedAt},
		jsonCol{&c.RedirectURIs}, jsonCol{&c.PostLogoutRedirectURIs}, &c.BackchannelLogoutURI, &c.RequirePAR, &c.FirstParty)
	return c, err
}

// clientArgs encodes the columns of c in the order of clientCols.
func clientArgs(c store.Client) ([]any, error) {
	grants, err := jsonText(c.GrantTypes)
	if err != nil {
		return nil, fmt.Errorf("grant types: %w", err)
	}
	scopes, err := jsonText(c.Scopes)
	if err != nil {
		return nil, fmt.Errorf("scopes: %w", err)
	}
	redirects, err := jsonText(nonNilList(c.RedirectURIs))
	if err != nil {
		return nil, fmt.Errorf("redirect uris: %w", err)
	}
	logouts, err := jsonText(nonNilList(c.PostLogoutRedirectURIs))
	if err != nil {
		return nil, fmt.Errorf("post-logout redirect uris: %w", err)
	}
	return []any{c.TenantID, c.ID, c.Name, c.SecretHash, c.Public, grants, scopes,
		micros(c.CreatedAt), micros(c.UpdatedAt), redirects, logouts, c.BackchannelLogoutURI, c.RequirePAR, c.FirstParty}, nil
}

// CreateClient implements store.ClientStore. An unknown tenant is ErrNotFound.
func (s *Store) CreateClient(ctx context.Context, c store.Client) error {
	args, err := clientArgs(c)
	if err != nil {
		return fmt.Errorf("create client: %w", err)
	}
	err = s.write(ctx, func(conn *sql.Conn) error {
		_, err := conn.ExecContext(ctx, `INSERT INTO clients (`+clientCols+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, args...)
		return err
	})
	return wrap("create client", err)
}

// GetClient implements store.ClientStore.
func (s *Store) GetClient(ctx context.Context, tenantID, id string) (store.Client, error) {
	if err := s.usable(); err != nil {
		return store.Client{}, err
	}
	c, err := getClient(ctx, s.reader, tenantID, id)
	return c, wrap("get client", err)
}

func getClient(ctx context.Context, q querier, tenantID, id string) (store.Client, error) {
	return scanClient(q.QueryRowContext(ctx, `SELECT `+clientCols+` FROM clients
		WHERE tenant_id = ? AND id = ?`, tenantID, id))
}

// FindClient implements store.ClientStore.
func (s *Store) FindClient(ctx context.Context, id string) (store.Client, error) {
	if err := s.usable(); err != nil {
		return store.Client{}, err
	}
	c, err := scanClient(s.reader.QueryRowContext(ctx, `SELECT `+clientCols+` FROM clients WHERE id = ?`, id))
	return c, wrap("find client", err)
}

// ListClients implements store.ClientStore.
func (s *Store) ListClients(ctx context.Context, tenantID string) ([]store.Client, error) {
	if err := s.usable(); err != nil {
		return nil, err
	}
	rows, err := s.reader.QueryContext(ctx, `SELECT `+clientCols+` FROM clients
		WHERE tenant_id = ? ORDER BY id`, tenantID)
	return collect(rows, err, "list clients", scanClient)
}

// UpdateClient implements store.ClientStore. The tenant and id of the
// client cannot be changed by fn.
func (s *Store) UpdateClient(ctx context.Context, tenantID, id string, fn func(*store.Client) error) (store.Client, error) {
	var out store.Client
	var fnErr error
	err := s.write(ctx, func(conn *sql.Conn) error {
		c, err := getClient(ctx, conn, tenantID, id)
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
		// clientArgs starts with tenant_id and id; the UPDATE takes them last.
		args = append(args[2:], tenantID, id)
		_, err = conn.ExecContext(ctx, `UPDATE clients SET name = ?, secret_hash = ?, public = ?,
			grant_types_json = ?, scopes_json = ?, created_at = ?, updated_at = ?,
			redirect_uris_json = ?, post_logout_redirect_uris_json = ?, backchannel_logout_uri = ?, require_par = ?, first_party = ?
			WHERE tenant_id = ? AND id = ?`, args...)
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
		return store.Client{}, wrap("update client", err)
	}
	return out, nil
}

// DeleteClient implements store.ClientStore.
func (s *Store) DeleteClient(ctx context.Context, tenantID, id string, now time.Time) ([]store.Session, error) {
	var out []store.Session
	err := s.write(ctx, func(conn *sql.Conn) error {
		if err := execOne(ctx, conn, store.ErrNotFound, `DELETE FROM clients WHERE tenant_id = ? AND id = ?`, tenantID, id); err != nil {
			return err
		}
		ids, err := sessionIDs(ctx, conn, `SELECT id FROM sessions
			WHERE tenant_id = ? AND client_id = ? AND revoked_at IS NULL AND expires_at > ?
			ORDER BY created_at DESC, id DESC`, tenantID, id, now.UnixMicro())
		if err != nil {
			return err
		}
		if out, err = revokeSessions(ctx, conn, tenantID, ids, now, reasonClientDeleted); err != nil {
			return err
		}
		children, err := revokeChildren(ctx, conn, tenantID, ids, now, reasonClientDeleted)
		out = append(out, children...)
		return err
	})
	if err != nil {
		return nil, wrap("delete client", err)
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
