package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/gatehouse-auth/gatehouse/internal/names"
	"github.com/gatehouse-auth/gatehouse/internal/store"
)

// errDryRun rolls back a dry run's transaction after its work.
var errDryRun = errors.New("dry run")

// ImportUsers implements store.Store. The batch's keys are looked up, the
// plan made and written with COPY in one transaction. A server on the same
// database may create a user with one of the batch's keys between the
// lookup and the COPY; the unique index then refuses the COPY and the
// transaction runs again, now seeing that user.
func (s *Store) ImportUsers(ctx context.Context, tenantID string, batch []store.ImportUser, opts store.ImportOptions) ([]store.ImportResult, error) {
	var plan store.ImportPlan
	err := s.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		var one int
		if err := tx.QueryRow(ctx, `SELECT 1 FROM tenants WHERE id = $1`, tenantID).Scan(&one); err != nil {
			return err
		}
		existing, err := importExisting(ctx, tx, tenantID, batch)
		if err != nil {
			return err
		}
		plan = store.PlanImport(batch, existing, opts.OnConflict)
		if err := copyUsers(ctx, tx, plan.Inserts); err != nil {
			var pgErr *pgconn.PgError
			if errors.As(err, &pgErr) && pgErr.Code == codeUniqueViolation {
				return errRetry
			}
			return err
		}
		if err := importUpdates(ctx, tx, plan.Updates); err != nil {
			return err
		}
		if opts.DryRun {
			return errDryRun
		}
		return nil
	})
	switch {
	case errors.Is(err, errDryRun):
		return plan.Results, nil
	case errors.Is(err, errRetry):
		return nil, fmt.Errorf("import users: %w: the batch's keys kept changing", store.ErrConflict)
	case err != nil:
		return nil, fmt.Errorf("import users: %w", mapErr(err))
	}
	return plan.Results, nil
}

// importExisting reads the keys of the tenant's users that share an id,
// username, email or phone with the batch.
func importExisting(ctx context.Context, tx pgx.Tx, tenantID string, batch []store.ImportUser) ([]store.UserKeys, error) {
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
	rows, err := tx.Query(ctx, `SELECT id, username_lower, email_lower, phone FROM users
		WHERE tenant_id = $1 AND (id = ANY($2) OR username_lower = ANY($3)
			OR (email_lower <> '' AND email_lower = ANY($4)) OR (phone <> '' AND phone = ANY($5)))`,
		tenantID, ids, usernames, emails, phones)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.UserKeys, error) {
		var k store.UserKeys
		err := r.Scan(&k.ID, &k.UsernameLower, &k.EmailLower, &k.Phone)
		return k, err
	})
}

// copyUsers inserts users with COPY.
func copyUsers(ctx context.Context, tx pgx.Tx, users []store.User) error {
	if len(users) == 0 {
		return nil
	}
	rows := make([][]any, len(users))
	for i, u := range users {
		a, err := userArgs(u)
		if err != nil {
			return err
		}
		rows[i] = a
	}
	columns := append(append([]string{}, userColumns...), "username_lower", "email_lower")
	_, err := tx.CopyFrom(ctx, pgx.Identifier{"users"}, columns, pgx.CopyFromRows(rows))
	return err
}

// importUpdates overwrites stored users with imported ones, keeping
// created_at, and the password when the import carries none. The updates
// go to the server in one round trip.
func importUpdates(ctx context.Context, tx pgx.Tx, users []store.User) error {
	if len(users) == 0 {
		return nil
	}
	b := &pgx.Batch{}
	for _, u := range users {
		args, err := userArgs(u)
		if err != nil {
			return err
		}
		// userArgs: tenant_id, id, username, email, phone, display_name,
		// avatar_url, groups, roles, attributes, status,
		// must_change_password, password_hash, created_at, updated_at,
		// password_changed_at, username_lower, email_lower; created_at is
		// kept, so it is left out.
		args = append(args[:13], args[14:]...)
		b.Queue(`UPDATE users SET username = $3, email = $4, phone = $5,
			display_name = $6, avatar_url = $7, groups = $8, roles = $9, attributes = $10,
			status = $11, must_change_password = $12,
			password_hash = CASE WHEN $13::text = '' THEN password_hash ELSE $13 END,
			updated_at = $14,
			password_changed_at = CASE WHEN $13::text = '' THEN password_changed_at ELSE $15 END,
			username_lower = $16, email_lower = $17
			WHERE tenant_id = $1 AND id = $2`, args...)
	}
	return tx.SendBatch(ctx, b).Close()
}
