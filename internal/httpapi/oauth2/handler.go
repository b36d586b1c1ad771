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
}

// Discovery returns the OpenID Connect discovery fields of the family for
// issuer, to be merged into /.well-known/openid-configuration.
func Discovery(issuer string) map[string]any {
	authMethods := []string{"client_secret_basic", "client_secret_post"}
	return map[string]any{
		"token_endpoint":                                issuer + PathToken,
		"introspection_endpoint":                        issuer + PathIntrospect,
		"revocation_endpoint":                           issuer + PathRevoke,
		"userinfo_endpoint":                             issuer + PathUserInfo,
		"revocation_feed_endpoint":                      issuer + PathRevocations,
		"grant_types_supported":                         core.GrantTypes,
		"token_endpoint_auth_methods_supported":         slices.Concat(authMethods, []string{"none"}),
		"introspection_endpoint_auth_methods_supported": authMethods,
		"revocation_endpoint_auth_methods_supported":    slices.Concat(authMethods, []string{"none"}),
		"scopes_supported":                              core.SupportedScopes,
		"response_types_supported":                      []string{"token"},
		"claims_supported": []string{"iss", "sub", "aud", "azp", "exp", "iat", "nbf", "jti", "auth_time", "at_hash",
			"sid", "tid", "client_id", "scope", "roles", "groups", "amr", "act",
			"name", "preferred_username", "picture", "updated_at", "email", "phone_number"},
	}
}

func (h *Handler) meta(r *http.Request) core.Meta {
	return core.Meta{IP: h.ip.Of(r), UserAgent: r.UserAgent()}
}
