package admin

import (
	"net/http"

	"github.com/gatehouse-auth/gatehouse/internal/httpapi"
)

// UsernameCollision is one entry of GET /admin/username-collisions.
type UsernameCollision struct {
	UserID        string `json:"user_id"`
	Username      string `json:"username"`
	Reason        string `json:"reason"`
	Prepared      string `json:"prepared,omitempty"`
	ConflictsWith string `json:"conflicts_with,omitempty"`
}

// usernameCollisions lists the tenant's users that kept a username from
// before usernames were compared by RFC 8265.
func (h *Handler) usernameCollisions(w http.ResponseWriter, r *request) {
	list, err := h.svc.UsernameCollisions(r.Context(), r.tenant)
	if err != nil {
		h.fail(w, err)
		return
	}
	out := make([]UsernameCollision, 0, len(list))
	for _, c := range list {
		out = append(out, UsernameCollision{UserID: c.UserID, Username: c.Username, Reason: c.Reason,
			Prepared: c.Prepared, ConflictsWith: c.ConflictsWith})
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"collisions": out})
}
