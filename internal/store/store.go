// Package store defines the persistent records of Gatehouse and the Store
// interface that every storage backend implements. Read-modify-write
// operations are single methods so that their atomicity lives inside the
// backend (one transaction), never in callers.
package store

import (
	"context"
	"errors"
	"time"
)

// Errors returned by every Store implementation. Callers compare with errors.Is.
var (
	// ErrNotFound means the record does not exist in the given tenant.
	ErrNotFound = errors.New("store: not found")
	// ErrConflict means a uniqueness rule was violated (id, username, email, phone, ...).
	ErrConflict = errors.New("store: conflict")
	// ErrUnavailable means the database could not be reached or timed out.
	ErrUnavailable = errors.New("store: unavailable")
	// ErrInvalid means a value the database cannot hold, such as a NUL
	// byte in a text column of PostgreSQL. Callers validate input before it
	// reaches the store; this is the guard behind that validation.
	ErrInvalid = errors.New("store: invalid value")
)

// Store is the one storage interface of Gatehouse. All times are UTC and are
// kept with microsecond precision. Every tenant-scoped method takes the tenant
// id and never returns a record of another tenant.
type Store interface {
	// Kind names the backend: "sqlite" or "postgres".
	Kind() string
	// Migrate applies the pending versioned schema migrations.
	Migrate(ctx context.Context) error
	// Ping reports whether the database answers.
	Ping(ctx context.Context) error
	// Close releases the database.
	Close() error

	CreateTenant(ctx context.Context, t Tenant) error
	GetTenant(ctx context.Context, id string) (Tenant, error)
	ListTenants(ctx context.Context) ([]Tenant, error)

	// CreateUser inserts a user; ErrConflict when the id, the username
	// (compared by names.UsernameKey), the email (ASCII case-insensitive)
	// or the phone is taken in the tenant.
	CreateUser(ctx context.Context, u User) error
	GetUser(ctx context.Context, tenantID, id string) (User, error)
	// GetUserByLogin finds the user whose stored username equals login, or
	// whose username key equals the PRECIS preparation of login (or, for a
	// legacy username, its old key), or whose email equals login ignoring
	// ASCII case, or whose phone equals login; in that order of precedence.
	GetUserByLogin(ctx context.Context, tenantID, login string) (User, error)
	// ListLegacyUsernames returns the users that kept their pre-PRECIS
	// username key (see LegacyUsername), of one tenant or, with tenantID
	// "", of every tenant; ordered by tenant and id.
	ListLegacyUsernames(ctx context.Context, tenantID string) ([]LegacyUsername, error)
	// ListUsers returns users ordered by id, after the cursor AfterID.
	ListUsers(ctx context.Context, tenantID string, p ListUsersParams) ([]User, error)
	// UpdateUser reads the user, applies fn and writes the result in one
	// transaction. fn must not do I/O. An error from fn aborts the update and
	// is returned unchanged. ErrConflict when the new username/email/phone is taken.
	UpdateUser(ctx context.Context, tenantID, id string, fn func(*User) error) (User, error)
	// DeleteUser removes the user and revokes all their sessions (with a
	// revocation record for each live session).
	DeleteUser(ctx context.Context, tenantID, id string, now time.Time) error

	// CreateSession inserts a session together with its first refresh token.
	CreateSession(ctx context.Context, s Session, rt RefreshToken) error
	GetSession(ctx context.Context, tenantID, id string) (Session, error)
	// ListUserSessions returns the user's sessions that are neither revoked
	// nor past their absolute expiry at now, newest first.
	ListUserSessions(ctx context.Context, tenantID, userID string, now time.Time) ([]Session, error)
	// RevokeSession marks the session and all its refresh tokens revoked and
	// appends a revocation record, and does the same for its live children
	// (sessions whose ParentID is sessionID). Revoking an already revoked
	// session is not an error and revokes only children still live. It
	// returns the session and the children it revoked. ErrNotFound for an
	// unknown session.
	RevokeSession(ctx context.Context, tenantID, sessionID string, now time.Time, reason string) (Session, []Session, error)
	// RevokeUserSessions revokes every live session of the user except
	// exceptSessionID (may be empty) and returns the sessions it revoked.
	RevokeUserSessions(ctx context.Context, tenantID, userID, exceptSessionID string, now time.Time, reason string) ([]Session, error)
	// RotateRefreshToken is the atomic heart of refresh rotation; see RotateRequest.
	RotateRefreshToken(ctx context.Context, req RotateRequest) (RotateResult, error)
	// ListRevocations returns revocation records with Seq > afterSeq in
	// ascending Seq order, across all tenants, at most limit of them.
	ListRevocations(ctx context.Context, afterSeq int64, limit int) ([]Revocation, error)

	// GetThrottle returns the login-failure state of a throttle key (a
	// username or a client IP); a key never seen yields a zero Throttle.
	GetThrottle(ctx context.Context, tenantID, key string) (Throttle, error)
	// RecordFailure counts one failure for key atomically. Failures older
	// than window are forgotten first. When the count reaches max, the key
	// is locked until now+lockout and the count starts again from zero.
	RecordFailure(ctx context.Context, tenantID, key string, now time.Time, max int, window, lockout time.Duration) (Throttle, error)
	// ResetThrottle forgets the failures of key (not an active lock).
	ResetThrottle(ctx context.Context, tenantID, key string) error
	// ReserveAttempt counts one attempt for key before it is checked (a
	// password about to be hashed, a code about to be compared), in one
	// atomic step, and reports whether the attempt may go ahead. It is
	// refused, and nothing is counted, while key is locked at now or while
	// max attempts (max > 0) are already counted in the current window;
	// counts older than window are forgotten first. Of N concurrent calls
	// for a fresh key at most max are granted. The returned Throttle is the
	// state after the call (Failures includes a granted attempt).
	ReserveAttempt(ctx context.Context, tenantID, key string, now time.Time, max int, window time.Duration) (Throttle, bool, error)
	// FailAttempt concludes a granted attempt that failed: when key counts
	// max (> 0) attempts or more and is not locked at now, it is locked until
	// now+lockout and its count starts again from zero. It reports whether
	// this call locked it (of concurrent callers, one).
	FailAttempt(ctx context.Context, tenantID, key string, now time.Time, max int, lockout time.Duration) (bool, error)
	// ReleaseAttempt gives back one granted attempt that was not a failure
	// (a right password counted on an address budget, or a check that could
	// not run). Nothing happens when key counts nothing or is locked at now.
	ReleaseAttempt(ctx context.Context, tenantID, key string, now time.Time) error
	// ClearThrottle forgets key entirely: its count and an active lock.
	ClearThrottle(ctx context.Context, tenantID, key string) error

	// ListSigningKeys returns every stored signing key, newest first.
	ListSigningKeys(ctx context.Context) ([]SigningKey, error)
	// AddSigningKey inserts k as the active key and, in the same
	// transaction, marks every previously active key retired at
	// k.SignsFrom() with PublishUntil set to publishUntil.
	AddSigningKey(ctx context.Context, k SigningKey, publishUntil time.Time) error
	// AddFirstSigningKey inserts k as the active key only when no key is
	// active, and reports whether it did. Processes starting at once on a
	// fresh database each offer their own first key; exactly one is stored
	// and all of them then load that one.
	AddFirstSigningKey(ctx context.Context, k SigningKey) (bool, error)
	// DeleteSigningKeysRetiredBefore removes retired keys whose PublishUntil is before t.
	DeleteSigningKeysRetiredBefore(ctx context.Context, t time.Time) error

	AppendAudit(ctx context.Context, e AuditEvent) error
	// ListAudit returns the tenant's events matching f, newest first.
	ListAudit(ctx context.Context, tenantID string, f AuditFilter) ([]AuditEvent, error)

	FederationStore
	MFAStore
	ClientStore
	AppSessionStore
	OAuth2Store
	UserImporter
	BrowserStore
	EventStore
	PasskeyStore

	// Sweep deletes refresh tokens and sessions expired before now and
	// clears leeway retry data older than retryBefore. It keeps revocation
	// records until their Exp has passed, and delivered or failed outbox
	// messages for OutboxRetention.
	Sweep(ctx context.Context, now, retryBefore time.Time) error
}

