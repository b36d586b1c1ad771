package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gatehouse-auth/gatehouse/internal/names"
	"github.com/gatehouse-auth/gatehouse/internal/store"
)

const insertIdentity = `INSERT INTO identities
	(tenant_id, issuer, subject, provider, user_id, email, created_at)
	VALUES ($1, $2, $3, $4, $5, $6, $7)`

func identityArgs(id store.Identity) []any {
	return []any{id.TenantID, id.Issuer, id.Subject, id.Provider, id.UserID, id.Email, ts(id.CreatedAt)}
}

// GetIdentity returns the identity (issuer, subject) of the tenant.
func (s *Store) GetIdentity(ctx context.Context, tenantID, issuer, subject string) (store.Identity, error) {
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return store.Identity{}, fmt.Errorf("get identity: %w", err)
	}
	defer cancel()
	var id store.Identity
	err = s.pool.QueryRow(ctx, `SELECT tenant_id, issuer, subject, provider, user_id, email, created_at
		FROM identities WHERE tenant_id = $1 AND issuer = $2 AND subject = $3`, tenantID, issuer, subject).
		Scan(&id.TenantID, &id.Issuer, &id.Subject, &id.Provider, &id.UserID, &id.Email, tsOut(&id.CreatedAt))
	if err != nil {
		return store.Identity{}, fmt.Errorf("get identity: %w", mapErr(err))
	}
	return id, nil
}

// LinkIdentity stores an identity of an existing user.
func (s *Store) LinkIdentity(ctx context.Context, id store.Identity) error {
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return fmt.Errorf("link identity: %w", err)
	}
	defer cancel()
	if _, err := s.pool.Exec(ctx, insertIdentity, identityArgs(id)...); err != nil {
		return fmt.Errorf("link identity: %w", mapFedErr(err))
	}
	return nil
}

// ProvisionUser creates u and links id to it in one transaction.
func (s *Store) ProvisionUser(ctx context.Context, u store.User, id store.Identity) error {
	args, err := userArgs(u)
	if err != nil {
		return fmt.Errorf("provision user: %w", err)
	}
	err = s.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO users (`+cols("", userColumns)+`, username_lower, email_lower)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)`, args...); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, insertIdentity, identityArgs(id)...)
		return err
	})
	if err != nil {
		return fmt.Errorf("provision user: %w", mapFedErr(err))
	}
	return nil
}

// GetUserByEmail returns the user of the tenant with that email (case-insensitive).
func (s *Store) GetUserByEmail(ctx context.Context, tenantID, email string) (store.User, error) {
	if email == "" {
		return store.User{}, fmt.Errorf("get user by email: %w", store.ErrNotFound)
	}
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return store.User{}, fmt.Errorf("get user by email: %w", err)
	}
	defer cancel()
	u, err := scanUser(s.pool.QueryRow(ctx, `SELECT `+cols("", userColumns)+` FROM users
		WHERE tenant_id = $1 AND email_lower = $2`, tenantID, names.EmailKey(email)))
	if err != nil {
		return store.User{}, fmt.Errorf("get user by email: %w", mapErr(err))
	}
	return u, nil
}

// RememberIDToken records an accepted ID token until exp; store.ErrConflict
// when a live entry exists (a replay). An entry whose exp has passed (not
// yet swept) no longer counts and is replaced. Concurrent inserts of one
// key serialise on the unique index: exactly one succeeds.
func (s *Store) RememberIDToken(ctx context.Context, tenantID, issuer, key string, exp, now time.Time) error {
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return fmt.Errorf("remember id token: %w", err)
	}
	defer cancel()
	tag, err := s.pool.Exec(ctx, `INSERT INTO id_token_replay (tenant_id, issuer, key, exp)
		VALUES ($1, $2, $3, $4)
		ON CONFLICT (tenant_id, issuer, key) DO UPDATE SET exp = excluded.exp
		WHERE id_token_replay.exp <= $5`, tenantID, issuer, key, ts(exp), ts(now))
	if err != nil {
		return fmt.Errorf("remember id token: %w", mapErr(err))
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("remember id token: %w", store.ErrConflict)
	}
	return nil
}
