package core

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/store"
	"github.com/gatehouse-auth/gatehouse/internal/token"
)

// Token type hints of RFC 7009 and RFC 7662.
const (
	HintAccessToken  = "access_token"
	HintRefreshToken = "refresh_token"
)

// TokenInfo is the answer of an introspection (RFC 7662 §2.2). Only
// Active is meaningful when it is false.
type TokenInfo struct {
	Active    bool
	TokenType string // "Bearer" for access tokens, "refresh_token" for refresh tokens
	Scope     string
	ClientID  string
	Subject   string
	Audience  []string
	Issuer    string
	JTI       string
	SessionID string
	TenantID  string
	Roles     []string
	AMR       []string
	Actor     string
	ExpiresAt time.Time
	IssuedAt  time.Time
	NotBefore time.Time
}

// isAccessToken tells the two kinds of Gatehouse tokens apart by shape:
// access tokens are JWTs (with dots), refresh tokens are opaque base64url.
// The hint of RFC 7009/7662 is only a hint; the shape is certain.
func isAccessToken(raw string) bool { return strings.Contains(raw, ".") }

// Introspect answers RFC 7662 for the confidential client c: active only
// for a token of c's tenant that is valid now, whose session is live (a
// revoked session's tokens are inactive at once), and, for a refresh token,
// that c may use. Every other token is just inactive.
func (s *Service) Introspect(ctx context.Context, c store.Client, raw string) (TokenInfo, error) {
	if raw == "" {
		return TokenInfo{}, invalid("token is required")
	}
	if c.Public {
		return TokenInfo{}, &Error{Code: CodeInvalidClient, Message: "a public client may not introspect tokens"}
	}
	if isAccessToken(raw) {
		claims, err := s.verifyAccessToken(ctx, raw)
		if err != nil || claims.TenantID != c.TenantID || claims.Restricted {
			// A restricted token allows only a password change: for a
			// resource server it is not an active token.
			return TokenInfo{}, ignoreUnauthorized(err)
		}
		return TokenInfo{Active: true, TokenType: "Bearer", Scope: claims.Scope, ClientID: claims.ClientID,
			Subject: claims.Subject, Audience: claims.Audience, Issuer: claims.Issuer, JTI: claims.ID,
			SessionID: claims.SessionID, TenantID: claims.TenantID, Roles: claims.Roles, AMR: claims.AMR,
			Actor: claims.Actor, ExpiresAt: claims.ExpiresAt, IssuedAt: claims.IssuedAt, NotBefore: claims.NotBefore}, nil
	}
	info, ok, err := s.refreshTokenOf(ctx, c, raw)
	if err != nil || !ok || !info.Active(s.clock.Now()) {
		return TokenInfo{}, err
	}
	sess := info.Session
	return TokenInfo{Active: true, TokenType: HintRefreshToken, Scope: sess.Scope, ClientID: sess.ClientID,
		Subject: sess.UserID, Issuer: s.policy.Issuer, SessionID: sess.ID, TenantID: sess.TenantID, AMR: sess.AMR,
		Actor: sess.Actor, ExpiresAt: info.Token.ExpiresAt, IssuedAt: info.Token.CreatedAt}, nil
}

// RevokeToken answers RFC 7009 for client c: the session of the token is
// revoked (every token of it, access and refresh, stops working at once),
// provided the token is valid, of c's tenant, and of a session c may use.
// Anything else is ignored: the endpoint answers the same either way.
func (s *Service) RevokeToken(ctx context.Context, c store.Client, raw string, m Meta) error {
	if raw == "" {
		return invalid("token is required")
	}
	var sessionID string
	if isAccessToken(raw) {
		claims, err := s.verifyAccessToken(ctx, raw)
		if err != nil {
			return ignoreUnauthorized(err)
		}
		if claims.TenantID != c.TenantID || (claims.ClientID != c.ID && claims.ClientID != DefaultClientID) {
			return nil
		}
		sessionID = claims.SessionID
	} else {
		info, ok, err := s.refreshTokenOf(ctx, c, raw)
		if err != nil || !ok || !info.Session.RevokedAt.IsZero() {
			return err
		}
		sessionID = info.Session.ID
	}
	m.Actor = "client:" + c.ID
	err := s.revokeSession(ctx, c.TenantID, sessionID, ReasonTokenRevoked, m)
	if AsError(err).Code == CodeNotFound {
		return nil
	}
	return err
}

