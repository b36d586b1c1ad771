// Package wellknown serves /.well-known/jwks.json and
// /.well-known/openid-configuration, which every deployment publishes.
package wellknown

import (
	"net/http"

	"github.com/gatehouse-auth/gatehouse/internal/httpapi"
	"github.com/gatehouse-auth/gatehouse/internal/token"
)

// Handler serves the discovery documents.
type Handler struct {
	keys   *token.KeySet
	issuer string
	// Extra adds fields to the discovery document (endpoints of the
	// families that are enabled).
	Extra map[string]any
}

// New returns the handler for issuer.
func New(keys *token.KeySet, issuer string) *Handler {
	return &Handler{keys: keys, issuer: issuer, Extra: map[string]any{}}
}

// Register adds the routes to mux.
func (h *Handler) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /.well-known/jwks.json", h.jwks)
	mux.HandleFunc("GET /.well-known/openid-configuration", h.discovery)
}

func (h *Handler) jwks(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	// Short caching: verifiers refetch on an unknown kid anyway.
	w.Header().Set("Cache-Control", "public, max-age=300")
	_, _ = w.Write(h.keys.JWKS())
}

func (h *Handler) discovery(w http.ResponseWriter, _ *http.Request) {
	doc := map[string]any{
		"issuer":                                h.issuer,
		"jwks_uri":                              h.issuer + "/.well-known/jwks.json",
		"subject_types_supported":               []string{"public"},
		"response_types_supported":              []string{"token"},
		"id_token_signing_alg_values_supported": h.keys.Algs(),
		"claims_supported": []string{"iss", "sub", "aud", "exp", "iat", "nbf", "jti", "sid", "tid",
			"client_id", "roles", "amr", "act"},
	}
	for k, v := range h.Extra {
		doc[k] = v
	}
	w.Header().Set("Cache-Control", "public, max-age=300")
	httpapi.WriteJSON(w, http.StatusOK, doc)
}
