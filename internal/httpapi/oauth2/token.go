package oauth2

import (
	"net/http"
	"net/url"

	"github.com/gatehouse-auth/gatehouse/internal/core"
	"github.com/gatehouse-auth/gatehouse/internal/httpapi"
	"github.com/gatehouse-auth/gatehouse/internal/store"
)

// tokenResponse is the successful answer of the token endpoint (RFC 6749
// §5.1, OpenID Connect Core §3.1.3.3, RFC 8693 §2.2.1).
type tokenResponse struct {
	AccessToken     string `json:"access_token"`
	TokenType       string `json:"token_type"`
	ExpiresIn       int    `json:"expires_in"`
	RefreshToken    string `json:"refresh_token,omitempty"`
	IDToken         string `json:"id_token,omitempty"`
	Scope           string `json:"scope,omitempty"`
	IssuedTokenType string `json:"issued_token_type,omitempty"`
}

// token serves POST /oauth2/token.
func (h *Handler) token(w http.ResponseWriter, r *http.Request, form url.Values, c store.Client) {
	res, err := h.svc.OAuth2Token(r.Context(), c, core.TokenRequest{
		GrantType:          form.Get("grant_type"),
		Scope:              form.Get("scope"),
		Username:           form.Get("username"),
		Password:           form.Get("password"),
		RefreshToken:       form.Get("refresh_token"),
		Code:               form.Get("code"),
		RedirectURI:        form.Get("redirect_uri"),
		CodeVerifier:       form.Get("code_verifier"),
		SubjectToken:       form.Get("subject_token"),
		SubjectTokenType:   form.Get("subject_token_type"),
		RequestedTokenType: form.Get("requested_token_type"),
		ActorToken:         form.Get("actor_token"),
		Audience:           form.Get("audience"),
		Provider:           form.Get("provider"),
		Meta:               h.meta(r),
	})
	if err != nil {
		h.fail(w, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, tokenResponse{
		AccessToken: res.AccessToken, TokenType: "Bearer", ExpiresIn: res.ExpiresIn, RefreshToken: res.RefreshToken,
		IDToken: res.IDToken, Scope: res.Scope, IssuedTokenType: res.IssuedTokenType,
	})
}
