package store

import (
	"context"
	"time"
)

// Ticket purposes.
const (
	// TicketSignin signs the user in as themselves (cross-system SSO).
	TicketSignin = "signin"
	// TicketImpersonation signs an administrator in as the user; the
	// session's tokens name the administrator in their act claim.
	TicketImpersonation = "impersonation"
)

// Ticket is a one-time sign-in ticket; only the hash of the ticket is kept.
type Ticket struct {
	Hash      string // hex SHA-256 of the opaque ticket
	TenantID  string
	UserID    string
	Purpose   string // TicketSignin or TicketImpersonation
	Actor     string // who issued the ticket (for impersonation: the acting subject)
	CreatedAt time.Time
	ExpiresAt time.Time
	UsedAt    time.Time // zero until redeemed
}

// Provider is an external OpenID provider trusted by one tenant.
type Provider struct {
	TenantID      string
	Name          string
	Issuer        string   // must equal the iss claim of its ID tokens
	Audiences     []string // accepted aud values
	JWKSURI       string   // empty: from the issuer's discovery document
	Algorithms    []string // accepted signature algorithms
	AutoProvision bool     // create a local user for an unknown identity
	LinkByEmail   bool     // link an unknown identity to the user with its verified email
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// Identity links an external identity, the (issuer, subject) pair of an
// OpenID provider, to one local user. Keying by issuer rather than by
// provider name means that two provider entries for the same issuer (say,
// a web and a mobile audience) reach the same user, and that a provider
// re-created under an old name with another issuer cannot inherit links.
type Identity struct {
	TenantID  string
	Issuer    string
	Subject   string
	Provider  string // name of the provider the identity was first seen through
	UserID    string
	Email     string // the email claim when the identity was linked
	CreatedAt time.Time
}

// FederationStore keeps one-time tickets, external OpenID providers, linked
// identities and the replay guard of ID tokens. Store.Sweep also deletes the
// tickets and the replay entries whose expiry has passed.
type FederationStore interface {
	// CreateTicket stores a ticket. ErrNotFound when its user does not
	// exist in the tenant; ErrConflict when the hash is taken.
	CreateTicket(ctx context.Context, t Ticket) error
	// RedeemTicket marks the ticket whose hash is hash used at now, only if
	// it belongs to tenantID, is unused and expires after now, in one
	// conditional write: of N concurrent callers exactly one gets the
	// ticket, the others ErrNotFound. Unknown, other-tenant, used and
	// expired tickets all yield ErrNotFound.
	RedeemTicket(ctx context.Context, tenantID, hash string, now time.Time) (Ticket, error)

	// CreateProvider inserts a provider; ErrConflict when its name is taken
	// in the tenant, ErrNotFound when the tenant does not exist.
	CreateProvider(ctx context.Context, p Provider) error
	// PutProvider inserts or replaces a provider (keeping the CreatedAt of
	// a replaced one); ErrNotFound when the tenant does not exist.
	PutProvider(ctx context.Context, p Provider) error
	GetProvider(ctx context.Context, tenantID, name string) (Provider, error)
	// ListProviders returns the tenant's providers ordered by name.
	ListProviders(ctx context.Context, tenantID string) ([]Provider, error)
	// DeleteProvider removes a provider; ErrNotFound when there is none.
	// Linked identities stay: they belong to the issuer, not to the entry.
	DeleteProvider(ctx context.Context, tenantID, name string) error

	// GetIdentity returns the identity (issuer, subject) of the tenant.
	GetIdentity(ctx context.Context, tenantID, issuer, subject string) (Identity, error)
	// LinkIdentity stores an identity for an existing user. ErrConflict
	// when the identity is already linked; ErrNotFound when the user does
	// not exist.
	LinkIdentity(ctx context.Context, id Identity) error
	// ProvisionUser creates u and links id to it in one transaction;
	// ErrConflict (and nothing written) when the identity is already
	// linked or the user's id, username, email or phone is taken.
	ProvisionUser(ctx context.Context, u User, id Identity) error
	// GetUserByEmail returns the user of the tenant whose email equals
	// email, case-insensitively.
	GetUserByEmail(ctx context.Context, tenantID, email string) (User, error)

	// RememberIDToken records that the ID token identified by key (its jti,
	// or a hash of the token) was accepted from issuer, until exp. It is a
	// unique insert: ErrConflict when the key is already remembered and its
	// exp has not passed at now (a replay).
	RememberIDToken(ctx context.Context, tenantID, issuer, key string, exp, now time.Time) error
}
