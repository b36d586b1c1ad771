// Package oauth2 serves the standard family: the OAuth 2.0 and OpenID
// Connect endpoints under /oauth2/* (token, introspection, revocation,
// userinfo) and Gatehouse's revocation feed. Requests are form-encoded,
// clients authenticate with client_secret_basic or client_secret_post (a
// public client by its client_id alone), and errors follow RFC 6749 §5.2.
package oauth2

import (
	"log/slog"
	"net/http"
	"slices"

	"github.com/gatehouse-auth/gatehouse/internal/core"
	"github.com/gatehouse-auth/gatehouse/internal/httpapi"
)

// Paths of the family.
const (
	PathToken       = "/oauth2/token"
	PathIntrospect  = "/oauth2/introspect"
	PathRevoke      = "/oauth2/revoke"
	PathUserInfo    = "/oauth2/userinfo"
	PathRevocations = "/oauth2/revocations"
	PathPAR         = "/oauth2/par"
	// PathAuthorize and PathLogout are served by the hosted pages (package web).
	PathAuthorize = "/oauth2/authorize"
	PathLogout    = "/oauth2/logout"
)

// Handler serves /oauth2/*.
type Handler struct {
	svc *core.Service
	ip  httpapi.ClientIP
	log *slog.Logger
}

// New returns the standard family's handler.
func New(svc *core.Service, ip httpapi.ClientIP, log *slog.Logger) *Handler {
	return &Handler{svc: svc, ip: ip, log: log}
}

// Register adds the family's routes to mux.
func (h *Handler) Register(mux *http.ServeMux) {
	mux.HandleFunc("POST "+PathToken, h.clientAuthed(h.token))
	mux.HandleFunc("POST "+PathIntrospect, h.clientAuthed(h.introspect))
	mux.HandleFunc("POST "+PathRevoke, h.clientAuthed(h.revoke))
	mux.HandleFunc("GET "+PathUserInfo, h.userInfo)
	mux.HandleFunc("POST "+PathUserInfo, h.userInfo)
	mux.HandleFunc("GET "+PathRevocations, h.revocations)
	mux.HandleFunc("POST "+PathPAR, h.clientAuthed(h.par))
}

// Discovery returns the OpenID Connect discovery fields of the family for
// issuer, to be merged into /.well-known/openid-configuration.
func Discovery(issuer string) map[string]any {
	authMethods := []string{"client_secret_basic", "client_secret_post"}
	return map[string]any{
		"token_endpoint":                                               issuer + PathToken,
		"introspection_endpoint":                                       issuer + PathIntrospect,
		"revocation_endpoint":                                          issuer + PathRevoke,
		"userinfo_endpoint":                                            issuer + PathUserInfo,
		"revocation_feed_endpoint":                                     issuer + PathRevocations,
		"grant_types_supported":                                        core.GrantTypes,
		"token_endpoint_auth_methods_supported":                        slices.Concat(authMethods, []string{"none"}),
		"introspection_endpoint_auth_methods_supported":                authMethods,
		"revocation_endpoint_auth_methods_supported":                   slices.Concat(authMethods, []string{"none"}),
		"scopes_supported":                                             core.SupportedScopes,
		"authorization_endpoint":                                       issuer + PathAuthorize,
		"pushed_authorization_request_endpoint":                        issuer + PathPAR,
		"end_session_endpoint":                                         issuer + PathLogout,
		"response_types_supported":                                     []string{"code"},
		"response_modes_supported":                                     []string{core.ResponseModeQuery, core.ResponseModeFormPost},
		"code_challenge_methods_supported":                             []string{"S256"},
		"prompt_values_supported":                                      core.PromptValues,
		"backchannel_logout_supported":                                 true,
		"backchannel_logout_session_supported":                         true,
		"authorization_response_iss_parameter_supported":               true,
		"require_pushed_authorization_requests":                        false,
		"pushed_authorization_request_endpoint_auth_methods_supported": slices.Concat(authMethods, []string{"none"}),
		"claims_parameter_supported":                                   false,
		"request_parameter_supported":                                  false,
		"request_uri_parameter_supported":                              false,
		"claims_supported": []string{"iss", "sub", "aud", "azp", "exp", "iat", "nbf", "jti", "auth_time", "at_hash",
			"sid", "tid", "client_id", "scope", "roles", "groups", "amr", "act", "nonce",
			"name", "preferred_username", "picture", "updated_at", "email", "phone_number"},
	}
}

func (h *Handler) meta(r *http.Request) core.Meta {
	return core.Meta{IP: h.ip.Of(r), UserAgent: r.UserAgent()}
}
