// Package admin serves Gatehouse's management API, /admin/*.
package admin

import (
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/core"
	"github.com/gatehouse-auth/gatehouse/internal/httpapi"
)

// Handler serves /admin/*.
type Handler struct {
	svc *core.Service
	ip  httpapi.ClientIP
	log *slog.Logger
}

// New returns the admin family's handler.
func New(svc *core.Service, ip httpapi.ClientIP, log *slog.Logger) *Handler {
	return &Handler{svc: svc, ip: ip, log: log}
}

// Register adds the family's routes to mux.
func (h *Handler) Register(mux *http.ServeMux) {
	mux.HandleFunc("POST /admin/tenants", h.authed(h.createTenant))
	mux.HandleFunc("GET /admin/tenants", h.authed(h.listTenants))
	mux.HandleFunc("POST /admin/users", h.authed(h.createUser))
	mux.HandleFunc("GET /admin/users", h.authed(h.listUsers))
	mux.HandleFunc("GET /admin/users/{id}", h.authed(h.getUser))
	mux.HandleFunc("PATCH /admin/users/{id}", h.authed(h.patchUser))
	mux.HandleFunc("DELETE /admin/users/{id}", h.authed(h.deleteUser))
	mux.HandleFunc("GET /admin/users/{id}/sessions", h.authed(h.userSessions))
	mux.HandleFunc("DELETE /admin/users/{id}/sessions", h.authed(h.revokeUserSessions))
	mux.HandleFunc("DELETE /admin/users/{id}/mfa", h.authed(h.resetMFA))
	mux.HandleFunc("DELETE /admin/sessions/{id}", h.authed(h.revokeSession))
	mux.HandleFunc("POST /admin/keys/rotate", h.authed(h.rotateKeys))
	mux.HandleFunc("POST /admin/tickets", h.authed(h.createTicket))
	mux.HandleFunc("POST /admin/providers", h.authed(h.createProvider))
	mux.HandleFunc("GET /admin/providers", h.authed(h.listProviders))
	mux.HandleFunc("GET /admin/providers/{name}", h.authed(h.getProvider))
	mux.HandleFunc("DELETE /admin/providers/{name}", h.authed(h.deleteProvider))
	mux.HandleFunc("GET /admin/audit", h.authed(h.audit))
	mux.HandleFunc("GET /admin/username-collisions", h.authed(h.usernameCollisions))
	h.registerClients(mux)
	h.registerWebhooks(mux)
	h.registerPasskeys(mux)
	mux.HandleFunc("PATCH /admin/clients/{id}", h.authed(h.patchClient))
	h.registerConsents(mux)
}

// request is an authenticated admin request.
type request struct {
	*http.Request
	admin  core.Admin
	tenant string
	meta   core.Meta
}

func (h *Handler) fail(w http.ResponseWriter, err error) { httpapi.WriteError(w, h.log, err) }

// authed authenticates the administrator and checks the tenant of the request.
func (h *Handler) authed(next func(http.ResponseWriter, *request)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		tid, err := httpapi.Tenant(r)
		if err != nil {
			h.fail(w, err)
			return
		}
		a, err := h.svc.AuthenticateAdmin(r.Context(), tid, httpapi.BearerToken(r))
		if err != nil {
			h.fail(w, err)
			return
		}
		if !a.CanAccess(tid) {
			h.fail(w, &core.Error{Code: core.CodeForbidden, Message: "not allowed for this tenant"})
			return
		}
		next(w, &request{Request: r, admin: a, tenant: tid, meta: core.Meta{IP: h.ip.Of(r), UserAgent: r.UserAgent(), Actor: a.Actor}})
	}
}

// globalOnly refuses administrators limited to one tenant.
func globalOnly(r *request) error {
	if r.admin.TenantID != "" {
		return &core.Error{Code: core.CodeForbidden, Message: "this operation needs the admin key"}
	}
	return nil
}

