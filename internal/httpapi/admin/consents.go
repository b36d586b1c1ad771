package admin

import (
	"net/http"

	"github.com/gatehouse-auth/gatehouse/internal/httpapi"
	"github.com/gatehouse-auth/gatehouse/internal/httpapi/native"
)

// registerConsents adds the routes of users' remembered consents.
func (h *Handler) registerConsents(mux *http.ServeMux) {
	mux.HandleFunc("GET /admin/users/{id}/consents", h.authed(h.listConsents))
	mux.HandleFunc("DELETE /admin/users/{id}/consents/{client}", h.authed(h.revokeConsent))
}

// Consent is what a user allowed a client on the consent page.
type Consent struct {
	ClientID  string   `json:"client_id"`
	Scopes    []string `json:"scopes"`
	CreatedAt string   `json:"created_at"`
	UpdatedAt string   `json:"updated_at"`
}

func (h *Handler) listConsents(w http.ResponseWriter, r *request) {
	list, err := h.svc.Consents(r.Context(), r.tenant, r.PathValue("id"))
	if err != nil {
		h.fail(w, err)
		return
	}
	out := make([]Consent, 0, len(list))
	for _, k := range list {
		out = append(out, Consent{ClientID: k.ClientID, Scopes: orEmpty(k.Scopes),
			CreatedAt: native.FormatTime(k.CreatedAt), UpdatedAt: native.FormatTime(k.UpdatedAt)})
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"consents": out})
}

func (h *Handler) revokeConsent(w http.ResponseWriter, r *request) {
	if err := h.svc.RevokeConsent(r.Context(), r.tenant, r.PathValue("id"), r.PathValue("client"), r.meta); err != nil {
		h.fail(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
