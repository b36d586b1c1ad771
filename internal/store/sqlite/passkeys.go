package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/store"
)

// passkeyCols lists the columns scanPasskey reads, in order.
const passkeyCols = `tenant_id, user_id, id, credential_id, public_key, attestation_format, sign_count,
	backup_eligible, backup_state, transports_json, aaguid, name, created_at, last_used_at`

func scanPasskey(r scanner) (store.Passkey, error) {
	var p store.Passkey
	var count int64
	err := r.Scan(&p.TenantID, &p.UserID, &p.ID, &p.CredentialID, &p.PublicKey, &p.AttestationFormat, &count,
		&p.BackupEligible, &p.BackupState, jsonCol{&p.Transports}, &p.AAGUID, &p.Name,
		timeCol{&p.CreatedAt}, timeCol{&p.LastUsedAt})
	p.SignCount = uint32(count)
	return p, err
}

// CreatePasskey implements store.PasskeyStore.
func (s *Store) CreatePasskey(ctx context.Context, p store.Passkey) error {
	transports, err := jsonText(p.Transports)
	if err != nil {
		return fmt.Errorf("create passkey: %w", err)
	}
	err = s.write(ctx, func(c *sql.Conn) error {
		_, err := c.ExecContext(ctx, `INSERT INTO passkeys (`+passkeyCols+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			p.TenantID, p.UserID, p.ID, p.CredentialID, p.PublicKey, p.AttestationFormat, int64(p.SignCount),
			p.BackupEligible, p.BackupState, transports, p.AAGUID, p.Name, micros(p.CreatedAt), micros(p.LastUsedAt))
		return err
	})
	return wrap("create passkey", err)
}

// ListPasskeys implements store.PasskeyStore.
func (s *Store) ListPasskeys(ctx context.Context, tenantID, userID string) ([]store.Passkey, error) {
	if err := s.usable(); err != nil {
		return nil, err
	}
	rows, err := s.reader.QueryContext(ctx, `SELECT `+passkeyCols+` FROM passkeys
		WHERE tenant_id = ? AND user_id = ? ORDER BY created_at, id`, tenantID, userID)
	return collect(rows, err, "list passkeys", scanPasskey)
}

// GetPasskeyByCredentialID implements store.PasskeyStore.
func (s *Store) GetPasskeyByCredentialID(ctx context.Context, tenantID string, credentialID []byte) (store.Passkey, error) {
	if err := s.usable(); err != nil {
		return store.Passkey{}, err
	}
	p, err := scanPasskey(s.reader.QueryRowContext(ctx, `SELECT `+passkeyCols+` FROM passkeys
		WHERE tenant_id = ? AND credential_id = ?`, tenantID, credentialID))
	return p, wrap("get passkey", err)
}

// UsePasskey implements store.PasskeyStore. The conditional UPDATE runs
// under the write lock, so two uses of one counter value cannot both pass.
func (s *Store) UsePasskey(ctx context.Context, u store.PasskeyUse) (store.Passkey, error) {
	var out store.Passkey
	err := s.write(ctx, func(c *sql.Conn) error {
		p, err := scanPasskey(c.QueryRowContext(ctx, `UPDATE passkeys SET sign_count = ?3, backup_state = ?4, last_used_at = ?5
			WHERE tenant_id = ?1 AND id = ?2 AND (sign_count < ?3 OR (sign_count = 0 AND ?3 = 0))
			RETURNING `+passkeyCols, u.TenantID, u.ID, int64(u.SignCount), u.BackupState, u.Now.UnixMicro()))
		if err == nil {
			out = p
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		var one int
		if err := c.QueryRowContext(ctx, `SELECT 1 FROM passkeys WHERE tenant_id = ? AND id = ?`, u.TenantID, u.ID).Scan(&one); err != nil {
			return err
		}
		return fmt.Errorf("signature counter did not increase: %w", store.ErrConflict)
	})
	if err != nil {
		return store.Passkey{}, wrap("use passkey", err)
	}
	return out, nil
}

// RenamePasskey implements store.PasskeyStore.
func (s *Store) RenamePasskey(ctx context.Context, tenantID, userID, id, name string) (store.Passkey, error) {
	var out store.Passkey
	err := s.write(ctx, func(c *sql.Conn) error {
		var err error
		out, err = scanPasskey(c.QueryRowContext(ctx, `UPDATE passkeys SET name = ?
			WHERE tenant_id = ? AND user_id = ? AND id = ? RETURNING `+passkeyCols, name, tenantID, userID, id))
		return err
	})
	if err != nil {
		return store.Passkey{}, wrap("rename passkey", err)
	}
	return out, nil
}

// DeletePasskey implements store.PasskeyStore.
func (s *Store) DeletePasskey(ctx context.Context, tenantID, userID, id string) error {
	err := s.write(ctx, func(c *sql.Conn) error {
		return execOne(ctx, c, store.ErrNotFound, `DELETE FROM passkeys WHERE tenant_id = ? AND user_id = ? AND id = ?`,
			tenantID, userID, id)
	})
	return wrap("delete passkey", err)
}

// ceremonyCols lists the columns scanCeremony reads, in order.
const ceremonyCols = `tenant_id, token_hash, kind, user_id, data, created_at, expires_at, used_at`

func scanCeremony(r scanner) (store.PasskeyCeremony, error) {
	var c store.PasskeyCeremony
	err := r.Scan(&c.TenantID, &c.Hash, &c.Kind, &c.UserID, &c.Data, timeCol{&c.CreatedAt}, timeCol{&c.ExpiresAt}, timeCol{&c.UsedAt})
	return c, err
}

// PutPasskeyCeremony implements store.PasskeyStore.
func (s *Store) PutPasskeyCeremony(ctx context.Context, pc store.PasskeyCeremony) error {
	err := s.write(ctx, func(c *sql.Conn) error {
		_, err := c.ExecContext(ctx, `INSERT INTO passkey_ceremonies (`+ceremonyCols+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, NULL)
			ON CONFLICT (tenant_id, token_hash) DO UPDATE SET kind = excluded.kind, user_id = excluded.user_id,
				data = excluded.data, created_at = excluded.created_at, expires_at = excluded.expires_at, used_at = NULL`,
			pc.TenantID, pc.Hash, pc.Kind, pc.UserID, pc.Data, micros(pc.CreatedAt), pc.ExpiresAt.UnixMicro())
		return err
	})
	return wrap("put passkey ceremony", err)
}

// ConsumePasskeyCeremony implements store.PasskeyStore.
func (s *Store) ConsumePasskeyCeremony(ctx context.Context, tenantID, hash, kind string, now time.Time) (store.PasskeyCeremony, error) {
	var out store.PasskeyCeremony
	err := s.write(ctx, func(c *sql.Conn) error {
		var err error
		out, err = scanCeremony(c.QueryRowContext(ctx, `UPDATE passkey_ceremonies SET used_at = ?4
			WHERE tenant_id = ?1 AND token_hash = ?2 AND kind = ?3 AND used_at IS NULL AND expires_at > ?4
			RETURNING `+ceremonyCols, tenantID, hash, kind, now.UnixMicro()))
		return err
	})
	if err != nil {
		return store.PasskeyCeremony{}, wrap("consume passkey ceremony", err)
	}
	return out, nil
}
