package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gatehouse-auth/gatehouse/internal/store"
)

// passkeyCols lists the columns scanPasskey reads, in order.
const passkeyCols = `tenant_id, user_id, id, credential_id, public_key, attestation_format, sign_count,
	backup_eligible, backup_state, transports, aaguid, name, created_at, last_used_at`

func scanPasskey(r scanner) (store.Passkey, error) {
	var p store.Passkey
	var count int64
	var transports []byte
	if err := r.Scan(&p.TenantID, &p.UserID, &p.ID, &p.CredentialID, &p.PublicKey, &p.AttestationFormat, &count,
		&p.BackupEligible, &p.BackupState, &transports, &p.AAGUID, &p.Name,
		tsOut(&p.CreatedAt), tsOut(&p.LastUsedAt)); err != nil {
		return store.Passkey{}, err
	}
	p.SignCount = uint32(count)
	if err := jsonOut(transports, &p.Transports); err != nil {
		return store.Passkey{}, fmt.Errorf("transports: %w", err)
	}
	return p, nil
}

// CreatePasskey implements store.PasskeyStore.
func (s *Store) CreatePasskey(ctx context.Context, p store.Passkey) error {
	transports, err := jsonIn(p.Transports)
	if err != nil {
		return fmt.Errorf("create passkey: %w", err)
	}
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return fmt.Errorf("create passkey: %w", err)
	}
	defer cancel()
	if _, err := s.pool.Exec(ctx, `INSERT INTO passkeys (`+passkeyCols+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
		p.TenantID, p.UserID, p.ID, p.CredentialID, p.PublicKey, p.AttestationFormat, int64(p.SignCount),
		p.BackupEligible, p.BackupState, transports, p.AAGUID, p.Name, ts(p.CreatedAt), ts(p.LastUsedAt)); err != nil {
		return fmt.Errorf("create passkey: %w", mapMFAErr(err))
	}
	return nil
}

// ListPasskeys implements store.PasskeyStore.
func (s *Store) ListPasskeys(ctx context.Context, tenantID, userID string) ([]store.Passkey, error) {
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("list passkeys: %w", err)
	}
	defer cancel()
	rows, err := s.pool.Query(ctx, `SELECT `+passkeyCols+` FROM passkeys
		WHERE tenant_id = $1 AND user_id = $2 ORDER BY created_at, id`, tenantID, userID)
	if err != nil {
		return nil, fmt.Errorf("list passkeys: %w", mapErr(err))
	}
	defer rows.Close()
	var out []store.Passkey
	for rows.Next() {
		p, err := scanPasskey(rows)
		if err != nil {
			return nil, fmt.Errorf("list passkeys: %w", mapErr(err))
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list passkeys: %w", mapErr(err))
	}
	return out, nil
}

// GetPasskeyByCredentialID implements store.PasskeyStore.
func (s *Store) GetPasskeyByCredentialID(ctx context.Context, tenantID string, credentialID []byte) (store.Passkey, error) {
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return store.Passkey{}, fmt.Errorf("get passkey: %w", err)
	}
	defer cancel()
	p, err := scanPasskey(s.pool.QueryRow(ctx, `SELECT `+passkeyCols+` FROM passkeys
		WHERE tenant_id = $1 AND credential_id = $2`, tenantID, credentialID))
	if err != nil {
		return store.Passkey{}, fmt.Errorf("get passkey: %w", mapErr(err))
	}
	return p, nil
}

// UsePasskey implements store.PasskeyStore. The conditional UPDATE
// re-evaluates the counter on the row's latest version, so two uses of one
// counter value cannot both pass.
func (s *Store) UsePasskey(ctx context.Context, u store.PasskeyUse) (store.Passkey, error) {
	var out store.Passkey
	err := s.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		p, err := scanPasskey(tx.QueryRow(ctx, `UPDATE passkeys SET sign_count = $3, backup_state = $4, last_used_at = $5
			WHERE tenant_id = $1 AND id = $2 AND (sign_count < $3 OR (sign_count = 0 AND $3 = 0))
			RETURNING `+passkeyCols, u.TenantID, u.ID, int64(u.SignCount), u.BackupState, ts(u.Now)))
		if err == nil {
			out = p
			return nil
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		var one int
		if err := tx.QueryRow(ctx, `SELECT 1 FROM passkeys WHERE tenant_id = $1 AND id = $2`, u.TenantID, u.ID).Scan(&one); err != nil {
			return err
		}
		return fmt.Errorf("signature counter did not increase: %w", store.ErrConflict)
	})
	if err != nil {
		return store.Passkey{}, fmt.Errorf("use passkey: %w", mapErr(err))
	}
	return out, nil
}

