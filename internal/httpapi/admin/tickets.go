package admin

import (
	"net/http"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/core"
	"github.com/gatehouse-auth/gatehouse/internal/httpapi"
)

type createTicketRequest struct {
	UserID     string `json:"user_id"`
	Purpose    string `json:"purpose"`
	TTLSeconds *int64 `json:"ttl_seconds"`
}

// Ticket is a newly issued one-time ticket, shown once.
type Ticket struct {
	Ticket    string `json:"ticket"`
	ExpiresAt string `json:"expires_at"`
	Purpose   string `json:"purpose"`
	UserID    string `json:"user_id"`
}

// maxTicketSeconds bounds ttl_seconds before it becomes a duration; the
// core caps the lifetime far lower.
const maxTicketSeconds = 365 * 24 * 3600

// createTicket serves POST /admin/tickets.
func (h *Handler) createTicket(w http.ResponseWriter, r *request) {
	var req createTicketRequest
	if err := httpapi.DecodeJSON(w, r.Request, &req); err != nil {
		h.fail(w, err)
		return
	}
	var ttl time.Duration
	if req.TTLSeconds != nil {
		if *req.TTLSeconds <= 0 {
			h.fail(w, &core.Error{Code: core.CodeInvalidRequest, Message: "ttl_seconds must be positive"})
			return
		}
		ttl = time.Duration(min(*req.TTLSeconds, maxTicketSeconds)) * time.Second
	}
	t, err := h.svc.IssueTicket(r.Context(), core.TicketRequest{
		TenantID: r.tenant, UserID: req.UserID, Purpose: req.Purpose, TTL: ttl, Meta: r.meta,
	})
	if err != nil {
		h.fail(w, err)
		return
	}
	httpapi.NoStore(w)
	httpapi.WriteJSON(w, http.StatusCreated, Ticket{
		Ticket: t.Ticket, ExpiresAt: t.ExpiresAt.UTC().Format(time.RFC3339), Purpose: t.Purpose, UserID: t.UserID,
	})
}
