package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/names"
	"github.com/gatehouse-auth/gatehouse/internal/store"
)

// Page sizes of ListUsers.
const (
	defaultUserPage = 100
	maxUserPage     = 1000
)

// userCols lists the columns scanUser reads, in order.
const userCols = `tenant_id, id, username, email, phone, display_name, avatar_url,
	groups_json, roles_json, attributes_json, status, must_change_password, password_hash,
	created_at, updated_at, password_changed_at`

// scanner is a *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

func scanUser(r scanner) (store.User, error) {
	var u store.User
	err := r.Scan(&u.TenantID, &u.ID, &u.Username, &u.Email, &u.Phone, &u.DisplayName, &u.AvatarURL,
		jsonCol{&u.Groups}, jsonCol{&u.Roles}, jsonCol{&u.Attributes}, &u.Status,
		&u.MustChangePassword, &u.PasswordHash,
		timeCol{&u.CreatedAt}, timeCol{&u.UpdatedAt}, timeCol{&u.PasswordChangedAt})
	return u, err
}

// userArgs encodes the columns of u in the order of userCols followed by
// the lowercased lookup columns.
func userArgs(u store.User) ([]any, error) {
	groups, err := jsonText(u.Groups)
	if err != nil {
		return nil, fmt.Errorf("groups: %w", err)
	}
	roles, err := jsonText(u.Roles)
	if err != nil {
		return nil, fmt.Errorf("roles: %w", err)
	}
	attrs, err := jsonText(u.Attributes)
	if err != nil {
		return nil, fmt.Errorf("attributes: %w", err)
	}
	return []any{u.TenantID, u.ID, u.Username, u.Email, u.Phone, u.DisplayName, u.AvatarURL,
		groups, roles, attrs, u.Status, u.MustChangePassword, u.PasswordHash,
		micros(u.CreatedAt), micros(u.UpdatedAt), micros(u.PasswordChangedAt),
		names.UsernameKey(u.Username), names.EmailKey(u.Email)}, nil
}

