package store

import (
	"context"
	"time"
)

// Kinds of PasskeyCeremony.
const (
	CeremonyRegister = "register" // a signed-in user adds a passkey
	CeremonySignIn   = "signin"   // a sign-in with a discoverable credential, no user yet
	CeremonyMFA      = "mfa"      // a passkey as the second factor of an MFA challenge
)

// Passkey is a WebAuthn credential of a user. CredentialID is unique per
// tenant; the same authenticator may register in several tenants.
type Passkey struct {
	TenantID          string
	UserID            string
	ID                string // Gatehouse's id of the passkey
	CredentialID      []byte // the authenticator's credential id
	PublicKey         []byte // COSE_Key of the credential
	AttestationFormat string // "none", "packed", ...
	SignCount         uint32
	BackupEligible    bool
	BackupState       bool
	Transports        []string
	AAGUID            []byte
	Name              string
	CreatedAt         time.Time
	LastUsedAt        time.Time // zero until first used
}

// PasskeyUse records one successful assertion of a passkey; see
// PasskeyStore.UsePasskey.
type PasskeyUse struct {
	TenantID    string
	ID          string
	SignCount   uint32 // the counter the assertion carried
	BackupState bool
	Now         time.Time
}

// PasskeyCeremony is the server-side state of one WebAuthn ceremony (the
// challenge and what it was asked for), found by the hash of its opaque
// challenge token and completed once.
type PasskeyCeremony struct {
	TenantID  string
	Hash      string // hex SHA-256 of the opaque challenge token
	Kind      string // CeremonyRegister, CeremonySignIn or CeremonyMFA
	UserID    string // empty for CeremonySignIn
	Data      []byte // the ceremony's session data, opaque to the store
	CreatedAt time.Time
	ExpiresAt time.Time
	UsedAt    time.Time // zero until consumed
}

// PasskeyStore keeps passkeys and the state of their ceremonies. A user's
// passkeys go with the user when the user is deleted.
type PasskeyStore interface {
	// CreatePasskey inserts p. ErrNotFound when the user does not exist,
	// ErrConflict when the credential id is already registered in the tenant.
	CreatePasskey(ctx context.Context, p Passkey) error
	// ListPasskeys returns the user's passkeys, oldest first.
	ListPasskeys(ctx context.Context, tenantID, userID string) ([]Passkey, error)
	// GetPasskeyByCredentialID returns the tenant's passkey with that
	// credential id. ErrNotFound when there is none.
	GetPasskeyByCredentialID(ctx context.Context, tenantID string, credentialID []byte) (Passkey, error)
	// UsePasskey records a successful assertion atomically: it sets
	// SignCount, BackupState and LastUsedAt only if the stored counter
	// allows the new one (the new counter is greater, or both are zero, as
	// for authenticators without a counter) and answers the passkey as
	// updated. ErrConflict when the counter did not move forward (a cloned
	// authenticator, or a concurrent use of the same counter value);
	// ErrNotFound for an unknown passkey.
	UsePasskey(ctx context.Context, u PasskeyUse) (Passkey, error)
	// RenamePasskey sets the name of the user's passkey id. ErrNotFound
	// when the user has no such passkey.
	RenamePasskey(ctx context.Context, tenantID, userID, id, name string) (Passkey, error)
	// DeletePasskey removes the user's passkey id. ErrNotFound when the user
	// has no such passkey.
	DeletePasskey(ctx context.Context, tenantID, userID, id string) error

	// PutPasskeyCeremony inserts c (UsedAt zero), replacing a ceremony with
	// the same hash.
	PutPasskeyCeremony(ctx context.Context, c PasskeyCeremony) error
	// ConsumePasskeyCeremony marks the ceremony used at now if it is of kind,
	// unused and unexpired at now, and returns it. ErrNotFound otherwise: of
	// N concurrent calls exactly one succeeds.
	ConsumePasskeyCeremony(ctx context.Context, tenantID, hash, kind string, now time.Time) (PasskeyCeremony, error)
}
