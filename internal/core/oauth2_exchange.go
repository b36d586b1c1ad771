package core

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/gatehouse-auth/gatehouse/internal/store"
)

// Token types of RFC 8693 §3.
const (
	TokenTypeIDToken     = "urn:ietf:params:oauth:token-type:id_token"
	TokenTypeAccessToken = "urn:ietf:params:oauth:token-type:access_token"
)

// maxSubjectTokenLen bounds the subject tokens read before verification.
const maxSubjectTokenLen = 16 << 10

// tokenExchangeGrant exchanges an external provider's ID token for
// Gatehouse tokens (RFC 8693): the same verification, replay guard and
// linking rules as the native ID-token sign-in (FederatedUser), then a
// session of the client with amr ["fed"].
func (s *Service) tokenExchangeGrant(ctx context.Context, c store.Client, in TokenRequest) (TokenResult, error) {
	switch {
	case in.SubjectToken == "":
		return TokenResult{}, invalid("subject_token is required")
	case in.SubjectTokenType == "":
		return TokenResult{}, invalid("subject_token_type is required")
	case in.SubjectTokenType != TokenTypeIDToken:
		return TokenResult{}, invalid("subject_token_type must be " + TokenTypeIDToken)
	case in.RequestedTokenType != "" && in.RequestedTokenType != TokenTypeAccessToken:
		return TokenResult{}, invalid("requested_token_type must be " + TokenTypeAccessToken)
	case in.ActorToken != "":
		return TokenResult{}, invalid("actor_token is not supported")
	case in.Audience != "" && in.Audience != c.ID:
		return TokenResult{}, newError(CodeInvalidTarget, "tokens are issued only for the calling client")
	case len(in.SubjectToken) > maxSubjectTokenLen:
		return TokenResult{}, grantError(newError(CodeInvalidIDToken, "the ID token is too long"))
	}
	scope, err := grantScope(c, in.Scope, true)
	if err != nil {
		return TokenResult{}, err
	}
	provider := in.Provider
	if provider == "" {
		if provider, err = s.providerOfToken(ctx, c.TenantID, in.SubjectToken); err != nil {
			return TokenResult{}, err
		}
	}
	res, err := s.exchange(ctx, c, provider, scope, in)
	s.metrics.Login(loginOutcome(err))
	if err != nil {
		return TokenResult{}, grantError(err)
	}
	out, err := s.tokenResult(c, res, scope, s.offline(c, scope))
	out.IssuedTokenType = TokenTypeAccessToken
	return out, err
}

func (s *Service) exchange(ctx context.Context, c store.Client, provider, scope string, in TokenRequest) (LoginResult, error) {
	u, fc, err := s.FederatedUser(ctx, c.TenantID, provider, in.SubjectToken, in.Meta)
	if err != nil {
		return LoginResult{}, err
	}
	res, err := s.startSession(ctx, u, SessionParams{AMR: []string{"fed"}, IP: in.IP, UserAgent: in.UserAgent,
		Scope: scope, Lifetime: s.grantLifetime(s.offline(c, scope))}.forClient(c))
	if err != nil {
		return LoginResult{}, err
	}
	s.audit(ctx, store.AuditEvent{Type: EventIDTokenSignin, TenantID: u.TenantID, UserID: u.ID, SessionID: res.Session.ID,
		IP: in.IP, UserAgent: in.UserAgent, Details: map[string]any{"provider": provider, "issuer": fc.Issuer,
			"subject": fc.Subject, "client_id": c.ID, "grant_type": GrantTokenExchange}})
	return res, nil
}

// providerOfToken finds the tenant's provider whose issuer is the (not yet
// verified) iss of the token: the token is verified against that provider
// afterwards, so a lying iss only picks a provider that will refuse it.
func (s *Service) providerOfToken(ctx context.Context, tenantID, raw string) (string, error) {
	iss := unverifiedIssuer(raw)
	if iss == "" {
		return "", grantError(newError(CodeInvalidIDToken, "the ID token is malformed"))
	}
	providers, err := s.store.ListProviders(ctx, tenantID)
	if err != nil {
		return "", fmt.Errorf("list providers: %w", err)
	}
	var names []string
	for _, p := range providers {
		if p.Issuer == iss {
			names = append(names, p.Name)
		}
	}
	switch len(names) {
	case 0:
		return "", grantError(newError(CodeInvalidIDToken, "no provider of this tenant has the token's issuer"))
	case 1:
		return names[0], nil
	default:
		return "", invalid("several providers have the token's issuer (" + strings.Join(names, ", ") + "); name one with the provider parameter")
	}
}

// unverifiedIssuer reads the iss claim of a compact JWS without verifying
// it, or returns "".
func unverifiedIssuer(raw string) string {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return ""
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return ""
	}
	var c struct {
		Iss string `json:"iss"`
	}
	if json.Unmarshal(b, &c) != nil {
		return ""
	}
	return c.Iss
}
