package admin

import "net/http"

// resetMFA serves DELETE /admin/users/{id}/mfa: it removes the user's
// second factors and recovery codes (a support desk's answer to a lost
// device). 204, also when the user had none.
func (h *Handler) resetMFA(w http.ResponseWriter, r *request) {
	if err := h.svc.ResetMFA(r.Context(), r.tenant, r.PathValue("id"), r.meta); err != nil {
		h.fail(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
