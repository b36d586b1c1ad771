package store

import (
	"context"
	"time"
)

// Client is an application registered with Gatehouse: an app-backend
// client (HTTP Basic) or an OAuth 2.0 client. Client ids are unique across
// all tenants, so a client authenticates by id alone and its tenant follows.
type Client struct {
	TenantID   string
	ID         string // client_id: URL-safe
	Name       string
	SecretHash string // hex SHA-256 of the secret; empty for public clients
	Public     bool   // no secret: limited to the grants that are safe without one
	// FirstParty: the user sessions of this client get first-party access
	// tokens (audience: the issuer and the client), accepted by
	// Gatehouse's own endpoints like those of the built-in client.
	FirstParty bool
	GrantTypes []string
	Scopes     []string
	// RedirectURIs are the registered redirection endpoints of the
	// authorization code flow, matched exactly (see core.MatchRedirectURI).
	RedirectURIs []string
	// PostLogoutRedirectURIs are where RP-initiated logout may send the browser.
	PostLogoutRedirectURIs []string
	// BackchannelLogoutURI receives OIDC Back-Channel Logout tokens; empty for none.
	BackchannelLogoutURI string
	// RequirePAR refuses authorization requests not pushed first (RFC 9126).
	RequirePAR bool
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// ClientStore keeps clients.
type ClientStore interface {
	// CreateClient inserts a client; ErrConflict when the id is taken in any tenant.
	CreateClient(ctx context.Context, c Client) error
	// GetClient returns a client of the tenant.
	GetClient(ctx context.Context, tenantID, id string) (Client, error)
	// FindClient returns a client by id whatever its tenant (for client authentication).
	FindClient(ctx context.Context, id string) (Client, error)
	// ListClients returns the tenant's clients ordered by id.
	ListClients(ctx context.Context, tenantID string) ([]Client, error)
	// UpdateClient reads the client, applies fn and writes the result in one
	// transaction (see UpdateUser).
	UpdateClient(ctx context.Context, tenantID, id string, fn func(*Client) error) (Client, error)
	// DeleteClient removes the client and, in the same transaction, revokes
	// its live sessions and their children (with a revocation record for
	// each), which it returns. ErrNotFound when the tenant has no such client.
	DeleteClient(ctx context.Context, tenantID, id string, now time.Time) ([]Session, error)
}
