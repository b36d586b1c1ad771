package core

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"slices"

	"github.com/gatehouse-auth/gatehouse/internal/token"
)

// maxAccessTokenLen bounds presented access tokens before any parsing.
const maxAccessTokenLen = 8192

// Principal is the verified bearer of an access token.
type Principal struct {
	token.Claims
}

// Authenticate verifies a first-party access token presented under
// tenantID to Gatehouse's own endpoints: signature, type, issuer,
// lifetime, tenant, an audience that contains the issuer, and that its
// session has not been revoked. Tokens issued to any other client are
// refused with CodeUnauthorized. Restricted tokens (password change
// required) are refused with CodePasswordChangeRequired unless
// allowRestricted.
func (s *Service) Authenticate(ctx context.Context, tenantID, raw string, allowRestricted bool) (Principal, error) {
	p, err := s.authenticateAny(ctx, tenantID, raw, allowRestricted)
	if err != nil {
		return Principal{}, err
	}
	if !s.firstParty(p.Claims) {
		return Principal{}, errUnauthorized
	}
	return p, nil
}

// authenticateAny is Authenticate for a token of any audience (the app
// family checks that the token is of the calling client itself).
func (s *Service) authenticateAny(ctx context.Context, tenantID, raw string, allowRestricted bool) (Principal, error) {
	if raw == "" || len(raw) > maxAccessTokenLen {
		return Principal{}, errUnauthorized
	}
	c, err := s.keys.Verify(ctx, raw, s.clock.Now())
	if err != nil {
		if errors.Is(err, token.ErrInvalidToken) {
			return Principal{}, errUnauthorized
		}
		return Principal{}, err
	}
	if c.TenantID != tenantID || s.revoked.has(c.SessionID) {
		return Principal{}, errUnauthorized
	}
	if c.Restricted && !allowRestricted {
		return Principal{}, newError(CodePasswordChangeRequired, "the password must be changed first")
	}
	return Principal{Claims: c}, nil
}

// Admin is the caller of the admin API: the holder of the admin key (every
// tenant) or a user with role admin (their tenant only).
type Admin struct {
	// TenantID is the only tenant a user administrator may act on; empty
	// for the admin key.
	TenantID string
	// Actor names the administrator in audit events.
	Actor string
}

// CanAccess reports whether the administrator may act on tenantID.
func (a Admin) CanAccess(tenantID string) bool { return a.TenantID == "" || a.TenantID == tenantID }

// AuthenticateAdmin checks the bearer credential of an admin request made
// under tenantID: the configured admin key, or a first-party access token
// of that tenant, from a session a user signed in to (interactive),
// carrying role admin. Any other token is CodeUnauthorized; a first-party
// interactive token without the role is CodeForbidden.
func (s *Service) AuthenticateAdmin(ctx context.Context, tenantID, bearer string) (Admin, error) {
	if bearer == "" {
		return Admin{}, errUnauthorized
	}
	if s.adminKey != "" && subtle.ConstantTimeCompare([]byte(bearer), []byte(s.adminKey)) == 1 {
		return Admin{Actor: "admin-key"}, nil
	}
	p, err := s.Authenticate(ctx, tenantID, bearer, false)
	if errors.Is(err, errUnauthorized) {
		return Admin{}, s.wrongTenant(ctx, tenantID, bearer)
	}
	if err != nil {
		return Admin{}, err
	}
	if !interactive(p.Claims) {
		return Admin{}, errUnauthorized
	}
	if !slices.Contains(p.Roles, "admin") {
		return Admin{}, newError(CodeForbidden, "the admin role is required")
	}
	return Admin{TenantID: p.TenantID, Actor: "user:" + p.Subject}, nil
}

// wrongTenant explains a refused admin credential that is a valid access
// token of another tenant: a tenant administrator who left out X-Tenant-ID
// (or named another tenant) is told so instead of being told that the token
// is invalid. Only the token's holder learns its tenant, which the token
// itself states; anything else gets the usual errUnauthorized.
func (s *Service) wrongTenant(ctx context.Context, tenantID, bearer string) error {
	if len(bearer) > maxAccessTokenLen {
		return errUnauthorized
	}
	c, err := s.keys.Verify(ctx, bearer, s.clock.Now())
	if err != nil || c.TenantID == tenantID || s.revoked.has(c.SessionID) {
		return errUnauthorized
	}
	return newError(CodeUnauthorized, fmt.Sprintf(
		"the access token belongs to tenant %q, not %q: send the header X-Tenant-ID: %s", c.TenantID, tenantID, c.TenantID))
}
