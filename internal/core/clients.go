package core

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/gatehouse-auth/gatehouse/internal/store"
	"github.com/gatehouse-auth/gatehouse/internal/token"
)

// NewClient is an administrator's request to register a client.
type NewClient struct {
	TenantID string
	Name     string
	// GrantTypes are the OAuth 2.0 grants the client may use.
	GrantTypes []string
	// Scopes are the scopes the client may ask for.
	Scopes []string
	// Public registers a client without a secret.
	Public bool
	// FirstParty makes the client's user sessions first-party (see
	// audience.go): their tokens are accepted by Gatehouse's own endpoints.
	FirstParty bool
	// Browser holds the redirect and logout settings.
	Browser BrowserClientSettings
}

// ClientPatch is an administrator's change to a client; nil fields stay as
// they are.
type ClientPatch struct {
	Name       *string
	GrantTypes *[]string
	Scopes     *[]string
	// FirstParty applies to sessions opened from now on; existing sessions
	// keep the audience they were opened with.
	FirstParty *bool
	Browser    BrowserClientSettings
}

// IssuedClient is a client together with a secret that was just generated
// for it. The secret is shown this once; only its hash is stored.
type IssuedClient struct {
	Client store.Client
	Secret string // empty for public clients
}

// Limits of client fields.
const (
	maxClientNameLen = 200
	maxClientIDLen   = 128
	maxClientSecret  = 256
	maxScopes        = 50
	maxScopeLen      = 128
)

// clientGrantTypes are the grant types a client may be allowed.
var clientGrantTypes = []string{
	"authorization_code",
	"password",
	"refresh_token",
	"client_credentials",
	"urn:ietf:params:oauth:grant-type:token-exchange",
}

// CreateClient registers a client of the tenant. A confidential client gets
// a 256-bit random secret, returned here once and stored only as its
// SHA-256 hash: the secret is random, so a fast hash is as strong as a
// password hash and keeps client authentication cheap.
func (s *Service) CreateClient(ctx context.Context, in NewClient, m Meta) (IssuedClient, error) {
	if _, err := s.store.GetTenant(ctx, in.TenantID); err != nil {
		return IssuedClient{}, storeErr(err, "tenant")
	}
	now := s.clock.Now()
	c := store.Client{
		TenantID:   in.TenantID,
		ID:         newRandomID(),
		Name:       strings.TrimSpace(in.Name),
		Public:     in.Public,
		FirstParty: in.FirstParty,
		CreatedAt:  now,
		UpdatedAt:  now,
	}
	var err error
	if c.GrantTypes, err = normaliseGrantTypes(in.GrantTypes); err != nil {
		return IssuedClient{}, err
	}
	if c.Scopes, err = normaliseScopes(in.Scopes); err != nil {
		return IssuedClient{}, err
	}
	if _, err = in.Browser.apply(&c); err != nil {
		return IssuedClient{}, err
	}
	if err := validateClient(c); err != nil {
		return IssuedClient{}, err
	}
	var secret string
	if !c.Public {
		secret = token.NewOpaque()
		c.SecretHash = token.HashOpaque(secret)
	}
	if err := s.store.CreateClient(ctx, c); err != nil {
		return IssuedClient{}, storeErr(err, "client")
	}
	s.audit(ctx, event(EventClientCreated, c.TenantID, "", m, map[string]any{"client_id": c.ID, "name": c.Name, "public": c.Public, "first_party": c.FirstParty}))
	return IssuedClient{Client: c, Secret: secret}, nil
}

// GetClient returns a client of the tenant.
func (s *Service) GetClient(ctx context.Context, tenantID, id string) (store.Client, error) {
	c, err := s.store.GetClient(ctx, tenantID, id)
	return c, storeErr(err, "client")
}

// ListClients returns the tenant's clients ordered by id.
func (s *Service) ListClients(ctx context.Context, tenantID string) ([]store.Client, error) {
	return s.store.ListClients(ctx, tenantID)
}

// UpdateClient applies an administrator's patch to a client.
func (s *Service) UpdateClient(ctx context.Context, tenantID, id string, p ClientPatch, m Meta) (store.Client, error) {
	var grants, scopes []string
	var err error
	if p.GrantTypes != nil {
		if grants, err = normaliseGrantTypes(*p.GrantTypes); err != nil {
			return store.Client{}, err
		}
	}
	if p.Scopes != nil {
		if scopes, err = normaliseScopes(*p.Scopes); err != nil {
			return store.Client{}, err
		}
	}
	// Checked before the transaction, applied inside it.
	if _, err := p.Browser.apply(&store.Client{}); err != nil {
		return store.Client{}, err
	}
	var changed []string
	c, err := s.store.UpdateClient(ctx, tenantID, id, func(c *store.Client) error {
		if p.Name != nil {
			c.Name = strings.TrimSpace(*p.Name)
			changed = append(changed, "name")
		}
		if p.GrantTypes != nil {
			c.GrantTypes = grants
			changed = append(changed, "grant_types")
		}
		if p.Scopes != nil {
			c.Scopes = scopes
			changed = append(changed, "scopes")
		}
		if p.FirstParty != nil {
			c.FirstParty = *p.FirstParty
			changed = append(changed, "first_party")
		}
		more, err := p.Browser.apply(c)
		if err != nil {
			return err
		}
		changed = append(changed, more...)
		c.UpdatedAt = s.clock.Now()
		return validateClient(*c)
	})
	if err != nil {
		return store.Client{}, storeErr(err, "client")
	}
	s.apps.clients.forget(id)
	s.audit(ctx, event(EventClientUpdated, tenantID, "", m, map[string]any{"client_id": id, "fields": changed}))
	return c, nil
}

