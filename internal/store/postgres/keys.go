package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gatehouse-auth/gatehouse/internal/store"
)

// lockSigningKeys is the advisory lock key that serialises AddSigningKey
// ("gh-keys" as bytes): two processes rotating keys at once must not both
// leave their new key active.
const lockSigningKeys int64 = 0x67682d6b657973

// ListSigningKeys returns every stored signing key, newest first.
func (s *Store) ListSigningKeys(ctx context.Context) ([]store.SigningKey, error) {
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("list signing keys: %w", err)
	}
	defer cancel()
	rows, err := s.pool.Query(ctx, `SELECT kid, alg, private_enc, public_jwk, created_at, activates_at, retired_at, publish_until
		FROM signing_keys ORDER BY created_at DESC, kid DESC`)
	if err != nil {
		return nil, fmt.Errorf("list signing keys: %w", mapErr(err))
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.SigningKey, error) {
		var k store.SigningKey
		err := r.Scan(&k.KID, &k.Alg, &k.PrivateEnc, &k.PublicJWK, tsOut(&k.CreatedAt),
			tsOut(&k.ActivatesAt), tsOut(&k.RetiredAt), tsOut(&k.PublishUntil))
		return k, err
	})
	if err != nil {
		return nil, fmt.Errorf("list signing keys: %w", mapErr(err))
	}
	return out, nil
}

// AddSigningKey inserts k as the active key and retires every previously
// active key at k.SignsFrom(), published until publishUntil, in one
// transaction. store.ErrConflict when k.KID exists.
func (s *Store) AddSigningKey(ctx context.Context, k store.SigningKey, publishUntil time.Time) error {
	err := s.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, lockSigningKeys); err != nil {
			return fmt.Errorf("lock signing keys: %w", err)
		}
		_, err := tx.Exec(ctx, `UPDATE signing_keys SET retired_at = $1, publish_until = $2
			WHERE retired_at IS NULL`, ts(k.SignsFrom()), ts(publishUntil))
		if err != nil {
			return fmt.Errorf("retire keys: %w", err)
		}
		_, err = tx.Exec(ctx, `INSERT INTO signing_keys (kid, alg, private_enc, public_jwk, created_at, activates_at)
			VALUES ($1, $2, $3, $4, $5, $6)`, k.KID, k.Alg, k.PrivateEnc, k.PublicJWK, ts(k.CreatedAt), ts(k.ActivatesAt))
		return err
	})
	if err != nil {
		return fmt.Errorf("add signing key: %w", mapErr(err))
	}
	return nil
}

// AddFirstSigningKey inserts k as the active key when no key is active,
// under the same advisory lock as AddSigningKey, so that of several
// processes starting together on a fresh database exactly one key wins.
func (s *Store) AddFirstSigningKey(ctx context.Context, k store.SigningKey) (bool, error) {
	added := false
	err := s.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		added = false // inTx may retry
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, lockSigningKeys); err != nil {
			return fmt.Errorf("lock signing keys: %w", err)
		}
		var active bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM signing_keys WHERE retired_at IS NULL)`).Scan(&active); err != nil {
			return err
		}
		if active {
			return nil
		}
		_, err := tx.Exec(ctx, `INSERT INTO signing_keys (kid, alg, private_enc, public_jwk, created_at)
			VALUES ($1, $2, $3, $4, $5)`, k.KID, k.Alg, k.PrivateEnc, k.PublicJWK, ts(k.CreatedAt))
		added = err == nil
		return err
	})
	if err != nil {
		return false, fmt.Errorf("add first signing key: %w", mapErr(err))
	}
	return added, nil
}

// DeleteSigningKeysRetiredBefore removes the retired keys whose
// PublishUntil is before t. The active key is never removed.
func (s *Store) DeleteSigningKeysRetiredBefore(ctx context.Context, t time.Time) error {
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return fmt.Errorf("delete signing keys: %w", err)
	}
	defer cancel()
	_, err = s.pool.Exec(ctx, `DELETE FROM signing_keys
		WHERE retired_at IS NOT NULL AND publish_until < $1`, ts(t))
	if err != nil {
		return fmt.Errorf("delete signing keys: %w", mapErr(err))
	}
	return nil
}