// CreateUser implements store.Store.
func (s *Store) CreateUser(ctx context.Context, u store.User) error {
	args, err := userArgs(u)
	if err != nil {
		return fmt.Errorf("create user: %w", err)
	}
	err = s.write(ctx, func(c *sql.Conn) error {
		_, err := c.ExecContext(ctx, `INSERT INTO users (`+userCols+`, username_lower, email_lower)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, args...)
		return err
	})
	return wrap("create user", err)
}

// GetUser implements store.Store.
func (s *Store) GetUser(ctx context.Context, tenantID, id string) (store.User, error) {
	if err := s.usable(); err != nil {
		return store.User{}, err
	}
	st, err := s.readStmt(ctx, userByIDSQL)
	if err != nil {
		return store.User{}, wrap("get user", err)
	}
	u, err := scanUser(st.QueryRowContext(ctx, tenantID, id))
	return u, wrap("get user", err)
}

func getUser(ctx context.Context, q querier, tenantID, id string) (store.User, error) {
	return scanUser(q.QueryRowContext(ctx, `SELECT `+userCols+` FROM users WHERE tenant_id = ? AND id = ?`,
		tenantID, id))
}

// GetUserByLogin implements store.Store. When login matches several users
// (one's username is another's email), the stored name of a legacy user
// wins, then the prepared username, a legacy key, the email and the phone.
// A stored name equal to login is a key match for every other user (their
// key is the prepared form of their name), so only legacy users are
// compared by stored name, through their partial index.
func (s *Store) GetUserByLogin(ctx context.Context, tenantID, login string) (store.User, error) {
	if err := s.usable(); err != nil {
		return store.User{}, err
	}
	if login == "" {
		return store.User{}, fmt.Errorf("get user by login: %w", store.ErrNotFound)
	}
	prepared, _ := names.Username(login) // "" matches no key
	u, err := scanUser(s.reader.QueryRowContext(ctx, `SELECT `+userCols+` FROM users
		WHERE tenant_id = ?1 AND (username_lower = ?3
			OR (username_legacy <> 0 AND (username = ?2 OR username_lower = ?4))
			OR email_lower = ?5 OR phone = ?2)
		ORDER BY CASE WHEN username_legacy <> 0 AND username = ?2 THEN 0 WHEN username_lower = ?3 THEN 1
			WHEN username_legacy <> 0 AND username_lower = ?4 THEN 2 WHEN email_lower = ?5 THEN 3 ELSE 4 END
		LIMIT 1`, tenantID, login, prepared, names.LegacyKey(login), names.EmailKey(login)))
	return u, wrap("get user by login", err)
}

// ListLegacyUsernames implements store.Store.
func (s *Store) ListLegacyUsernames(ctx context.Context, tenantID string) ([]store.LegacyUsername, error) {
	if err := s.usable(); err != nil {
		return nil, err
	}
	rows, err := s.reader.QueryContext(ctx, `SELECT tenant_id, id, username, username_legacy FROM users
		WHERE username_legacy <> 0 AND (?1 = '' OR tenant_id = ?1) ORDER BY tenant_id, id`, tenantID)
	return collect(rows, err, "list legacy usernames", func(r scanner) (store.LegacyUsername, error) {
		var l store.LegacyUsername
		var reason int
		err := r.Scan(&l.TenantID, &l.UserID, &l.Username, &reason)
		l.Reason = legacyReason(reason)
		return l, err
	})
}

// ListUsers implements store.Store. Limit defaults to 100 and is capped at 1000.
func (s *Store) ListUsers(ctx context.Context, tenantID string, p store.ListUsersParams) ([]store.User, error) {
	if err := s.usable(); err != nil {
		return nil, err
	}
	rows, err := s.reader.QueryContext(ctx, `SELECT `+userCols+` FROM users
		WHERE tenant_id = ? AND id > ? ORDER BY id LIMIT ?`,
		tenantID, p.AfterID, clampLimit(p.Limit, defaultUserPage, maxUserPage))
	return collect(rows, err, "list users", scanUser)
}

// UpdateUser implements store.Store. The tenant and id of the user cannot
// be changed by fn.
func (s *Store) UpdateUser(ctx context.Context, tenantID, id string, fn func(*store.User) error) (store.User, error) {
	var out store.User
	var fnErr error
	err := s.write(ctx, func(c *sql.Conn) error {
		u, err := getUser(ctx, c, tenantID, id)
		if err != nil {
			return err
		}
		if err := fn(&u); err != nil {
			fnErr = err
			return err
		}
		u.TenantID, u.ID = tenantID, id
		args, err := userArgs(u)
		if err != nil {
			return err
		}
		// userArgs starts with tenant_id and id; the UPDATE takes them last.
		args = append(args[2:], tenantID, id)
		_, err = c.ExecContext(ctx, `UPDATE users SET username = ?, email = ?, phone = ?,
			display_name = ?, avatar_url = ?, groups_json = ?, roles_json = ?, attributes_json = ?,
			status = ?, must_change_password = ?, password_hash = ?,
			created_at = ?, updated_at = ?, password_changed_at = ?,
			username_lower = CASE WHEN username = ?1 THEN username_lower ELSE ?15 END,
			username_legacy = CASE WHEN username = ?1 THEN username_legacy ELSE 0 END,
			email_lower = ?
			WHERE tenant_id = ? AND id = ?`, args...)
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
		return store.User{}, wrap("update user", err)
	}
	return out, nil
}

// DeleteUser implements store.Store.
func (s *Store) DeleteUser(ctx context.Context, tenantID, id string, now time.Time) error {
	err := s.write(ctx, func(c *sql.Conn) error {
		if err := execOne(ctx, c, store.ErrNotFound, `DELETE FROM users WHERE tenant_id = ? AND id = ?`, tenantID, id); err != nil {
			return err
		}
		_, err := revokeUserSessions(ctx, c, tenantID, id, "", now, reasonUserDeleted)
		return err
	})
	return wrap("delete user", err)
}