// DeleteClient removes a client and revokes its sessions and their
// children at once (the store does both in one transaction, with
// revocation records, so other processes learn it from the feed). The
// client can no longer authenticate; in this process at once, in others
// within ClientCacheTTL.
func (s *Service) DeleteClient(ctx context.Context, tenantID, id string, m Meta) error {
	revoked, err := s.store.DeleteClient(ctx, tenantID, id, s.clock.Now())
	if err != nil {
		return storeErr(err, "client")
	}
	s.apps.clients.forget(id)
	s.noteRevoked(revoked...)
	for _, sess := range revoked {
		s.apps.live.forget(liveKey(sess.TenantID, sess.ID))
		e := event(EventSessionRevoked, tenantID, sess.UserID, m, map[string]any{"reason": ReasonClientDeleted, "client_id": id})
		e.SessionID = sess.ID
		s.audit(ctx, e)
	}
	s.audit(ctx, event(EventClientDeleted, tenantID, "", m, map[string]any{"client_id": id, "sessions_revoked": len(revoked)}))
	return nil
}

// RotateClientSecret gives a confidential client a new secret, returned
// once; the old secret stops working at once in this process and within
// ClientCacheTTL in others.
func (s *Service) RotateClientSecret(ctx context.Context, tenantID, id string, m Meta) (IssuedClient, error) {
	secret := token.NewOpaque()
	c, err := s.store.UpdateClient(ctx, tenantID, id, func(c *store.Client) error {
		if c.Public {
			return invalid("a public client has no secret to rotate")
		}
		c.SecretHash = token.HashOpaque(secret)
		c.UpdatedAt = s.clock.Now()
		return nil
	})
	if err != nil {
		return IssuedClient{}, storeErr(err, "client")
	}
	s.apps.clients.forget(id)
	s.audit(ctx, event(EventClientSecretRotated, tenantID, "", m, map[string]any{"client_id": id}))
	return IssuedClient{Client: c, Secret: secret}, nil
}

// validateClient checks the rules every stored client follows.
func validateClient(c store.Client) error {
	n := utf8.RuneCountInString(c.Name)
	switch {
	case n == 0:
		return invalid("name is required")
	case n > maxClientNameLen:
		return invalid(fmt.Sprintf("name must be at most %d characters", maxClientNameLen))
	case !utf8.ValidString(c.Name) || strings.IndexFunc(c.Name, unicode.IsControl) >= 0:
		return invalid("name must be printable text")
	case c.Public && slices.Contains(c.GrantTypes, "client_credentials"):
		return invalid("a public client cannot use client_credentials")
	}
	return nil
}

// normaliseGrantTypes checks and de-duplicates grant types, keeping their order.
func normaliseGrantTypes(in []string) ([]string, error) {
	out := []string{}
	for _, g := range in {
		if !slices.Contains(clientGrantTypes, g) {
			return nil, invalid("grant_types may contain only " + strings.Join(clientGrantTypes, ", "))
		}
		if !slices.Contains(out, g) {
			out = append(out, g)
		}
	}
	return out, nil
}

// normaliseScopes checks and de-duplicates scopes (RFC 6749 §3.3
// scope-tokens), keeping their order.
func normaliseScopes(in []string) ([]string, error) {
	if len(in) > maxScopes {
		return nil, invalid(fmt.Sprintf("at most %d scopes", maxScopes))
	}
	out := []string{}
	for _, sc := range in {
		if !validScope(sc) {
			return nil, invalid(fmt.Sprintf("scopes must be 1-%d printable ASCII characters without space, '\"' or '\\'", maxScopeLen))
		}
		if !slices.Contains(out, sc) {
			out = append(out, sc)
		}
	}
	return out, nil
}

// validScope reports whether sc is an RFC 6749 scope-token of a sane length.
func validScope(sc string) bool {
	if sc == "" || len(sc) > maxScopeLen {
		return false
	}
	for i := 0; i < len(sc); i++ {
		b := sc[i]
		if b < 0x21 || b > 0x7e || b == '"' || b == '\\' {
			return false
		}
	}
	return true
}
