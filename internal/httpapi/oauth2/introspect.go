package oauth2

import (
	"net/http"
	"net/url"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/httpapi"
	"github.com/gatehouse-auth/gatehouse/internal/store"
)

// introspection is the answer of RFC 7662 §2.2, with Gatehouse's claims
// (sid, tid, roles, amr, act) beside the registered ones.
type introspection struct {
	Active    bool        `json:"active"`
	Scope     string      `json:"scope,omitempty"`
	ClientID  string      `json:"client_id,omitempty"`
	TokenType string      `json:"token_type,omitempty"`
	Exp       int64       `json:"exp,omitempty"`
	Iat       int64       `json:"iat,omitempty"`
	Nbf       int64       `json:"nbf,omitempty"`
	Sub       string      `json:"sub,omitempty"`
	Aud       []string    `json:"aud,omitempty"`
	Iss       string      `json:"iss,omitempty"`
	JTI       string      `json:"jti,omitempty"`
	SID       string      `json:"sid,omitempty"`
	TID       string      `json:"tid,omitempty"`
	Roles     []string    `json:"roles,omitempty"`
	AMR       []string    `json:"amr,omitempty"`
	Act       *actorClaim `json:"act,omitempty"`
}

type actorClaim struct {
	Sub string `json:"sub"`
}

func unix(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

// introspect serves POST /oauth2/introspect (RFC 7662). The token_type_hint
// is accepted and not needed: the two kinds of tokens differ in shape.
func (h *Handler) introspect(w http.ResponseWriter, r *http.Request, form url.Values, c store.Client) {
	info, err := h.svc.Introspect(r.Context(), c, form.Get("token"))
	if err != nil {
		h.fail(w, err)
		return
	}
	out := introspection{Active: info.Active}
	if info.Active {
		out = introspection{Active: true, Scope: info.Scope, ClientID: info.ClientID, TokenType: info.TokenType,
			Exp: unix(info.ExpiresAt), Iat: unix(info.IssuedAt), Nbf: unix(info.NotBefore), Sub: info.Subject,
			Aud: info.Audience, Iss: info.Issuer, JTI: info.JTI, SID: info.SessionID, TID: info.TenantID,
			Roles: info.Roles, AMR: info.AMR}
		if info.Actor != "" {
			out.Act = &actorClaim{Sub: info.Actor}
		}
	}
	httpapi.WriteJSON(w, http.StatusOK, out)
}

// revoke serves POST /oauth2/revoke (RFC 7009): 200 with an empty body
// whether or not the token was valid.
func (h *Handler) revoke(w http.ResponseWriter, r *http.Request, form url.Values, c store.Client) {
	if err := h.svc.RevokeToken(r.Context(), c, form.Get("token"), h.meta(r)); err != nil {
		h.fail(w, err)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// userInfo serves GET and POST /oauth2/userinfo (OpenID Connect Core §5.3)
// for a bearer access token in the Authorization header.
func (h *Handler) userInfo(w http.ResponseWriter, r *http.Request) {
	raw := httpapi.BearerToken(r)
	if raw == "" {
		w.Header().Set("Cache-Control", "no-store")
		challenge(w, http.StatusUnauthorized, "", "")
		return
	}
	claims, err := h.svc.UserInfo(r.Context(), raw)
	if err != nil {
		h.failBearer(w, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	httpapi.WriteJSON(w, http.StatusOK, claims)
}
