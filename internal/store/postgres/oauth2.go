package postgres

import (
	"context"
	"fmt"

	"github.com/gatehouse-auth/gatehouse/internal/store"
)

// refreshTokenSQL reads a refresh token and its session in one statement.
var refreshTokenSQL = `SELECT t.generation, t.created_at, t.expires_at, t.rotated_at, t.revoked_at, ` +
	cols("s", sessionColumns) + `
	FROM refresh_tokens t
	JOIN sessions s ON s.tenant_id = t.tenant_id AND s.id = t.session_id
	WHERE t.token_hash = $1 AND t.tenant_id = $2`

// GetRefreshToken returns a refresh token in whatever state, with its
// session (see store.OAuth2Store).
func (s *Store) GetRefreshToken(ctx context.Context, tenantID, hash string) (store.RefreshTokenInfo, error) {
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return store.RefreshTokenInfo{}, fmt.Errorf("get refresh token: %w", err)
	}
	defer cancel()
	var info store.RefreshTokenInfo
	t := &info.Token
	sc, sdest := sessionDest(&info.Session)
	dest := append([]any{&t.Generation, tsOut(&t.CreatedAt), tsOut(&t.ExpiresAt), tsOut(&info.RotatedAt), tsOut(&info.RevokedAt)}, sdest...)
	if err := s.pool.QueryRow(ctx, refreshTokenSQL, hash, tenantID).Scan(dest...); err != nil {
		return store.RefreshTokenInfo{}, fmt.Errorf("get refresh token: %w", mapErr(err))
	}
	if err := sc.finish(); err != nil {
		return store.RefreshTokenInfo{}, fmt.Errorf("get refresh token: %w", err)
	}
	t.Hash, t.TenantID, t.SessionID = hash, info.Session.TenantID, info.Session.ID
	return info, nil
}