// Tenant isolates users, clients, sessions and everything else.
type Tenant struct {
	ID        string
	Name      string
	CreatedAt time.Time
}

// User statuses.
const (
	StatusActive   = "active"
	StatusDisabled = "disabled"
	StatusLocked   = "locked"
)

// User is an account of one tenant.
type User struct {
	TenantID           string
	ID                 string
	Username           string
	Email              string // empty when unset
	Phone              string // empty when unset
	DisplayName        string
	AvatarURL          string
	Groups             []string
	Roles              []string
	Attributes         map[string]any
	Status             string
	MustChangePassword bool
	PasswordHash       string // argon2id PHC string, or an imported bcrypt hash
	CreatedAt          time.Time
	UpdatedAt          time.Time
	PasswordChangedAt  time.Time
}

// Why a user kept a legacy username key (LegacyUsername.Reason).
const (
	// LegacyCollision: the prepared form of the username is another
	// user's username.
	LegacyCollision = "collision"
	// LegacyRefused: the username profile refuses the stored name.
	LegacyRefused = "refused_by_profile"
)

// LegacyUsername is a user whose username could not move to its PRECIS
// key when usernames started being compared by RFC 8265. The user keeps
// signing in under the stored name; renaming the user clears the mark.
type LegacyUsername struct {
	TenantID string
	UserID   string
	Username string
	Reason   string // LegacyCollision or LegacyRefused
}

