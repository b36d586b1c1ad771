package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gatehouse-auth/gatehouse/internal/names"
	"github.com/gatehouse-auth/gatehouse/internal/store"
)

// userColumns are the columns of store.User in scanUser's order.
var userColumns = []string{"tenant_id", "id", "username", "email", "phone", "display_name",
	"avatar_url", "groups", "roles", "attributes", "status", "must_change_password",
	"password_hash", "created_at", "updated_at", "password_changed_at"}

// userArgs are the values of u for userColumns, plus the lowercased
// username and email that carry the case-insensitive unique indexes.
func userArgs(u store.User) ([]any, error) {
	groups, err := jsonIn(u.Groups)
	if err != nil {
		return nil, fmt.Errorf("groups: %w", err)
	}
	roles, err := jsonIn(u.Roles)
	if err != nil {
		return nil, fmt.Errorf("roles: %w", err)
	}
	attrs, err := jsonIn(u.Attributes)
	if err != nil {
		return nil, fmt.Errorf("attributes: %w", err)
	}
	return []any{u.TenantID, u.ID, u.Username, u.Email, u.Phone, u.DisplayName, u.AvatarURL,
		groups, roles, attrs, u.Status, u.MustChangePassword, u.PasswordHash,
		ts(u.CreatedAt), ts(u.UpdatedAt), ts(u.PasswordChangedAt),
		names.UsernameKey(u.Username), names.EmailKey(u.Email)}, nil
}

// userScan holds the raw parts of a user row until finish decodes them.
type userScan struct {
	u                    *store.User
	groups, roles, attrs []byte
}

// userDest returns scan destinations for userColumns into u; call finish on
// the first result after the scan.
func userDest(u *store.User) (*userScan, []any) {
	sc := &userScan{u: u}
	return sc, []any{&u.TenantID, &u.ID, &u.Username, &u.Email, &u.Phone, &u.DisplayName,
		&u.AvatarURL, &sc.groups, &sc.roles, &sc.attrs, &u.Status, &u.MustChangePassword,
		&u.PasswordHash, tsOut(&u.CreatedAt), tsOut(&u.UpdatedAt), tsOut(&u.PasswordChangedAt)}
}

func (sc *userScan) finish() error {
	if err := jsonOut(sc.groups, &sc.u.Groups); err != nil {
		return fmt.Errorf("groups: %w", err)
	}
	if err := jsonOut(sc.roles, &sc.u.Roles); err != nil {
		return fmt.Errorf("roles: %w", err)
	}
	if err := jsonOut(sc.attrs, &sc.u.Attributes); err != nil {
		return fmt.Errorf("attributes: %w", err)
	}
	return nil
}

func scanUser(row scanner) (store.User, error) {
	var u store.User
	sc, dest := userDest(&u)
	if err := row.Scan(dest...); err != nil {
		return store.User{}, err
	}
	if err := sc.finish(); err != nil {
		return store.User{}, err
	}
	return u, nil
}

// CreateUser inserts u; store.ErrConflict when its id, username, email or
// phone is taken in the tenant.
func (s *Store) CreateUser(ctx context.Context, u store.User) error {
	args, err := userArgs(u)
	if err != nil {
		return fmt.Errorf("create user: %w", err)
	}
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return fmt.Errorf("create user: %w", err)
	}
	defer cancel()
	_, err = s.pool.Exec(ctx, `INSERT INTO users (`+cols("", userColumns)+`, username_lower, email_lower)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)`, args...)
	if err != nil {
		return fmt.Errorf("create user: %w", mapErr(err))
	}
	return nil
}

// GetUser returns the user id of the tenant; store.ErrNotFound otherwise.
func (s *Store) GetUser(ctx context.Context, tenantID, id string) (store.User, error) {
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return store.User{}, fmt.Errorf("get user: %w", err)
	}
	defer cancel()
	u, err := getUser(ctx, s.pool, tenantID, id, false)
	if err != nil {
		return store.User{}, fmt.Errorf("get user: %w", mapErr(err))
	}
	return u, nil
}

func getUser(ctx context.Context, q querier, tenantID, id string, forUpdate bool) (store.User, error) {
	sql := `SELECT ` + cols("", userColumns) + ` FROM users WHERE tenant_id = $1 AND id = $2`
	if forUpdate {
		sql += ` FOR UPDATE`
	}
	return scanUser(q.QueryRow(ctx, sql, tenantID, id))
}

