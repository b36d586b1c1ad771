package sqlite

import (
	"context"
	"strings"

	"github.com/gatehouse-auth/gatehouse/internal/store"
)

// refreshTokenSQL reads a refresh token and its session in one statement,
// so that both come from the same snapshot.
var refreshTokenSQL = `SELECT t.generation, t.created_at, t.expires_at, t.rotated_at, t.revoked_at, ` +
	prefixCols("s", sessionCols) + `
	FROM refresh_tokens t
	JOIN sessions s ON s.tenant_id = t.tenant_id AND s.id = t.session_id
	WHERE t.token_hash = ? AND t.tenant_id = ?`

// GetRefreshToken implements store.OAuth2Store.
func (s *Store) GetRefreshToken(ctx context.Context, tenantID, hash string) (store.RefreshTokenInfo, error) {
	if err := s.usable(); err != nil {
		return store.RefreshTokenInfo{}, err
	}
	var info store.RefreshTokenInfo
	t := &info.Token
	row := s.reader.QueryRowContext(ctx, refreshTokenSQL, hash, tenantID)
	sess, err := scanSession(leadingScanner{row, []any{&t.Generation, timeCol{&t.CreatedAt}, timeCol{&t.ExpiresAt},
		timeCol{&info.RotatedAt}, timeCol{&info.RevokedAt}}})
	if err != nil {
		return store.RefreshTokenInfo{}, wrap("get refresh token", err)
	}
	info.Session = sess
	t.Hash, t.TenantID, t.SessionID = hash, sess.TenantID, sess.ID
	return info, nil
}

// leadingScanner scans some columns of its own before those of the
// wrapped scan.
type leadingScanner struct {
	r    scanner
	lead []any
}

// Scan implements scanner.
func (l leadingScanner) Scan(dest ...any) error {
	return l.r.Scan(append(l.lead[:len(l.lead):len(l.lead)], dest...)...)
}

// prefixCols qualifies a comma-separated column list with a table alias.
func prefixCols(alias, list string) string {
	parts := strings.Split(list, ",")
	for i, p := range parts {
		parts[i] = alias + "." + strings.TrimSpace(p)
	}
	return strings.Join(parts, ", ")
}
