package native

import (
	"net/http"

	"github.com/gatehouse-auth/gatehouse/internal/core"
)

type ticketSigninRequest struct {
	Ticket string `json:"ticket"`
}

// ticketSignin serves POST /auth/ticket/signin.
func (h *Handler) ticketSignin(r *http.Request, tid string, req ticketSigninRequest) (core.LoginResult, error) {
	return h.svc.SignInWithTicket(r.Context(), core.TicketSignin{TenantID: tid, Ticket: req.Ticket, Meta: h.meta(r)})
}

type idTokenSigninRequest struct {
	IDToken  string `json:"id_token"`
	Provider string `json:"provider"`
}

// idTokenSignin serves POST /auth/id-token/signin.
func (h *Handler) idTokenSignin(r *http.Request, tid string, req idTokenSigninRequest) (core.LoginResult, error) {
	return h.svc.SignInWithIDToken(r.Context(), core.IDTokenSignin{
		TenantID: tid, Provider: req.Provider, IDToken: req.IDToken, Meta: h.meta(r),
	})
}