// refreshTokenOf returns the stored refresh token raw when it is of a
// session client c may use; ok is false otherwise.
func (s *Service) refreshTokenOf(ctx context.Context, c store.Client, raw string) (store.RefreshTokenInfo, bool, error) {
	if len(raw) > maxOpaqueLen {
		return store.RefreshTokenInfo{}, false, nil
	}
	info, err := s.store.GetRefreshToken(ctx, c.TenantID, token.HashOpaque(raw))
	if errors.Is(err, store.ErrNotFound) {
		return store.RefreshTokenInfo{}, false, nil
	}
	if err != nil {
		return store.RefreshTokenInfo{}, false, fmt.Errorf("read refresh token: %w", err)
	}
	return info, mayUseSession(c, info.Session), nil
}

// verifyAccessToken checks an access token of any tenant: signature, type,
// issuer, lifetime, and that its session is not revoked. Restricted tokens
// (password change required) pass; the caller decides.
func (s *Service) verifyAccessToken(ctx context.Context, raw string) (token.Claims, error) {
	if raw == "" || len(raw) > maxAccessTokenLen {
		return token.Claims{}, errUnauthorized
	}
	c, err := s.keys.Verify(ctx, raw, s.clock.Now())
	if err != nil {
		if errors.Is(err, token.ErrInvalidToken) {
			return token.Claims{}, errUnauthorized
		}
		return token.Claims{}, err
	}
	if s.revoked.has(c.SessionID) {
		return token.Claims{}, errUnauthorized
	}
	return c, nil
}

// ignoreUnauthorized drops the error of an invalid token (which
// introspection and revocation answer as "inactive" and "done") and keeps
// any other.
func ignoreUnauthorized(err error) error {
	if err == nil || AsError(err).Code == CodeUnauthorized {
		return nil
	}
	return err
}

// UserInfo answers the OpenID Connect UserInfo endpoint for a bearer
// access token: sub and the claims its scope grants (userClaims). A
// first-party token without a scope (a native sign-in) gets every claim,
// one with a scope the claims of its scope; a token of any other client
// must have been granted openid. Errors: CodeUnauthorized for an invalid,
// expired or revoked token, or one without a user; CodeForbidden when a
// third-party token lacks openid; CodePasswordChangeRequired for a
// restricted token.
func (s *Service) UserInfo(ctx context.Context, raw string) (map[string]any, error) {
	c, err := s.verifyAccessToken(ctx, raw)
	if err != nil {
		return nil, err
	}
	if c.Restricted {
		return nil, newError(CodePasswordChangeRequired, "the password must be changed first")
	}
	scope := c.Scope
	switch {
	case strings.HasPrefix(c.Subject, ClientSubjectPrefix):
		return nil, errUnauthorized // a client acting for itself has no user
	case !s.firstParty(c) && !hasScope(scope, ScopeOpenID):
		return nil, newError(CodeForbidden, "the access token lacks the openid scope")
	case scope == "":
		scope = strings.Join(SupportedScopes, " ")
	}
	u, err := s.store.GetUser(ctx, c.TenantID, c.Subject)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errUnauthorized
	}
	if err != nil {
		return nil, fmt.Errorf("read user: %w", err)
	}
	if u.Status != store.StatusActive {
		return nil, errUnauthorized
	}
	out := userClaims(u, scope)
	out["sub"] = u.ID
	return out, nil
}
