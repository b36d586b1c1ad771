package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strings"

	"github.com/gatehouse-auth/gatehouse/internal/names"
	"github.com/gatehouse-auth/gatehouse/internal/store"
)

// importChunk is how many users one multi-row INSERT carries: 18 columns
// each, well below SQLite's limit of 32766 parameters.
const importChunk = 200

// importLookupSQL finds the users sharing a key with a batch: one indexed
// search per key, joined with UNION ALL (duplicates are harmless). An OR of
// the four makes SQLite scan the tenant's users, and a plain UNION lets it
// choose a merge over the primary key, which scans too: either turns a
// large import quadratic.
const importLookupSQL = importLookupCols + `id IN (SELECT value FROM json_each(?2))
	UNION ALL ` + importLookupCols + `username_lower IN (SELECT value FROM json_each(?3))
	UNION ALL ` + importLookupCols + `email_lower <> '' AND email_lower IN (SELECT value FROM json_each(?4))
	UNION ALL ` + importLookupCols + `phone <> '' AND phone IN (SELECT value FROM json_each(?5))`

const importLookupCols = `SELECT id, username_lower, email_lower, phone FROM users WHERE tenant_id = ?1 AND `

// errDryRun rolls back a dry run's transaction after its work.
var errDryRun = errors.New("dry run")

// ImportUsers implements store.Store. The batch runs in one write
// transaction (BEGIN IMMEDIATE), so the keys it looks up cannot change
// before it writes: SQLite has one writer at a time, and a server on the
// same database waits for the batch's commit (its busy timeout covers it).
func (s *Store) ImportUsers(ctx context.Context, tenantID string, batch []store.ImportUser, opts store.ImportOptions) ([]store.ImportResult, error) {
	var plan store.ImportPlan
	err := s.write(ctx, func(c *sql.Conn) error {
		existing, err := importExisting(ctx, c, tenantID, batch)
		if err != nil {
			return err
		}
		plan = store.PlanImport(batch, existing, opts.OnConflict)
		for start := 0; start < len(plan.Inserts); start += importChunk {
			if err := insertUsers(ctx, c, plan.Inserts[start:min(start+importChunk, len(plan.Inserts))]); err != nil {
				return err
			}
		}
		for _, u := range plan.Updates {
			if err := importUpdate(ctx, c, u); err != nil {
				return err
			}
		}
		if opts.DryRun {
			return errDryRun
		}
		return nil
	})
	if err != nil && !errors.Is(err, errDryRun) {
		return nil, wrap("import users", err)
	}
	return plan.Results, nil
}

// importExisting reads the keys of the tenant's users that share an id,
// username, email or phone with the batch.
func importExisting(ctx context.Context, c *sql.Conn, tenantID string, batch []store.ImportUser) ([]store.UserKeys, error) {
	var ids, usernames, emails, phones []string
	for _, u := range batch {
		ids = append(ids, u.ID)
		usernames = append(usernames, names.UsernameKey(u.Username))
		if u.Email != "" {
			emails = append(emails, names.EmailKey(u.Email))
		}
		if u.Phone != "" {
			phones = append(phones, u.Phone)
		}
	}
	args := []any{tenantID}
	for _, list := range [][]string{ids, usernames, emails, phones} {
		b, err := json.Marshal(list)
		if err != nil {
			return nil, err
		}
		args = append(args, string(b))
	}
	rows, err := c.QueryContext(ctx, importLookupSQL, args...)
	return collect(rows, err, "import lookup", func(r scanner) (store.UserKeys, error) {
		var k store.UserKeys
		err := r.Scan(&k.ID, &k.UsernameLower, &k.EmailLower, &k.Phone)
		return k, err
	})
}

// insertUsers inserts users with one multi-row INSERT.
func insertUsers(ctx context.Context, c *sql.Conn, users []store.User) error {
	var sb strings.Builder
	sb.WriteString(`INSERT INTO users (` + userCols + `, username_lower, email_lower) VALUES `)
	args := make([]any, 0, len(users)*18)
	for i, u := range users {
		a, err := userArgs(u)
		if err != nil {
			return err
		}
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString("(?" + strings.Repeat(", ?", len(a)-1) + ")")
		args = append(args, a...)
	}
	_, err := c.ExecContext(ctx, sb.String(), args...)
	return err
}

// importUpdate overwrites a stored user with an imported one, keeping
// created_at, and the password when the import carries none.
func importUpdate(ctx context.Context, c *sql.Conn, u store.User) error {
	args, err := userArgs(u)
	if err != nil {
		return err
	}
	// userArgs: tenant_id, id, username, email, phone, display_name,
	// avatar_url, groups, roles, attributes, status, must_change_password,
	// password_hash, created_at, updated_at, password_changed_at,
	// username_lower, email_lower.
	_, err = c.ExecContext(ctx, `UPDATE users SET username = ?3, email = ?4, phone = ?5,
		display_name = ?6, avatar_url = ?7, groups_json = ?8, roles_json = ?9, attributes_json = ?10,
		status = ?11, must_change_password = ?12,
		password_hash = CASE WHEN ?13 = '' THEN password_hash ELSE ?13 END,
		updated_at = ?15,
		password_changed_at = CASE WHEN ?13 = '' THEN password_changed_at ELSE ?16 END,
		username_lower = ?17, email_lower = ?18
		WHERE tenant_id = ?1 AND id = ?2`, args...)
	return err
}