func (h *Handler) createTenant(w http.ResponseWriter, r *request) {
	var req struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	}
	if err := httpapi.DecodeJSON(w, r.Request, &req); err != nil {
		h.fail(w, err)
		return
	}
	if err := globalOnly(r); err != nil {
		h.fail(w, err)
		return
	}
	t, err := h.svc.CreateTenant(r.Context(), req.ID, req.Name, r.meta)
	if err != nil {
		h.fail(w, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusCreated, newTenant(t))
}

func (h *Handler) listTenants(w http.ResponseWriter, r *request) {
	if err := globalOnly(r); err != nil {
		h.fail(w, err)
		return
	}
	list, err := h.svc.ListTenants(r.Context())
	if err != nil {
		h.fail(w, err)
		return
	}
	out := make([]Tenant, 0, len(list))
	for _, t := range list {
		out = append(out, newTenant(t))
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"tenants": out})
}

type createUserRequest struct {
	ID                 string         `json:"id"`
	Username           string         `json:"username"`
	Email              string         `json:"email"`
	Phone              string         `json:"phone"`
	DisplayName        string         `json:"display_name"`
	AvatarURL          string         `json:"avatar_url"`
	Groups             []string       `json:"groups"`
	Roles              []string       `json:"roles"`
	Attributes         map[string]any `json:"attributes"`
	Password           string         `json:"password"`
	PasswordHash       string         `json:"password_hash"`
	MustChangePassword bool           `json:"must_change_password"`
	Status             string         `json:"status"`
}

func (h *Handler) createUser(w http.ResponseWriter, r *request) {
	var req createUserRequest
	if err := httpapi.DecodeJSON(w, r.Request, &req); err != nil {
		h.fail(w, err)
		return
	}
	u, err := h.svc.CreateUser(r.Context(), core.NewUser{
		TenantID: r.tenant, ID: req.ID, Username: req.Username, Email: req.Email, Phone: req.Phone,
		DisplayName: req.DisplayName, AvatarURL: req.AvatarURL, Groups: req.Groups, Roles: req.Roles,
		Attributes: req.Attributes, Password: req.Password, PasswordHash: req.PasswordHash,
		MustChangePassword: req.MustChangePassword, Status: req.Status,
	}, r.meta)
	if err != nil {
		h.fail(w, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusCreated, newUser(u))
}

func (h *Handler) listUsers(w http.ResponseWriter, r *request) {
	limit := 100
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			h.fail(w, &core.Error{Code: core.CodeInvalidRequest, Message: "limit must be between 1 and 1000"})
			return
		}
		limit = n
	}
	list, err := h.svc.ListUsers(r.Context(), r.tenant, r.URL.Query().Get("after"), limit)
	if err != nil {
		h.fail(w, err)
		return
	}
	out := make([]User, 0, len(list))
	for _, u := range list {
		out = append(out, newUser(u))
	}
	next := ""
	if len(list) == limit {
		next = list[len(list)-1].ID
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"users": out, "next": next})
}

