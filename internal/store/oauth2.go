package store

import (
	"context"
	"time"
)

// SessionClient is the kind of a session that an OAuth 2.0 client opened
// for itself (client credentials grant): no user, no usable refresh token,
// and a lifetime of one access token. Its UserID is "client:" + the client id.
const SessionClient = "client"

// RefreshTokenInfo is a stored refresh token with its state and its session.
type RefreshTokenInfo struct {
	Token     RefreshToken
	RotatedAt time.Time // zero while the token is active
	RevokedAt time.Time // zero unless revoked
	Session   Session
}

// Active reports whether the token could be presented for a refresh at
// now: neither rotated, revoked nor expired, and its session live.
func (i RefreshTokenInfo) Active(now time.Time) bool {
	return i.RotatedAt.IsZero() && i.RevokedAt.IsZero() && now.Before(i.Token.ExpiresAt) && i.Session.Live(now)
}

// OAuth2Store is what the OAuth 2.0 endpoints need beyond sessions and
// rotation: reading a refresh token without using it (introspection,
// revocation, and the client check that precedes a rotation).
type OAuth2Store interface {
	// GetRefreshToken returns the refresh token whose hash is hash, in
	// whatever state, with its session. ErrNotFound when it is unknown or
	// belongs to another tenant.
	GetRefreshToken(ctx context.Context, tenantID, hash string) (RefreshTokenInfo, error)
}
