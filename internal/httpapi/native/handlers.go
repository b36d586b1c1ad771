// Package native serves the native family, /auth/*: sign-in, refresh,
// logout, the current user and their sessions, and password change.
package native

import (
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/gatehouse-auth/gatehouse/internal/core"
	"github.com/gatehouse-auth/gatehouse/internal/httpapi"
)

// Handler serves /auth/*.
type Handler struct {
	svc *core.Service
	ip  httpapi.ClientIP
	log *slog.Logger
}

// New returns the native family's handler.
func New(svc *core.Service, ip httpapi.ClientIP, log *slog.Logger) *Handler {
	return &Handler{svc: svc, ip: ip, log: log}
}

// Register adds the family's routes to mux.
func (h *Handler) Register(mux *http.ServeMux) {
	mux.HandleFunc("POST /auth/login", signIn(h, h.login))
	mux.HandleFunc("POST /auth/refresh", signIn(h, h.refresh))
	mux.HandleFunc("POST /auth/ticket/signin", signIn(h, h.ticketSignin))
	mux.HandleFunc("POST /auth/id-token/signin", signIn(h, h.idTokenSignin))
	mux.HandleFunc("POST /auth/logout", h.authed(false, h.logout))
	mux.HandleFunc("GET /auth/me", h.authed(false, h.me))
	mux.HandleFunc("GET /auth/sessions", h.authed(false, h.sessions))
	mux.HandleFunc("DELETE /auth/sessions/{id}", h.authed(false, h.deleteSession))
	mux.HandleFunc("POST /auth/password/change", h.authed(true, h.changePassword))
	h.registerMFA(mux)
	h.registerPasskeys(mux)
}

func (h *Handler) meta(r *http.Request) core.Meta {
	return core.Meta{IP: h.ip.Of(r), UserAgent: r.UserAgent()}
}

func (h *Handler) fail(w http.ResponseWriter, err error) { httpapi.WriteError(w, h.log, err) }

// tenant returns the tenant named by X-Tenant-ID (default "default").
func tenant(r *http.Request) (string, error) { return httpapi.Tenant(r) }

// authed requires a valid access token of the request's tenant.
// allowRestricted admits tokens that only allow a password change.
func (h *Handler) authed(allowRestricted bool, next func(http.ResponseWriter, *http.Request, core.Principal)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tid, err := tenant(r)
		if err != nil {
			h.fail(w, err)
			return
		}
		p, err := h.svc.Authenticate(r.Context(), tid, httpapi.BearerToken(r), allowRestricted)
		if err != nil {
			h.fail(w, err)
			return
		}
		next(w, r, p)
	}
}

// signIn serves an endpoint that answers a LoginResponse: it decodes the
// JSON body into a T, resolves the tenant, runs the sign-in and encodes its
// result. Token responses, failures included, are never cached.
func signIn[T any](h *Handler, run func(r *http.Request, tid string, req T) (core.LoginResult, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		httpapi.NoStore(w)
		var req T
		if err := httpapi.DecodeJSON(w, r, &req); err != nil {
			h.fail(w, err)
			return
		}
		tid, err := tenant(r)
		if err != nil {
			h.fail(w, err)
			return
		}
		res, err := run(r, tid, req)
		if err != nil {
			h.fail(w, err)
			return
		}
		h.writeLogin(w, res)
	}
}

func (h *Handler) writeLogin(w http.ResponseWriter, res core.LoginResult) {
	httpapi.NoStore(w)
	httpapi.WriteJSON(w, http.StatusOK, NewLoginResponse(res))
}

type loginRequest struct {
	Username     string `json:"username"`
	Password     string `json:"password"`
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
}

func (h *Handler) login(r *http.Request, tid string, req loginRequest) (core.LoginResult, error) {
	id, secret, err := signInClient(r, req)
	if err != nil {
		return core.LoginResult{}, err
	}
	return h.svc.LoginPassword(r.Context(), core.PasswordLogin{
		TenantID: tid, Username: req.Username, Password: req.Password, ClientID: id, ClientSecret: secret,
		Meta: h.meta(r), CanChallenge: true,
	})
}

// signInClient returns the client a sign-in names: client_id and
// client_secret of the body, or HTTP Basic (id and secret form-encoded as
// RFC 6749 §2.3.1 says). Both at once must name the same client and carry
// the secret only once.
func signInClient(r *http.Request, req loginRequest) (id, secret string, err error) {
	auth := r.Header.Get("Authorization")
	if len(auth) < 6 || !strings.EqualFold(auth[:6], "basic ") {
		return req.ClientID, req.ClientSecret, nil
	}
	bid, bsecret, ok := r.BasicAuth()
	if ok {
		if bid, err = url.QueryUnescape(bid); err == nil {
			bsecret, err = url.QueryUnescape(bsecret)
		}
	}
	if !ok || err != nil {
		return "", "", &core.Error{Code: core.CodeInvalidClient, Message: "malformed Basic credentials"}
	}
	if req.ClientSecret != "" || (req.ClientID != "" && req.ClientID != bid) {
		return "", "", &httpapi.RequestError{Status: http.StatusBadRequest, Message: "the client must authenticate with one method only"}
	}
	return bid, bsecret, nil
}

type refreshRequest struct {
	RefreshToken string `json:"refresh_token"`
}

func (h *Handler) refresh(r *http.Request, tid string, req refreshRequest) (core.LoginResult, error) {
	return h.svc.Refresh(r.Context(), core.RefreshRequest{TenantID: tid, RefreshToken: req.RefreshToken, Meta: h.meta(r)})
}

func (h *Handler) logout(w http.ResponseWriter, r *http.Request, p core.Principal) {
	if err := h.svc.Logout(r.Context(), p, h.meta(r)); err != nil {
		h.fail(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (h *Handler) me(w http.ResponseWriter, r *http.Request, p core.Principal) {
	u, pw, err := h.svc.Me(r.Context(), p)
	if err != nil {
		h.fail(w, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	httpapi.WriteJSON(w, http.StatusOK, NewUserInfo(u, pw))
}

func (h *Handler) sessions(w http.ResponseWriter, r *http.Request, p core.Principal) {
	list, err := h.svc.UserSessions(r.Context(), p.TenantID, p.Subject)
	if err != nil {
		h.fail(w, err)
		return
	}
	out := make([]SessionInfo, 0, len(list))
	for _, s := range list {
		out = append(out, NewSessionInfo(s, s.ID == p.SessionID))
	}
	w.Header().Set("Cache-Control", "no-store")
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"sessions": out})
}

func (h *Handler) deleteSession(w http.ResponseWriter, r *http.Request, p core.Principal) {
	if err := h.svc.RevokeOwnSession(r.Context(), p, r.PathValue("id"), h.meta(r)); err != nil {
		h.fail(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

type changePasswordRequest struct {
	OldPassword string `json:"old_password"`
	NewPassword string `json:"new_password"`
}

func (h *Handler) changePassword(w http.ResponseWriter, r *http.Request, p core.Principal) {
	var req changePasswordRequest
	if err := httpapi.DecodeJSON(w, r, &req); err != nil {
		h.fail(w, err)
		return
	}
	if err := h.svc.ChangePassword(r.Context(), p, req.OldPassword, req.NewPassword, h.meta(r)); err != nil {
		h.fail(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
