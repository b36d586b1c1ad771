package admin

import (
	"net/http"

	"github.com/gatehouse-auth/gatehouse/internal/core"
	"github.com/gatehouse-auth/gatehouse/internal/httpapi"
)

// patchClientRequest changes a client's name, allowed grant types,
// allowed scopes or first_party; absent (or null) fields stay as they are.
// Whether a client is public is fixed when it is created.
type patchClientRequest struct {
	Name       *string   `json:"name"`
	GrantTypes *[]string `json:"grant_types"`
	Scopes     *[]string `json:"scopes"`
	FirstParty *bool     `json:"first_party"`
	browserSettings
}

// patchClient serves PATCH /admin/clients/{id}.
func (h *Handler) patchClient(w http.ResponseWriter, r *request) {
	var req patchClientRequest
	if err := httpapi.DecodeJSON(w, r.Request, &req); err != nil {
		h.fail(w, err)
		return
	}
	c, err := h.svc.UpdateClient(r.Context(), r.tenant, r.PathValue("id"), core.ClientPatch{
		Name: req.Name, GrantTypes: req.GrantTypes, Scopes: req.Scopes, FirstParty: req.FirstParty, Browser: req.core(),
	}, r.meta)
	if err != nil {
		h.fail(w, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, newClientView(c, ""))
}