// ListUsersParams pages through users.
type ListUsersParams struct {
	AfterID string
	Limit   int
}

// Session kinds.
const (
	SessionUser = "user" // created by a sign-in; refresh tokens rotate
	SessionApp  = "app"  // an app-backend session; its refresh token does not rotate
)

// Session is a token family: one sign-in and every refresh token it produced.
type Session struct {
	TenantID  string
	ID        string
	UserID    string
	ClientID  string
	Kind      string
	AMR       []string
	Actor     string // acting subject for impersonation sessions; empty otherwise
	IP        string
	UserAgent string
	Payload   string
	Scope     string // OAuth 2.0 scope granted to the session (space-separated); empty for other sign-ins
	// FirstParty: the session's access tokens are first-party (their
	// audience is the issuer), accepted by Gatehouse's own endpoints.
	FirstParty bool
	// ClientBound: the session was issued to a confidential client and
	// rotates only when that client presents its refresh token (see
	// RotateRequest.Client).
	ClientBound bool
	// ParentID is, for an app session, the session whose access token
	// opened it: revoking the parent revokes it too. Empty otherwise.
	ParentID   string
	CreatedAt  time.Time
	LastUsedAt time.Time
	ExpiresAt  time.Time // absolute lifetime; never extended
	AuthTime   time.Time
	RevokedAt  time.Time // zero while live
	Reason     string    // why it was revoked
	// BrowserSessionID is the browser session that started this session
	// (authorization code flow); empty for other sign-ins.
	BrowserSessionID string
}

// Live reports whether the session is neither revoked nor expired at now.
func (s Session) Live(now time.Time) bool {
	return s.RevokedAt.IsZero() && now.Before(s.ExpiresAt)
}

// RefreshToken is the stored form of one refresh token: only its hash.
type RefreshToken struct {
	Hash       string // hex SHA-256 of the opaque token
	TenantID   string
	SessionID  string
	Generation int
	CreatedAt  time.Time
	ExpiresAt  time.Time // idle expiry, never after the session's ExpiresAt
}

// Rotation outcomes.
const (
	// Rotated: the presented token was active and is now rotated; New was inserted.
	Rotated = iota + 1
	// Retried: the presented token was rotated within the leeway and its
	// successor is still active; RetryData holds what the first rotation stored.
	Retried
	// Reused: the presented token had been rotated before (outside the
	// leeway, or its successor moved on); the session is now revoked, a
	// revocation record and the ReuseAudit event are committed.
	Reused
	// Invalid: unknown, other tenant, expired, revoked, or session not live.
	Invalid
	// WrongClient: the token is of a session that the presenting caller may
	// not rotate (RotateRequest.MayRotate); nothing was written, whether the
	// token is active or rotated: a refusal is not a reuse.
	WrongClient
)

