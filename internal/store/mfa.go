package store

import (
	"context"
	"time"
)

// FactorTOTP is the kind of a TOTP (RFC 6238) second factor.
const FactorTOTP = "totp"

// Kinds of DeviceMark: what a known-device hash was computed from.
const (
	DeviceIP        = "ip"
	DeviceUserAgent = "ua"
)

// MFAFactor is a second factor of a user. A factor is pending from its
// creation until it is confirmed (ConfirmedAt set); only confirmed factors
// count. A user has at most one pending and one confirmed factor of a kind.
type MFAFactor struct {
	TenantID    string
	UserID      string
	ID          string
	Kind        string // FactorTOTP
	SecretEnc   []byte // the secret, sealed with the master key; never in clear
	CreatedAt   time.Time
	ConfirmedAt time.Time // zero while pending
}

// Active reports whether the factor has been confirmed.
func (f MFAFactor) Active() bool { return !f.ConfirmedAt.IsZero() }

// MFAChallenge is a pending sign-in waiting for its second factor. Only the
// hash of the challenge token is stored.
type MFAChallenge struct {
	TenantID  string
	Hash      string // hex SHA-256 of the opaque challenge token
	UserID    string
	Methods   []string // the methods that may complete it ("totp", "recovery_code")
	Data      []byte   // the pending sign-in, opaque to the store
	CreatedAt time.Time
	ExpiresAt time.Time
	Attempts  int       // codes presented so far (each counted before it is checked)
	UsedAt    time.Time // zero until completed
}

// CompleteChallengeRequest completes an MFA challenge in one transaction;
// see MFAStore.CompleteChallenge.
type CompleteChallengeRequest struct {
	TenantID    string
	Hash        string // the challenge's token hash
	Now         time.Time
	MaxAttempts int // a challenge with this many attempts counted is over
	// TOTPStep, when non-zero, is the TOTP time step of the accepted code:
	// it is recorded as used for the challenge's user and TOTPFactorID,
	// the factor whose code it is (replay guard).
	TOTPStep     int64
	TOTPFactorID string
	// RecoveryHash, when set, is the hash of a recovery code of the
	// challenge's user, which is marked used.
	RecoveryHash string
}

// KnownDevice is one client IP or User-Agent that a user signed in from,
// remembered as a keyed hash (personal data is never kept in clear).
type KnownDevice struct {
	TenantID  string
	UserID    string
	Kind      string // DeviceIP or DeviceUserAgent
	Hash      string
	FirstSeen time.Time
	LastSeen  time.Time
}

// DeviceMark names one known-device hash to remember.
type DeviceMark struct {
	Kind string // DeviceIP or DeviceUserAgent
	Hash string
}

// MFAStore keeps second factors, recovery codes, MFA challenges, the TOTP
// replay guard and the known devices the risk assessment remembers. Every
// record belongs to a user and goes with the user when the user is deleted.
type MFAStore interface {
	// PutPendingFactor inserts f as the user's pending factor of its kind,
	// replacing a pending one; a confirmed factor stays until the new one is
	// confirmed. ErrNotFound when the user does not exist.
	PutPendingFactor(ctx context.Context, f MFAFactor) error
	// ListFactors returns the user's factors, confirmed and pending, oldest first.
	ListFactors(ctx context.Context, tenantID, userID string) ([]MFAFactor, error)
	// ConfirmFactor, in one transaction, confirms the pending factor
	// factorID at now (only if it is still pending), deletes the user's other
	// factors of its kind and replaces the user's recovery codes with
	// recoveryHashes. ErrNotFound when the factor is not pending.
	ConfirmFactor(ctx context.Context, tenantID, userID, factorID string, now time.Time, recoveryHashes []string) (MFAFactor, error)
	// DeleteFactors removes every factor, recovery code and open challenge
	// of the user and reports how many factors it removed.
	DeleteFactors(ctx context.Context, tenantID, userID string) (int, error)
	// CountRecoveryCodes returns how many of the user's recovery codes are unused.
	CountRecoveryCodes(ctx context.Context, tenantID, userID string) (int, error)
	// UseTOTPStep records that a TOTP code of the user's factor factorID
	// of time step step was accepted at now. ErrConflict when that step was
	// already used with that factor: of N concurrent calls for the same
	// factor and step exactly one succeeds. Another factor's use of the step
	// (the factor an admin reset or a re-enrolment replaced) does not count.
	UseTOTPStep(ctx context.Context, tenantID, userID, factorID string, step int64, now time.Time) error

	// CreateChallenge inserts an MFA challenge (Attempts and UsedAt zero).
	// ErrNotFound when the user does not exist.
	CreateChallenge(ctx context.Context, c MFAChallenge) error
	// GetChallenge returns a challenge by its token hash, whatever its state.
	GetChallenge(ctx context.Context, tenantID, hash string) (MFAChallenge, error)
	// ReserveChallengeAttempt counts one attempt (a code about to be
	// checked) against a challenge that is still open (unused, unexpired at
	// now, fewer than maxAttempts attempts counted) and returns it as
	// updated; a wrong code stays counted. ErrNotFound when it is not open:
	// of N concurrent calls at most maxAttempts succeed.
	ReserveChallengeAttempt(ctx context.Context, tenantID, hash string, now time.Time, maxAttempts int) (MFAChallenge, error)
	// CompleteChallenge, in one transaction: marks the challenge used at
	// req.Now if it is still open (see ReserveChallengeAttempt; a caller
	// that counted its own attempt first passes one more than its limit),
	// else ErrNotFound;
	// records req.TOTPStep for its user and req.TOTPFactorID when non-zero,
	// else ErrConflict when that step was already used with that factor; marks the unused recovery code
	// req.RecoveryHash of its user used when set, else ErrConflict. On any
	// error nothing is written. Of N concurrent calls exactly one succeeds.
	CompleteChallenge(ctx context.Context, req CompleteChallengeRequest) (MFAChallenge, error)

	// ListKnownDevices returns the user's known devices, most recently seen first.
	ListKnownDevices(ctx context.Context, tenantID, userID string) ([]KnownDevice, error)
	// RememberDevices records marks as seen at now (inserting new ones,
	// updating LastSeen of known ones) and keeps at most maxPerKind (when positive) devices
	// of each kind for the user, forgetting the least recently seen.
	RememberDevices(ctx context.Context, tenantID, userID string, marks []DeviceMark, now time.Time, maxPerKind int) error

	// SweepMFA deletes challenges and passkey ceremonies that expired
	// before now and TOTP replay records of codes used before usedBefore.
	SweepMFA(ctx context.Context, now, usedBefore time.Time) error
}