// RenamePasskey implements store.PasskeyStore.
func (s *Store) RenamePasskey(ctx context.Context, tenantID, userID, id, name string) (store.Passkey, error) {
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return store.Passkey{}, fmt.Errorf("rename passkey: %w", err)
	}
	defer cancel()
	p, err := scanPasskey(s.pool.QueryRow(ctx, `UPDATE passkeys SET name = $4
		WHERE tenant_id = $1 AND user_id = $2 AND id = $3 RETURNING `+passkeyCols, tenantID, userID, id, name))
	if err != nil {
		return store.Passkey{}, fmt.Errorf("rename passkey: %w", mapErr(err))
	}
	return p, nil
}

// DeletePasskey implements store.PasskeyStore.
func (s *Store) DeletePasskey(ctx context.Context, tenantID, userID, id string) error {
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return fmt.Errorf("delete passkey: %w", err)
	}
	defer cancel()
	tag, err := s.pool.Exec(ctx, `DELETE FROM passkeys WHERE tenant_id = $1 AND user_id = $2 AND id = $3`, tenantID, userID, id)
	if err != nil {
		return fmt.Errorf("delete passkey: %w", mapErr(err))
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("delete passkey: %w", store.ErrNotFound)
	}
	return nil
}

// ceremonyCols lists the columns scanCeremony reads, in order.
const ceremonyCols = `tenant_id, token_hash, kind, user_id, data, created_at, expires_at, used_at`

func scanCeremony(r scanner) (store.PasskeyCeremony, error) {
	var c store.PasskeyCeremony
	err := r.Scan(&c.TenantID, &c.Hash, &c.Kind, &c.UserID, &c.Data, tsOut(&c.CreatedAt), tsOut(&c.ExpiresAt), tsOut(&c.UsedAt))
	return c, err
}

// PutPasskeyCeremony implements store.PasskeyStore.
func (s *Store) PutPasskeyCeremony(ctx context.Context, pc store.PasskeyCeremony) error {
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return fmt.Errorf("put passkey ceremony: %w", err)
	}
	defer cancel()
	if _, err := s.pool.Exec(ctx, `INSERT INTO passkey_ceremonies (`+ceremonyCols+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, NULL)
		ON CONFLICT (tenant_id, token_hash) DO UPDATE SET kind = excluded.kind, user_id = excluded.user_id,
			data = excluded.data, created_at = excluded.created_at, expires_at = excluded.expires_at, used_at = NULL`,
		pc.TenantID, pc.Hash, pc.Kind, pc.UserID, pc.Data, ts(pc.CreatedAt), ts(pc.ExpiresAt)); err != nil {
		return fmt.Errorf("put passkey ceremony: %w", mapErr(err))
	}
	return nil
}

// ConsumePasskeyCeremony implements store.PasskeyStore.
func (s *Store) ConsumePasskeyCeremony(ctx context.Context, tenantID, hash, kind string, now time.Time) (store.PasskeyCeremony, error) {
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return store.PasskeyCeremony{}, fmt.Errorf("consume passkey ceremony: %w", err)
	}
	defer cancel()
	c, err := scanCeremony(s.pool.QueryRow(ctx, `UPDATE passkey_ceremonies SET used_at = $4
		WHERE tenant_id = $1 AND token_hash = $2 AND kind = $3 AND used_at IS NULL AND expires_at > $4
		RETURNING `+ceremonyCols, tenantID, hash, kind, ts(now)))
	if err != nil {
		return store.PasskeyCeremony{}, fmt.Errorf("consume passkey ceremony: %w", mapErr(err))
	}
	return c, nil
}
