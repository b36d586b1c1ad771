package admin

import (
	"net/http"

	"github.com/gatehouse-auth/gatehouse/internal/httpapi"
	"github.com/gatehouse-auth/gatehouse/internal/httpapi/native"
)

// registerPasskeys adds the routes of users' passkeys. They are served even
// while passkeys are off, so that an operator can still see and remove the
// passkeys registered before.
func (h *Handler) registerPasskeys(mux *http.ServeMux) {
	mux.HandleFunc("GET /admin/users/{id}/passkeys", h.authed(h.userPasskeys))
	mux.HandleFunc("DELETE /admin/users/{id}/passkeys/{pid}", h.authed(h.removePasskey))
}

// userPasskeys serves GET /admin/users/{id}/passkeys.
func (h *Handler) userPasskeys(w http.ResponseWriter, r *request) {
	list, err := h.svc.UserPasskeys(r.Context(), r.tenant, r.PathValue("id"))
	if err != nil {
		h.fail(w, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, native.NewPasskeyList(list))
}

// removePasskey serves DELETE /admin/users/{id}/passkeys/{pid}.
func (h *Handler) removePasskey(w http.ResponseWriter, r *request) {
	if err := h.svc.RemoveUserPasskey(r.Context(), r.tenant, r.PathValue("id"), r.PathValue("pid"), r.meta); err != nil {
		h.fail(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
