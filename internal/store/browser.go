package store

import (
	"context"
	"time"
)

// BrowserSession is a signed-in browser: the cookie of the hosted pages.
// The cookie holds an opaque secret of which only Hash is stored; ID is a
// separate public id (the sid of ID tokens), so that an ID token never
// reveals the cookie. Every client session it started carries its ID
// (Session.BrowserSessionID).
type BrowserSession struct {
	TenantID      string
	ID            string
	Hash          string // hex SHA-256 of the cookie's secret
	UserID        string
	AMR           []string
	IP            string
	UserAgent     string
	AuthTime      time.Time // the last interactive sign-in
	CreatedAt     time.Time
	LastSeenAt    time.Time
	IdleExpiresAt time.Time // moves forward with use, never past ExpiresAt
	ExpiresAt     time.Time // absolute lifetime
	RevokedAt     time.Time // zero while live
}

// Live reports whether the browser session may be used at now.
func (b BrowserSession) Live(now time.Time) bool {
	return b.RevokedAt.IsZero() && now.Before(b.IdleExpiresAt) && now.Before(b.ExpiresAt)
}

// AuthCode is an OAuth 2.0 authorization code (RFC 6749 §4.1), stored as
// the hash of the code. SessionID is the session issued from it, set when
// the code is used.
type AuthCode struct {
	Hash             string
	TenantID         string
	ClientID         string
	UserID           string
	BrowserSessionID string
	RedirectURI      string
	Scope            string
	Nonce            string
	CodeChallenge    string // S256 challenge; empty only for confidential clients that sent none
	AMR              []string
	AuthTime         time.Time
	CreatedAt        time.Time
	ExpiresAt        time.Time
	UsedAt           time.Time // zero while unused
	SessionID        string
}

// Consent is what a user allowed a client: the scopes, remembered until revoked.
type Consent struct {
	TenantID  string
	UserID    string
	ClientID  string
	Scopes    []string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Kinds of AuthRequest.
const (
	AuthRequestPushed  = "pushed"  // RFC 9126 request_uri
	AuthRequestPending = "pending" // a validated request waiting for sign-in or consent
)

// AuthRequest is an authorization request kept server-side: pushed by a
// client (PAR) or pending while the browser signs in. Data is opaque to
// the store. Only the hash of its handle is stored.
type AuthRequest struct {
	Hash      string
	TenantID  string
	ClientID  string
	Kind      string
	Data      []byte
	CreatedAt time.Time
	ExpiresAt time.Time
	UsedAt    time.Time
}

// BrowserStore keeps browser sessions, authorization codes, consents and
// authorization requests.
type BrowserStore interface {
	// CreateBrowserSession inserts a browser session. When replaces names
	// a browser session of the tenant, in the same transaction every
	// session linked to that one is linked to b instead, and that one is
	// marked revoked (a new sign-in of the same browser supersedes it).
	CreateBrowserSession(ctx context.Context, b BrowserSession, replaces string) error
	// GetBrowserSession returns the browser session whose cookie hash is
	// hash, in any state and of any tenant; ErrNotFound when unknown.
	GetBrowserSession(ctx context.Context, hash string) (BrowserSession, error)
	// GetBrowserSessionByID returns a browser session of the tenant by its
	// public id, in any state; ErrNotFound when unknown.
	GetBrowserSessionByID(ctx context.Context, tenantID, id string) (BrowserSession, error)
	// TouchBrowserSession records a use at now and moves the idle expiry to
	// idleExpiresAt (the caller caps it at the absolute expiry). A revoked
	// session is left as it is. ErrNotFound when unknown.
	TouchBrowserSession(ctx context.Context, tenantID, id string, now, idleExpiresAt time.Time) error
	// EndBrowserSession revokes the browser session and, in the same
	// transaction, every live session linked to it (with their refresh
	// tokens and revocation records, as RevokeSession). It returns the
	// client sessions it revoked. Ending an ended one is not an error.
	// ErrNotFound when unknown.
	EndBrowserSession(ctx context.Context, tenantID, id string, now time.Time, reason string) ([]Session, error)

	// CreateAuthCode inserts an authorization code and, in the same
	// transaction, the audit event of its issue.
	CreateAuthCode(ctx context.Context, c AuthCode, audit AuditEvent) error
	// GetAuthCode returns the code whose hash is hash, in any state;
	// ErrNotFound when unknown.
	GetAuthCode(ctx context.Context, hash string) (AuthCode, error)
	// RedeemAuthCode uses the code whose hash is hash for the session sess,
	// in one transaction: only if the code is unused and unexpired at now,
	// it is marked used at now by sess.ID and sess is inserted with its first
	// refresh token rt (as CreateSession) and the audit event (its
	// SessionID set to sess.ID). ErrConflict when the code is used or
	// expired (nothing is written), ErrNotFound when it is unknown. Of
	// concurrent callers exactly one succeeds.
	RedeemAuthCode(ctx context.Context, hash string, now time.Time, sess Session, rt RefreshToken, audit AuditEvent) error

	// SaveConsent inserts or replaces the consent of (tenant, user, client).
	SaveConsent(ctx context.Context, c Consent) error
	// GetConsent returns the consent of a user for a client; ErrNotFound when none.
	GetConsent(ctx context.Context, tenantID, userID, clientID string) (Consent, error)
	// ListConsents returns a user's consents ordered by client id.
	ListConsents(ctx context.Context, tenantID, userID string) ([]Consent, error)
	// DeleteConsent removes a consent; ErrNotFound when none.
	DeleteConsent(ctx context.Context, tenantID, userID, clientID string) error

	// CreateAuthRequest inserts an authorization request.
	CreateAuthRequest(ctx context.Context, r AuthRequest) error
	// GetAuthRequest returns an unused, unexpired request of the kind;
	// ErrNotFound otherwise.
	GetAuthRequest(ctx context.Context, hash, kind string, now time.Time) (AuthRequest, error)
	// UpdateAuthRequest replaces the Data of an unused, unexpired request;
	// ErrNotFound otherwise.
	UpdateAuthRequest(ctx context.Context, hash string, data []byte, now time.Time) error
	// UseAuthRequest marks an unused, unexpired request of the kind used and
	// returns it; ErrNotFound otherwise. Of concurrent callers exactly one
	// succeeds.
	UseAuthRequest(ctx context.Context, hash, kind string, now time.Time) (AuthRequest, error)
}