func (h *Handler) getUser(w http.ResponseWriter, r *request) {
	u, err := h.svc.GetUser(r.Context(), r.tenant, r.PathValue("id"))
	if err != nil {
		h.fail(w, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, newUser(u))
}

type patchUserRequest struct {
	Username           *string         `json:"username"`
	Email              *string         `json:"email"`
	Phone              *string         `json:"phone"`
	DisplayName        *string         `json:"display_name"`
	AvatarURL          *string         `json:"avatar_url"`
	Status             *string         `json:"status"`
	Roles              *[]string       `json:"roles"`
	Groups             *[]string       `json:"groups"`
	Attributes         *map[string]any `json:"attributes"`
	Password           *string         `json:"password"`
	PasswordHash       *string         `json:"password_hash"`
	MustChangePassword *bool           `json:"must_change_password"`
	PasswordChangedAt  *string         `json:"password_changed_at"`
}

func (h *Handler) patchUser(w http.ResponseWriter, r *request) {
	var req patchUserRequest
	if err := httpapi.DecodeJSON(w, r.Request, &req); err != nil {
		h.fail(w, err)
		return
	}
	p := core.UserPatch{
		Username: req.Username, Email: req.Email, Phone: req.Phone, DisplayName: req.DisplayName,
		AvatarURL: req.AvatarURL, Status: req.Status, Roles: req.Roles, Groups: req.Groups,
		Attributes: req.Attributes, Password: req.Password, PasswordHash: req.PasswordHash,
		MustChangePassword: req.MustChangePassword,
	}
	if req.PasswordChangedAt != nil {
		t, err := time.Parse(time.RFC3339, *req.PasswordChangedAt)
		if err != nil {
			h.fail(w, &core.Error{Code: core.CodeInvalidRequest, Message: "password_changed_at must be an RFC 3339 time"})
			return
		}
		p.PasswordChangedAt = &t
	}
	u, err := h.svc.UpdateUser(r.Context(), r.tenant, r.PathValue("id"), p, r.meta)
	if err != nil {
		h.fail(w, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, newUser(u))
}

func (h *Handler) deleteUser(w http.ResponseWriter, r *request) {
	if err := h.svc.DeleteUser(r.Context(), r.tenant, r.PathValue("id"), r.meta); err != nil {
		h.fail(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (h *Handler) userSessions(w http.ResponseWriter, r *request) {
	if _, err := h.svc.GetUser(r.Context(), r.tenant, r.PathValue("id")); err != nil {
		h.fail(w, err)
		return
	}
	list, err := h.svc.UserSessions(r.Context(), r.tenant, r.PathValue("id"))
	if err != nil {
		h.fail(w, err)
		return
	}
	out := make([]Session, 0, len(list))
	for _, s := range list {
		out = append(out, newSession(s))
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"sessions": out})
}

func (h *Handler) revokeUserSessions(w http.ResponseWriter, r *request) {
	if _, err := h.svc.GetUser(r.Context(), r.tenant, r.PathValue("id")); err != nil {
		h.fail(w, err)
		return
	}
	if _, err := h.svc.RevokeUserSessions(r.Context(), r.tenant, r.PathValue("id"), "", core.ReasonAdmin, r.meta); err != nil {
		h.fail(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (h *Handler) revokeSession(w http.ResponseWriter, r *request) {
	if err := h.svc.RevokeSession(r.Context(), r.tenant, r.PathValue("id"), r.meta); err != nil {
		h.fail(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (h *Handler) rotateKeys(w http.ResponseWriter, r *request) {
	var req struct {
		Alg string `json:"alg"`
	}
	if err := httpapi.DecodeOptionalJSON(w, r.Request, &req); err != nil {
		h.fail(w, err)
		return
	}
	if err := globalOnly(r); err != nil {
		h.fail(w, err)
		return
	}
	kid, activeFrom, err := h.svc.RotateKeys(r.Context(), req.Alg, r.meta)
	if err != nil {
		h.fail(w, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"kid": kid, "jwks_uri": "/.well-known/jwks.json",
		"active_from": activeFrom.UTC().Format(time.RFC3339Nano)})
}

func (h *Handler) audit(w http.ResponseWriter, r *request) {
	q := r.URL.Query()
	limit := 100
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			h.fail(w, &core.Error{Code: core.CodeInvalidRequest, Message: "limit must be between 1 and 1000"})
			return
		}
		limit = n
	}
	events, err := h.svc.ListAudit(r.Context(), core.AuditQuery{TenantID: r.tenant, UserID: q.Get("user_id"), Type: q.Get("type"), Limit: limit})
	if err != nil {
		h.fail(w, err)
		return
	}
	out := make([]AuditEvent, 0, len(events))
	for _, e := range events {
		out = append(out, newAuditEvent(e))
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"events": out})
}
