package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/names"
	"github.com/gatehouse-auth/gatehouse/internal/store"
)

// identityCols lists the columns of the identities table in store.Identity's order.
const identityCols = `tenant_id, issuer, subject, provider, user_id, email, created_at`

func insertIdentity(ctx context.Context, c *sql.Conn, id store.Identity) error {
	_, err := c.ExecContext(ctx, `INSERT INTO identities (`+identityCols+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		id.TenantID, id.Issuer, id.Subject, id.Provider, id.UserID, id.Email, micros(id.CreatedAt))
	return err
}

// GetIdentity implements store.Store.
func (s *Store) GetIdentity(ctx context.Context, tenantID, issuer, subject string) (store.Identity, error) {
	if err := s.usable(); err != nil {
		return store.Identity{}, err
	}
	var id store.Identity
	err := s.reader.QueryRowContext(ctx, `SELECT `+identityCols+` FROM identities
		WHERE tenant_id = ? AND issuer = ? AND subject = ?`, tenantID, issuer, subject).
		Scan(&id.TenantID, &id.Issuer, &id.Subject, &id.Provider, &id.UserID, &id.Email, timeCol{&id.CreatedAt})
	if err != nil {
		return store.Identity{}, wrap("get identity", err)
	}
	return id, nil
}

// LinkIdentity implements store.Store.
func (s *Store) LinkIdentity(ctx context.Context, id store.Identity) error {
	err := s.write(ctx, func(c *sql.Conn) error { return insertIdentity(ctx, c, id) })
	return wrap("link identity", err)
}

// ProvisionUser implements store.Store.
func (s *Store) ProvisionUser(ctx context.Context, u store.User, id store.Identity) error {
	args, err := userArgs(u)
	if err != nil {
		return fmt.Errorf("provision user: %w", err)
	}
	err = s.write(ctx, func(c *sql.Conn) error {
		if _, err := c.ExecContext(ctx, `INSERT INTO users (`+userCols+`, username_lower, email_lower)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, args...); err != nil {
			return err
		}
		return insertIdentity(ctx, c, id)
	})
	return wrap("provision user", err)
}

// GetUserByEmail implements store.Store.
func (s *Store) GetUserByEmail(ctx context.Context, tenantID, email string) (store.User, error) {
	if err := s.usable(); err != nil {
		return store.User{}, err
	}
	if email == "" {
		return store.User{}, fmt.Errorf("get user by email: %w", store.ErrNotFound)
	}
	u, err := scanUser(s.reader.QueryRowContext(ctx, `SELECT `+userCols+` FROM users
		WHERE tenant_id = ? AND email_lower = ?`, tenantID, names.EmailKey(email)))
	return u, wrap("get user by email", err)
}

// RememberIDToken implements store.Store. An entry whose exp has passed
// (not yet swept) no longer counts and is replaced.
func (s *Store) RememberIDToken(ctx context.Context, tenantID, issuer, key string, exp, now time.Time) error {
	err := s.write(ctx, func(c *sql.Conn) error {
		// A live entry makes the upsert a no-op: the token was seen before.
		return execOne(ctx, c, store.ErrConflict, `INSERT INTO id_token_replay (tenant_id, issuer, key, exp)
			VALUES (?1, ?2, ?3, ?4)
			ON CONFLICT (tenant_id, issuer, key) DO UPDATE SET exp = excluded.exp
			WHERE id_token_replay.exp <= ?5`,
			tenantID, issuer, key, exp.UnixMicro(), now.UnixMicro())
	})
	return wrap("remember id token", err)
}