// GetUserByLogin finds the user whose stored username, username key,
// legacy key, email (ASCII case-insensitive) or phone matches login, in
// that order of precedence when several users match (one's username is
// another's email).
func (s *Store) GetUserByLogin(ctx context.Context, tenantID, login string) (store.User, error) {
	if login == "" {
		return store.User{}, fmt.Errorf("get user by login: %w", store.ErrNotFound)
	}
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return store.User{}, fmt.Errorf("get user by login: %w", err)
	}
	defer cancel()
	prepared, _ := names.Username(login) // "" matches no key
	u, err := scanUser(s.pool.QueryRow(ctx, `SELECT `+cols("", userColumns)+` FROM users
		WHERE tenant_id = $1 AND (username_lower = $3
			OR (username_legacy <> 0 AND (username = $2 OR username_lower = $4))
			OR email_lower = $5 OR phone = $2)
		ORDER BY CASE WHEN username_legacy <> 0 AND username = $2 THEN 0 WHEN username_lower = $3 THEN 1
			WHEN username_legacy <> 0 AND username_lower = $4 THEN 2 WHEN email_lower = $5 THEN 3 ELSE 4 END
		LIMIT 1`, tenantID, login, prepared, names.LegacyKey(login), names.EmailKey(login)))
	if err != nil {
		return store.User{}, fmt.Errorf("get user by login: %w", mapErr(err))
	}
	return u, nil
}

// ListLegacyUsernames returns the users marked by migration 0008.
func (s *Store) ListLegacyUsernames(ctx context.Context, tenantID string) ([]store.LegacyUsername, error) {
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("list legacy usernames: %w", err)
	}
	defer cancel()
	rows, err := s.pool.Query(ctx, `SELECT tenant_id, id, username, username_legacy FROM users
		WHERE username_legacy <> 0 AND ($1 = '' OR tenant_id = $1) ORDER BY tenant_id, id`, tenantID)
	if err != nil {
		return nil, fmt.Errorf("list legacy usernames: %w", mapErr(err))
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.LegacyUsername, error) {
		var l store.LegacyUsername
		var reason int16
		err := r.Scan(&l.TenantID, &l.UserID, &l.Username, &reason)
		l.Reason = legacyReason(int(reason))
		return l, err
	})
	if err != nil {
		return nil, fmt.Errorf("list legacy usernames: %w", mapErr(err))
	}
	return out, nil
}

// Paging bounds of ListUsers.
const (
	defaultUserPage = 100
	maxUserPage     = 1000
)

// ListUsers returns the tenant's users ordered by id (byte order), after
// p.AfterID, at most p.Limit of them (default 100, at most 1000).
func (s *Store) ListUsers(ctx context.Context, tenantID string, p store.ListUsersParams) ([]store.User, error) {
	limit := p.Limit
	if limit <= 0 {
		limit = defaultUserPage
	}
	limit = min(limit, maxUserPage)
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	defer cancel()
	rows, err := s.pool.Query(ctx, `SELECT `+cols("", userColumns)+` FROM users
		WHERE tenant_id = $1 AND id > $2 ORDER BY id LIMIT $3`, tenantID, p.AfterID, limit)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", mapErr(err))
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.User, error) { return scanUser(r) })
	if err != nil {
		return nil, fmt.Errorf("list users: %w", mapErr(err))
	}
	return out, nil
}

// UpdateUser locks the user's row, applies fn to it and writes the result,
// in one transaction. The tenant and id cannot be changed by fn. An error
// from fn is returned unchanged and nothing is written.
func (s *Store) UpdateUser(ctx context.Context, tenantID, id string, fn func(*store.User) error) (store.User, error) {
	var out store.User
	var fnErr error
	err := s.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		u, err := getUser(ctx, tx, tenantID, id, true)
		if err != nil {
			return err
		}
		if fnErr = fn(&u); fnErr != nil {
			return fnErr
		}
		u.TenantID, u.ID = tenantID, id
		args, err := userArgs(u)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE users SET username = $3, email = $4, phone = $5,
			display_name = $6, avatar_url = $7, groups = $8, roles = $9, attributes = $10,
			status = $11, must_change_password = $12, password_hash = $13, created_at = $14,
			updated_at = $15, password_changed_at = $16,
			username_lower = CASE WHEN username = $3 THEN username_lower ELSE $17 END,
			username_legacy = CASE WHEN username = $3 THEN username_legacy ELSE 0 END,
			email_lower = $18
			WHERE tenant_id = $1 AND id = $2`, args...)
		if err != nil {
			return err
		}
		out = u
		return nil
	})
	if fnErr != nil {
		return store.User{}, fnErr
	}
	if err != nil {
		return store.User{}, fmt.Errorf("update user: %w", mapErr(err))
	}
	return out, nil
}

// DeleteUser removes the user and revokes their live sessions, appending a
// revocation record for each, in one transaction.
func (s *Store) DeleteUser(ctx context.Context, tenantID, id string, now time.Time) error {
	err := s.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM users WHERE tenant_id = $1 AND id = $2`, tenantID, id)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return store.ErrNotFound
		}
		_, err = revokeSessions(ctx, tx, tenantID, byUser(id, ""), now, reasonUserDeleted)
		return err
	})
	if err != nil {
		return fmt.Errorf("delete user: %w", mapErr(err))
	}
	return nil
}
