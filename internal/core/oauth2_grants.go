package core

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/store"
	"github.com/gatehouse-auth/gatehouse/internal/token"
)

// ClientSubjectPrefix starts the subject of a client-credentials token:
// "client:" + the client id. User ids cannot contain ':', so such a subject
// never names a user.
const ClientSubjectPrefix = "client:"

// passwordGrant signs a user in with the password grant (RFC 6749 §4.3)
// through the very same LoginPassword as the native family: throttling,
// lockout, disabled accounts, MFA and password expiry apply. A user who
// needs a second factor, or whose password must be changed first, gets
// invalid_grant with a reason; tokens are never issued past those rules.
func (s *Service) passwordGrant(ctx context.Context, c store.Client, in TokenRequest) (TokenResult, error) {
	if in.Username == "" || in.Password == "" {
		return TokenResult{}, invalid("username and password are required")
	}
	scope, err := grantScope(c, in.Scope, true)
	if err != nil {
		return TokenResult{}, err
	}
	offline := s.offline(c, scope)
	res, err := s.LoginPassword(ctx, PasswordLogin{
		TenantID: c.TenantID, Username: in.Username, Password: in.Password, Client: &c, Meta: in.Meta,
		Scope: scope, Lifetime: s.grantLifetime(offline), RefuseRestricted: true,
	})
	if err != nil {
		return TokenResult{}, grantError(err)
	}
	if res.Challenge != nil || res.AccessToken == "" {
		// Unreachable with CanChallenge false; refuse rather than hand out nothing.
		return TokenResult{}, grantError(newError(CodeMFARequired, "a second factor is required"))
	}
	return s.tokenResult(c, res, scope, offline)
}

// refreshGrant rotates a refresh token (RFC 6749 §6) with the very same
// Refresh as every other family: one session model, one reuse detection,
// one leeway. Before rotating it checks what only this family knows: the
// session must be the client's (or first-party), the scope asked for must
// be within the session's, and the password must not need a change.
func (s *Service) refreshGrant(ctx context.Context, c store.Client, in TokenRequest) (TokenResult, error) {
	if in.RefreshToken == "" {
		return TokenResult{}, invalid("refresh_token is required")
	}
	if len(in.RefreshToken) > maxOpaqueLen {
		return TokenResult{}, errInvalidGrant
	}
	info, err := s.store.GetRefreshToken(ctx, c.TenantID, token.HashOpaque(in.RefreshToken))
	if errors.Is(err, store.ErrNotFound) {
		return TokenResult{}, errInvalidGrant
	}
	if err != nil {
		return TokenResult{}, fmt.Errorf("read refresh token: %w", err)
	}
	if !mayUseSession(c, info.Session) {
		return TokenResult{}, errInvalidGrant
	}
	scope := info.Session.Scope
	if strings.TrimSpace(in.Scope) != "" {
		if scope, err = narrowScope(info.Session.Scope, in.Scope); err != nil {
			return TokenResult{}, err
		}
	}
	now := s.clock.Now()
	if info.Active(now) {
		// A rotated token goes on to Refresh, whose reuse detection must see it.
		if err := s.refusePasswordChange(ctx, info.Session); err != nil {
			return TokenResult{}, err
		}
	}
	res, err := s.Refresh(ctx, RefreshRequest{TenantID: c.TenantID, RefreshToken: in.RefreshToken, Meta: in.Meta,
		Details: map[string]any{"client_id": c.ID, "family": "oauth2"}, Client: c.ID})
	if err != nil {
		return TokenResult{}, err
	}
	if scope != res.Session.Scope {
		// A narrower scope for this access token only (RFC 6749 §6); the
		// session keeps the scope it was granted.
		res.Claims.Scope = scope
		if res.AccessToken, err = s.keys.Sign(res.Claims); err != nil {
			return TokenResult{}, fmt.Errorf("sign access token: %w", err)
		}
	}
	out, err := s.tokenResult(c, res, scope, false)
	out.RefreshToken = res.RefreshToken // a refresh always answers with the successor
	return out, err
}

// narrowScope checks that every scope asked for on a refresh was granted
// to the session, and returns them.
func narrowScope(granted, requested string) (string, error) {
	want, err := parseScope(requested)
	if err != nil {
		return "", err
	}
	have := strings.Fields(granted)
	for _, sc := range want {
		if !slices.Contains(have, sc) {
			return "", newError(CodeInvalidScope, "the scope "+sc+" was not granted to this session")
		}
	}
	return strings.Join(want, " "), nil
}

// refusePasswordChange refuses to refresh a session whose user must change
// the password first: this family never hands out tokens that only allow a
// password change.
func (s *Service) refusePasswordChange(ctx context.Context, sess store.Session) error {
	if sess.Kind != store.SessionUser {
		return nil
	}
	u, err := s.store.GetUser(ctx, sess.TenantID, sess.UserID)
	if errors.Is(err, store.ErrNotFound) {
		return errInvalidGrant
	}
	if err != nil {
		return fmt.Errorf("read user: %w", err)
	}
	if s.passwordState(u, s.clock.Now()).Restricted {
		return grantError(newError(CodePasswordChangeRequired, "the password must be changed first"))
	}
	return nil
}

// clientCredentialsGrant issues a token to a confidential client for
// itself (RFC 6749 §4.4): subject "client:<id>", no user, no roles, no
// refresh token. It is backed by a session of kind store.SessionClient that
// ends with the token, so that revoking the token (RFC 7009) works like for
// every other token.
func (s *Service) clientCredentialsGrant(ctx context.Context, c store.Client, in TokenRequest) (TokenResult, error) {
	if c.Public {
		return TokenResult{}, newError(CodeUnauthorizedClient, "a public client cannot use client_credentials")
	}
	scope, err := grantScope(c, in.Scope, false)
	if err != nil {
		return TokenResult{}, err
	}
	self := store.User{TenantID: c.TenantID, ID: ClientSubjectPrefix + c.ID, Roles: []string{}, Status: store.StatusActive}
	res, err := s.startSession(ctx, self, SessionParams{Kind: store.SessionClient, Scope: scope,
		Lifetime: s.policy.AccessTTL, IP: in.IP, UserAgent: in.UserAgent}.forClient(c))
	if err != nil {
		return TokenResult{}, err
	}
	return TokenResult{AccessToken: res.AccessToken, ExpiresIn: res.ExpiresIn, Scope: scope}, nil
}

// offline reports whether a grant of scope gives client c a refresh token:
// offline_access granted and the refresh_token grant allowed.
func (s *Service) offline(c store.Client, scope string) bool {
	return hasScope(scope, ScopeOfflineAccess) && ClientMayUseGrant(c, GrantRefreshToken)
}

// grantLifetime is the lifetime of a session opened by a grant: the
// configured one when the client gets a refresh token, else that of the
// one access token it gets (the session ends with it).
func (s *Service) grantLifetime(offline bool) time.Duration {
	if offline {
		return 0
	}
	return s.policy.AccessTTL
}

// tokenResult assembles the token response of a sign-in for client c: the
// access token, the refresh token when offline, and an ID token when the
// scope contains openid.
func (s *Service) tokenResult(c store.Client, res LoginResult, scope string, offline bool) (TokenResult, error) {
	out := TokenResult{AccessToken: res.AccessToken, ExpiresIn: res.ExpiresIn, Scope: scope}
	if offline {
		out.RefreshToken = res.RefreshToken
	}
	if hasScope(scope, ScopeOpenID) {
		idt, err := s.idToken(c, res, scope)
		if err != nil {
			return TokenResult{}, err
		}
		out.IDToken = idt
	}
	return out, nil
}
