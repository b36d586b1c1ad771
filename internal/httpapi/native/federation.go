package native

import (
	"net/http"

	"github.com/gatehouse-auth/gatehouse/internal/core"
	"github.com/gatehouse-auth/gatehouse/internal/httpapi"
)

type ticketSigninRequest struct {
	Ticket string `json:"ticket"`
}

// ticketSignin serves POST /auth/ticket/signin.
func (h *Handler) ticketSignin(w http.ResponseWriter, r *http.Request) {
	httpapi.NoStore(w)
	var req ticketSigninRequest
	if err := httpapi.DecodeJSON(w, r, &req); err != nil {
		h.fail(w, err)
		return
	}
	tid, err := tenant(r)
	if err != nil {
		h.fail(w, err)
		return
	}
	res, err := h.svc.SignInWithTicket(r.Context(), core.TicketSignin{TenantID: tid, Ticket: req.Ticket, Meta: h.meta(r)})
	if err != nil {
		h.fail(w, err)
		return
	}
	h.writeLogin(w, res)
}

type idTokenSigninRequest struct {
	IDToken  string `json:"id_token"`
	Provider string `json:"provider"`
}

// idTokenSignin serves POST /auth/id-token/signin.
func (h *Handler) idTokenSignin(w http.ResponseWriter, r *http.Request) {
	httpapi.NoStore(w)
	var req idTokenSigninRequest
	if err := httpapi.DecodeJSON(w, r, &req); err != nil {
		h.fail(w, err)
		return
	}
	tid, err := tenant(r)
	if err != nil {
		h.fail(w, err)
		return
	}
	res, err := h.svc.SignInWithIDToken(r.Context(), core.IDTokenSignin{
		TenantID: tid, Provider: req.Provider, IDToken: req.IDToken, Meta: h.meta(r),
	})
	if err != nil {
		h.fail(w, err)
		return
	}
	h.writeLogin(w, res)
}
