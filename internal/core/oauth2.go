package core

import (
	"context"
	"slices"
	"strings"

	"github.com/gatehouse-auth/gatehouse/internal/store"
)

// OAuth 2.0 grant types of the token endpoint.
const (
	GrantPassword          = "password"
	GrantRefreshToken      = "refresh_token"
	GrantClientCredentials = "client_credentials"
	GrantTokenExchange     = "urn:ietf:params:oauth:grant-type:token-exchange"
)

// GrantTypes lists the grant types the token endpoint serves.
var GrantTypes = []string{GrantAuthorizationCode, GrantPassword, GrantRefreshToken, GrantClientCredentials, GrantTokenExchange}

// publicGrantTypes are the grants a public client (no secret) may use: each
// either proves the user (password, an external ID token) or continues a
// session whose refresh token rotates with reuse detection.
// client_credentials proves nothing without a secret.
var publicGrantTypes = []string{GrantAuthorizationCode, GrantPassword, GrantRefreshToken, GrantTokenExchange}

// Scopes Gatehouse gives a meaning to (docs/oauth2.md says what each grants).
const (
	ScopeOpenID        = "openid"         // an ID token in the token response; userinfo
	ScopeProfile       = "profile"        // name, preferred_username, picture, groups, roles, updated_at
	ScopeEmail         = "email"          // email
	ScopePhone         = "phone"          // phone_number
	ScopeOfflineAccess = "offline_access" // a refresh token
)

// SupportedScopes are the scopes a client may ask for when its registration
// lists none.
var SupportedScopes = []string{ScopeOpenID, ScopeProfile, ScopeEmail, ScopePhone, ScopeOfflineAccess}

// userScopes need a user: a client-credentials token cannot carry them.
var userScopes = SupportedScopes

// Error codes of the OAuth 2.0 family (RFC 6749 §5.2, RFC 8693 §2.2.2),
// beside CodeInvalidRequest, CodeInvalidGrant and CodeInvalidClient.
const (
	CodeUnauthorizedClient   = "unauthorized_client"
	CodeUnsupportedGrantType = "unsupported_grant_type"
	CodeInvalidScope         = "invalid_scope"
	CodeInvalidTarget        = "invalid_target"
)

// ReasonTokenRevoked is recorded on sessions revoked through the OAuth 2.0
// revocation endpoint (RFC 7009).
const ReasonTokenRevoked = "token_revoked"

// TokenRequest is a request to the OAuth 2.0 token endpoint, decoded.
type TokenRequest struct {
	GrantType string
	Scope     string // requested scope, space-separated; "" asks for the default
	// password grant
	Username string
	Password string
	// refresh_token grant
	RefreshToken string
	// authorization_code grant
	Code         string
	RedirectURI  string
	CodeVerifier string
	// token exchange (RFC 8693)
	SubjectToken       string
	SubjectTokenType   string
	RequestedTokenType string
	ActorToken         string
	Audience           string
	// Provider names the external provider of the subject token; when
	// empty, the tenant's provider with the token's issuer is used.
	Provider string
	Meta
}

// TokenResult is a successful token response.
type TokenResult struct {
	AccessToken     string
	ExpiresIn       int
	RefreshToken    string // empty when no refresh token is issued
	IDToken         string // when the scope contains openid
	Scope           string
	IssuedTokenType string // token exchange only
}

// OAuth2Token serves the token endpoint for the authenticated client c.
// Errors carry the RFC 6749 §5.2 codes (CodeInvalidRequest,
// CodeInvalidGrant, CodeUnauthorizedClient, CodeUnsupportedGrantType,
// CodeInvalidScope, CodeInvalidTarget), or CodeUnavailable and
// CodeInternal.
func (s *Service) OAuth2Token(ctx context.Context, c store.Client, in TokenRequest) (TokenResult, error) {
	if in.GrantType == "" {
		return TokenResult{}, invalid("grant_type is required")
	}
	if !slices.Contains(GrantTypes, in.GrantType) {
		return TokenResult{}, newError(CodeUnsupportedGrantType, "grant_type "+in.GrantType+" is not supported")
	}
	if !ClientMayUseGrant(c, in.GrantType) {
		return TokenResult{}, newError(CodeUnauthorizedClient, "the client may not use the grant type "+in.GrantType)
	}
	switch in.GrantType {
	case GrantAuthorizationCode:
		return s.authorizationCodeGrant(ctx, c, in)
	case GrantPassword:
		return s.passwordGrant(ctx, c, in)
	case GrantRefreshToken:
		return s.refreshGrant(ctx, c, in)
	case GrantClientCredentials:
		return s.clientCredentialsGrant(ctx, c, in)
	default:
		return s.tokenExchangeGrant(ctx, c, in)
	}
}

