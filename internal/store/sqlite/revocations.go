package sqlite

import (
	"context"

	"github.com/gatehouse-auth/gatehouse/internal/store"
)

// Page sizes of ListRevocations.
const (
	defaultRevocationPage = 1000
	maxRevocationPage     = 10000
)

// ListRevocations implements store.Store. A limit of zero or less means 1000.
func (s *Store) ListRevocations(ctx context.Context, afterSeq int64, limit int) ([]store.Revocation, error) {
	if err := s.usable(); err != nil {
		return nil, err
	}
	rows, err := s.reader.QueryContext(ctx, `SELECT seq, tenant_id, session_id, exp, revoked_at
		FROM revocations WHERE seq > ? ORDER BY seq LIMIT ?`,
		afterSeq, clampLimit(limit, defaultRevocationPage, maxRevocationPage))
	if err != nil {
		return nil, wrap("list revocations", err)
	}
	defer rows.Close()
	var out []store.Revocation
	for rows.Next() {
		var r store.Revocation
		if err := rows.Scan(&r.Seq, &r.TenantID, &r.SessionID, timeCol{&r.Exp}, timeCol{&r.RevokedAt}); err != nil {
			return nil, wrap("list revocations", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap("list revocations", err)
	}
	return out, nil
}
