package oauth2

import (
	"net/http"
	"net/url"

	"github.com/gatehouse-auth/gatehouse/internal/core"
	"github.com/gatehouse-auth/gatehouse/internal/httpapi"
	"github.com/gatehouse-auth/gatehouse/internal/store"
)

// parResponse is the answer of the PAR endpoint (RFC 9126 §2.2).
type parResponse struct {
	RequestURI string `json:"request_uri"`
	ExpiresIn  int    `json:"expires_in"`
}

// AuthorizeParams reads the parameters of an authorization request from a
// form or a query.
func AuthorizeParams(v url.Values) core.AuthorizeParams {
	return core.AuthorizeParams{
		ClientID: v.Get("client_id"), RedirectURI: v.Get("redirect_uri"), ResponseType: v.Get("response_type"),
		ResponseMode: v.Get("response_mode"), Scope: v.Get("scope"), State: v.Get("state"), Nonce: v.Get("nonce"),
		CodeChallenge: v.Get("code_challenge"), CodeChallengeMethod: v.Get("code_challenge_method"),
		Prompt: v.Get("prompt"), MaxAge: v.Get("max_age"), LoginHint: v.Get("login_hint"), RequestURI: v.Get("request_uri"),
	}
}

// par serves POST /oauth2/par.
func (h *Handler) par(w http.ResponseWriter, r *http.Request, form url.Values, c store.Client) {
	res, err := h.svc.PushAuthorization(r.Context(), c, AuthorizeParams(form))
	if err != nil {
		h.fail(w, err)
		return
	}
	httpapi.NoStore(w)
	httpapi.WriteJSON(w, http.StatusCreated, parResponse{RequestURI: res.RequestURI, ExpiresIn: res.ExpiresIn})
}
