package store

import (
	"context"
	"time"
)

// AppSessionStore keeps what app-backend sessions (kind SessionApp) need
// beyond ordinary sessions. Their refresh token never rotates, so it is
// looked up directly rather than through RotateRefreshToken, and their
// payload can change during their life.
type AppSessionStore interface {
	// GetAppSession returns the session described by q: of kind
	// SessionApp, of q.TenantID, owned by q.ClientID, live at q.Now, and
	// holding the refresh token whose hash is q.RefreshHash, which must be
	// neither revoked nor expired at q.Now. ErrNotFound in every other case
	// (unknown token, another tenant or client, a user session's token, a
	// revoked or expired session or token).
	GetAppSession(ctx context.Context, q AppSessionQuery) (Session, error)
	// UseAppSession finds the session as GetAppSession does and, in the same
	// conditional write, sets its LastUsedAt to q.Now and, when payload is
	// not nil, its Payload to *payload. It returns the updated session;
	// ErrNotFound when GetAppSession would.
	UseAppSession(ctx context.Context, q AppSessionQuery, payload *string) (Session, error)
}

// AppSessionQuery names an app session by its client and refresh token.
type AppSessionQuery struct {
	TenantID    string
	ClientID    string
	RefreshHash string // hex SHA-256 of the opaque refresh token
	Now         time.Time
}