// ClientGrantTypes returns the grants c may use: its registered list, or,
// when it lists none, every grant (public clients: those safe without a
// secret).
func ClientGrantTypes(c store.Client) []string {
	var out []string
	switch {
	case len(c.GrantTypes) > 0:
		out = c.GrantTypes
	case c.Public:
		out = publicGrantTypes
	default:
		out = GrantTypes
	}
	if c.Public {
		out = slices.DeleteFunc(slices.Clone(out), func(g string) bool { return !slices.Contains(publicGrantTypes, g) })
	}
	return out
}

// ClientMayUseGrant reports whether c may use the grant type.
func ClientMayUseGrant(c store.Client, grant string) bool {
	return slices.Contains(ClientGrantTypes(c), grant)
}

// ClientScopes returns the scopes c may ask for: its registered list, or,
// when it lists none, SupportedScopes.
func ClientScopes(c store.Client) []string {
	if len(c.Scopes) > 0 {
		return c.Scopes
	}
	return SupportedScopes
}

// grantScope decides the scope of a grant (RFC 6749 §3.3): the requested
// scopes, each of which the client must be allowed, or, when none is
// requested, every scope the client is allowed. Without a user (client
// credentials), the user scopes are refused when asked for and left out of
// the default.
func grantScope(c store.Client, requested string, withUser bool) (string, error) {
	allowed := ClientScopes(c)
	if strings.TrimSpace(requested) == "" {
		var out []string
		for _, sc := range allowed {
			if withUser || !slices.Contains(userScopes, sc) {
				out = append(out, sc)
			}
		}
		return strings.Join(out, " "), nil
	}
	want, err := parseScope(requested)
	if err != nil {
		return "", err
	}
	for _, sc := range want {
		if !slices.Contains(allowed, sc) {
			return "", newError(CodeInvalidScope, "the client may not ask for the scope "+sc)
		}
		if !withUser && slices.Contains(userScopes, sc) {
			return "", newError(CodeInvalidScope, "the scope "+sc+" needs a user; client_credentials has none")
		}
	}
	return strings.Join(want, " "), nil
}

// parseScope splits a scope parameter into distinct scope-tokens.
func parseScope(raw string) ([]string, error) {
	var out []string
	for _, sc := range strings.Fields(raw) {
		if !validScope(sc) {
			return nil, newError(CodeInvalidScope, "scope holds an invalid scope-token")
		}
		if !slices.Contains(out, sc) {
			out = append(out, sc)
		}
	}
	if len(out) > maxScopes {
		return nil, newError(CodeInvalidScope, "too many scopes")
	}
	return out, nil
}

// hasScope reports whether the space-separated scope contains sc.
func hasScope(scope, sc string) bool { return slices.Contains(strings.Fields(scope), sc) }

// mayUseSession reports whether client c may introspect the refresh tokens
// of, or revoke, a session: its own sessions, and those of the built-in
// client (opened without a client). Whether c may rotate a session is
// decided inside the rotation itself (store.RotateRequest.MayRotate); this
// check only spares the store a rotation that cannot succeed.
func mayUseSession(c store.Client, sess store.Session) bool {
	return sess.TenantID == c.TenantID && (sess.ClientID == c.ID || sess.ClientID == DefaultClientID)
}

// grantError turns the error of a sign-in into the token endpoint's
// invalid_grant, keeping a caller-safe reason; request, availability and
// internal errors pass unchanged.
func grantError(err error) error {
	e := AsError(err)
	switch e.Code {
	case CodeInvalidRequest, CodeInvalidGrant, CodeInvalidScope, CodeUnavailable, CodeInternal:
		return err
	case CodeInvalidCredentials:
		return &Error{Code: CodeInvalidGrant, Message: "invalid username or password", Err: err}
	case CodeMFARequired:
		return &Error{Code: CodeInvalidGrant, Message: "mfa_required: the account needs a second factor, which this grant cannot carry; sign in through POST /auth/login", Err: err}
	case CodePasswordChangeRequired:
		return &Error{Code: CodeInvalidGrant, Message: "password_change_required: the password has expired or must be changed; change it through the native API first", Err: err}
	case CodeAccountDisabled:
		return &Error{Code: CodeInvalidGrant, Message: "the account is disabled", Err: err}
	case CodeTooManyAttempts:
		return &Error{Code: CodeInvalidGrant, Message: "too many failed attempts; try again later", RetryAfter: e.RetryAfter, Err: err}
	case CodeInvalidIDToken:
		return &Error{Code: CodeInvalidGrant, Message: e.Message, Err: err}
	default:
		return &Error{Code: CodeInvalidGrant, Message: e.Message, Err: err}
	}
}
