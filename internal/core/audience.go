package core

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/gatehouse-auth/gatehouse/internal/store"
	"github.com/gatehouse-auth/gatehouse/internal/token"
)

// Who a token is for. A user session is issued to a client: the built-in
// client DefaultClientID (sign-ins that name none), or a registered one.
// Its access tokens are first-party, with the issuer in their audience and
// accepted by Gatehouse's own endpoints (/auth/*, /admin/*), when that
// client is the built-in one or registered with FirstParty; any other
// client's tokens have that client alone as their audience. A session of a
// confidential client is bound to it: it rotates only when that client
// presents its refresh token at the token endpoint.
//
// The built-in client is not stored: it exists in every tenant, is public
// (it authenticates with its id alone) and may use only the refresh_token
// grant at the token endpoint (BuiltinClient).

// BuiltinClient is the built-in client DefaultClientID of a tenant.
func BuiltinClient(tenantID string) store.Client {
	return store.Client{
		TenantID:   tenantID,
		ID:         DefaultClientID,
		Name:       "Gatehouse",
		Public:     true,
		FirstParty: true,
		GrantTypes: []string{GrantRefreshToken},
		Scopes:     []string{},
	}
}

// forClient sets the client of a session and what follows from it.
func (p SessionParams) forClient(c store.Client) SessionParams {
	p.ClientID = c.ID
	p.FirstParty = c.ID == "" || c.ID == DefaultClientID || c.FirstParty
	p.ClientBound = c.ID != "" && c.ID != DefaultClientID && !c.Public
	return p
}

// firstParty reports whether an access token is first-party: the issuer
// is in its audience.
func (s *Service) firstParty(c token.Claims) bool {
	return slices.Contains(c.Audience, s.policy.Issuer)
}

// interactive reports whether an access token comes from a session a user
// opened by signing in (password, ticket, ID token, with or without a
// second factor), not from a client acting for itself.
func interactive(c token.Claims) bool {
	return len(c.AMR) > 0 && !strings.HasPrefix(c.Subject, ClientSubjectPrefix)
}

// audience is the aud claim of a session's access tokens.
func (s *Service) audience(sess store.Session) []string {
	if !sess.FirstParty {
		return []string{sess.ClientID}
	}
	aud := []string{s.policy.Issuer}
	if sess.ClientID != "" && sess.ClientID != DefaultClientID {
		aud = append(aud, sess.ClientID)
	}
	return aud
}

// AuthenticateClientIn authenticates a client of an endpoint that also
// serves the built-in client, which exists in every tenant: when id is
// DefaultClientID, tenantID (from the request) is its tenant and no secret
// may be presented. Any other id is AuthenticateClient.
func (s *Service) AuthenticateClientIn(ctx context.Context, tenantID, id, secret string, m Meta) (store.Client, error) {
	if id != DefaultClientID {
		return s.AuthenticateClient(ctx, id, secret, m)
	}
	if secret != "" {
		return store.Client{}, &Error{Code: CodeInvalidClient, Message: "the built-in client " + DefaultClientID + " is public: it has no secret"}
	}
	return BuiltinClient(tenantID), nil
}

// signInClient resolves the client a native sign-in names: none, or the
// built-in one, is the built-in client; any other must be a client of the
// tenant (else CodeInvalidRequest) and, when confidential, authenticate
// with its secret (else CodeInvalidClient, counted like every failed
// client authentication).
func (s *Service) signInClient(ctx context.Context, tenantID, id, secret string, m Meta) (store.Client, error) {
	if id == "" && secret == "" {
		return BuiltinClient(tenantID), nil
	}
	if id == "" {
		return store.Client{}, invalid("client_secret needs a client_id")
	}
	if id == DefaultClientID {
		return s.AuthenticateClientIn(ctx, tenantID, id, secret, m)
	}
	unknown := invalid("client_id does not name a client of the tenant")
	if !validClientID(id) {
		return store.Client{}, unknown
	}
	c, err := s.lookupClient(ctx, id, s.clock.Now())
	if errors.Is(err, store.ErrNotFound) {
		return store.Client{}, unknown
	}
	if err != nil {
		return store.Client{}, fmt.Errorf("find client: %w", err)
	}
	if c.TenantID != tenantID {
		return store.Client{}, unknown
	}
	if c.Public && secret == "" {
		return c, nil
	}
	return s.AuthenticateClient(ctx, id, secret, m)
}
