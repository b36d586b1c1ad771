package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/store"
)

// ListSigningKeys implements store.Store.
func (s *Store) ListSigningKeys(ctx context.Context) ([]store.SigningKey, error) {
	if err := s.usable(); err != nil {
		return nil, err
	}
	rows, err := s.reader.QueryContext(ctx, `SELECT kid, alg, private_enc, public_jwk,
		       created_at, activates_at, retired_at, publish_until
		FROM signing_keys ORDER BY created_at DESC, rowid DESC`)
	if err != nil {
		return nil, wrap("list signing keys", err)
	}
	defer rows.Close()
	var out []store.SigningKey
	for rows.Next() {
		var k store.SigningKey
		if err := rows.Scan(&k.KID, &k.Alg, &k.PrivateEnc, &k.PublicJWK,
			timeCol{&k.CreatedAt}, timeCol{&k.ActivatesAt}, timeCol{&k.RetiredAt}, timeCol{&k.PublishUntil}); err != nil {
			return nil, wrap("list signing keys", err)
		}
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap("list signing keys", err)
	}
	return out, nil
}

// AddSigningKey implements store.Store. k is stored as active whatever its
// RetiredAt and PublishUntil say.
func (s *Store) AddSigningKey(ctx context.Context, k store.SigningKey, publishUntil time.Time) error {
	err := s.write(ctx, func(c *sql.Conn) error {
		if _, err := c.ExecContext(ctx, `UPDATE signing_keys SET retired_at = ?, publish_until = ?
			WHERE retired_at IS NULL`, micros(k.SignsFrom()), micros(publishUntil)); err != nil {
			return err
		}
		_, err := c.ExecContext(ctx, `INSERT INTO signing_keys
			(kid, alg, private_enc, public_jwk, created_at, activates_at) VALUES (?, ?, ?, ?, ?, ?)`,
			k.KID, k.Alg, k.PrivateEnc, k.PublicJWK, micros(k.CreatedAt), micros(k.ActivatesAt))
		return err
	})
	return wrap("add signing key", err)
}

// AddFirstSigningKey implements store.Store: the check and the insert run
// in one write transaction (BEGIN IMMEDIATE), which also serialises
// processes sharing the file.
func (s *Store) AddFirstSigningKey(ctx context.Context, k store.SigningKey) (bool, error) {
	added := false
	err := s.write(ctx, func(c *sql.Conn) error {
		var active bool
		if err := c.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM signing_keys WHERE retired_at IS NULL)`).Scan(&active); err != nil {
			return err
		}
		if active {
			return nil
		}
		_, err := c.ExecContext(ctx, `INSERT INTO signing_keys
			(kid, alg, private_enc, public_jwk, created_at) VALUES (?, ?, ?, ?, ?)`,
			k.KID, k.Alg, k.PrivateEnc, k.PublicJWK, micros(k.CreatedAt))
		added = err == nil
		return err
	})
	if err != nil {
		return false, wrap("add first signing key", err)
	}
	return added, nil
}

// DeleteSigningKeysRetiredBefore implements store.Store. A retired key
// without a PublishUntil is kept.
func (s *Store) DeleteSigningKeysRetiredBefore(ctx context.Context, t time.Time) error {
	err := s.write(ctx, func(c *sql.Conn) error {
		_, err := c.ExecContext(ctx, `DELETE FROM signing_keys
			WHERE retired_at IS NOT NULL AND publish_until IS NOT NULL AND publish_until < ?`, t.UnixMicro())
		return err
	})
	return wrap("delete retired signing keys", err)
}