// RotateRequest asks the store to rotate the refresh token whose hash is
// PresentedHash, in one transaction:
//   - if the token is of TenantID, not rotated, not revoked, not expired at
//     Now and its session is live and of kind SessionUser: mark it rotated at
//     Now, remember RetryData with it, insert New (its SessionID, Generation
//     and ExpiresAt are filled in by the store: same session, generation + 1,
//     ExpiresAt = min(Now+IdleTTL, session.ExpiresAt)), set the session's
//     LastUsedAt to Now, and answer Rotated with the session and its user;
//   - else if it was rotated at most Leeway before Now, its successor is
//     still active and unexpired and the session live: answer Retried with the
//     stored RetryData, the session and the user (nothing is written);
//   - else if it was rotated (reuse): revoke the session and its tokens,
//     append a revocation record and ReuseAudit (with the session's user and
//     id filled in), commit, and answer Reused;
//   - else answer Invalid.
//
// Before all of that, a token of a session that the caller may not rotate
// (see MayRotate) is answered WrongClient with nothing written; on the
// success path this condition is part of the conditional write itself.
type RotateRequest struct {
	TenantID      string
	PresentedHash string
	Now           time.Time
	IdleTTL       time.Duration
	Leeway        time.Duration
	New           RefreshToken
	RetryData     []byte // opaque (encrypted) to the store; nil when Leeway is 0
	ReuseAudit    AuditEvent
	// Client is the caller: empty for Gatehouse's own refresh paths, which
	// may rotate only sessions that are not client-bound; otherwise the
	// authenticated client of the token endpoint, which may rotate its own
	// sessions.
	Client string
	// SharedClient names a client whose sessions every caller may rotate
	// (the built-in client); empty for none.
	SharedClient string
}

// MayRotate reports whether the caller of r may rotate the refresh tokens
// of sess: a session of SharedClient always, one of the caller's own client
// always, and, on Gatehouse's own paths (Client empty), any session that is
// not client-bound.
func (r RotateRequest) MayRotate(sess Session) bool {
	switch {
	case r.SharedClient != "" && sess.ClientID == r.SharedClient:
		return true
	case r.Client == "":
		return !sess.ClientBound
	default:
		return sess.ClientID == r.Client
	}
}

// RotateResult is the answer to a RotateRequest.
type RotateResult struct {
	Outcome   int
	Session   Session
	User      User
	New       RefreshToken // as inserted, when Rotated
	RetryData []byte       // when Retried
	// Children are the live child sessions a reuse revoked with the family.
	Children []Session
}

// Revocation is one entry of the feed of revoked sessions.
type Revocation struct {
	Seq       int64
	TenantID  string
	SessionID string
	Exp       time.Time // the session's absolute expiry: no token of it is valid after this
	RevokedAt time.Time
}

// Throttle is the login-failure state of one key.
type Throttle struct {
	Failures    int
	FirstAt     time.Time // first failure of the current window
	LockedUntil time.Time // zero when not locked
}

// SigningKey is a JWT signing key; the private part is encrypted at rest.
type SigningKey struct {
	KID        string
	Alg        string    // EdDSA, ES256, RS256
	PrivateEnc []byte    // sealed private key
	PublicJWK  []byte    // JSON of the public JWK
	CreatedAt  time.Time // when it was generated and first published
	// ActivatesAt is when it starts signing, after an activation delay;
	// zero means at CreatedAt.
	ActivatesAt  time.Time
	RetiredAt    time.Time // zero for the active key; the successor's SignsFrom otherwise
	PublishUntil time.Time // zero while active; after retirement, when its last token expires
}

// SignsFrom returns when k starts signing: ActivatesAt, or CreatedAt when
// it was activated on creation.
func (k SigningKey) SignsFrom() time.Time {
	if k.ActivatesAt.IsZero() {
		return k.CreatedAt
	}
	return k.ActivatesAt
}

// AuditEvent is one security-relevant action.
type AuditEvent struct {
	ID        string // assigned by the store when empty
	Time      time.Time
	Type      string
	TenantID  string
	UserID    string
	SessionID string
	Actor     string
	IP        string
	UserAgent string
	Details   map[string]any
}

// AuditFilter narrows ListAudit.
type AuditFilter struct {
	UserID string
	Type   string
	Limit  int // default 100, max 1000
}
