package admin

import (
	"net/http"

	"github.com/gatehouse-auth/gatehouse/internal/core"
	"github.com/gatehouse-auth/gatehouse/internal/httpapi"
	"github.com/gatehouse-auth/gatehouse/internal/httpapi/native"
	"github.com/gatehouse-auth/gatehouse/internal/store"
)

// registerClients adds the client routes to mux.
func (h *Handler) registerClients(mux *http.ServeMux) {
	mux.HandleFunc("POST /admin/clients", h.authed(h.createClient))
	mux.HandleFunc("GET /admin/clients", h.authed(h.listClients))
	mux.HandleFunc("GET /admin/clients/{id}", h.authed(h.getClient))
	mux.HandleFunc("DELETE /admin/clients/{id}", h.authed(h.deleteClient))
	mux.HandleFunc("POST /admin/clients/{id}/secret", h.authed(h.rotateClientSecret))
}

// Client is a client as administrators see it. ClientSecret is present only
// in the answers that generate it (creation and rotation): it is never
// shown again.
type Client struct {
	ClientID     string   `json:"client_id"`
	ClientSecret string   `json:"client_secret,omitempty"`
	TenantID     string   `json:"tenant_id"`
	Name         string   `json:"name"`
	GrantTypes   []string `json:"grant_types"`
	Scopes       []string `json:"scopes"`
	Public       bool     `json:"public"`
	FirstParty   bool     `json:"first_party"`
	// RedirectURIs and the following fields configure the browser flows.
	RedirectURIs           []string `json:"redirect_uris"`
	PostLogoutRedirectURIs []string `json:"post_logout_redirect_uris"`
	BackchannelLogoutURI   string   `json:"backchannel_logout_uri"`
	RequirePAR             bool     `json:"require_par"`
	CreatedAt              string   `json:"created_at"`
	UpdatedAt              string   `json:"updated_at"`
}

func newClientView(c store.Client, secret string) Client {
	grants, scopes := c.GrantTypes, c.Scopes
	if grants == nil {
		grants = []string{}
	}
	if scopes == nil {
		scopes = []string{}
	}
	return Client{
		ClientID: c.ID, ClientSecret: secret, TenantID: c.TenantID, Name: c.Name,
		GrantTypes: grants, Scopes: scopes, Public: c.Public, FirstParty: c.FirstParty,
		RedirectURIs: orEmpty(c.RedirectURIs), PostLogoutRedirectURIs: orEmpty(c.PostLogoutRedirectURIs),
		BackchannelLogoutURI: c.BackchannelLogoutURI, RequirePAR: c.RequirePAR,
		CreatedAt: native.FormatTime(c.CreatedAt), UpdatedAt: native.FormatTime(c.UpdatedAt),
	}
}

type createClientRequest struct {
	Name       string   `json:"name"`
	GrantTypes []string `json:"grant_types"`
	Scopes     []string `json:"scopes"`
	Public     bool     `json:"public"`
	FirstParty bool     `json:"first_party"`
	browserSettings
}

// browserSettings are the redirect and logout settings of a client, in
// both its creation and its patch; absent fields are left alone.
type browserSettings struct {
	RedirectURIs           *[]string `json:"redirect_uris"`
	PostLogoutRedirectURIs *[]string `json:"post_logout_redirect_uris"`
	BackchannelLogoutURI   *string   `json:"backchannel_logout_uri"`
	RequirePAR             *bool     `json:"require_par"`
}

func (b browserSettings) core() core.BrowserClientSettings {
	return core.BrowserClientSettings{RedirectURIs: b.RedirectURIs, PostLogoutRedirectURIs: b.PostLogoutRedirectURIs,
		BackchannelLogoutURI: b.BackchannelLogoutURI, RequirePAR: b.RequirePAR}
}

func orEmpty(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}

func (h *Handler) createClient(w http.ResponseWriter, r *request) {
	var req createClientRequest
	if err := httpapi.DecodeJSON(w, r.Request, &req); err != nil {
		h.fail(w, err)
		return
	}
	ic, err := h.svc.CreateClient(r.Context(), core.NewClient{
		TenantID: r.tenant, Name: req.Name, GrantTypes: req.GrantTypes, Scopes: req.Scopes, Public: req.Public,
		FirstParty: req.FirstParty,
		Browser:    req.core(),
	}, r.meta)
	if err != nil {
		h.fail(w, err)
		return
	}
	httpapi.NoStore(w)
	httpapi.WriteJSON(w, http.StatusCreated, newClientView(ic.Client, ic.Secret))
}

func (h *Handler) listClients(w http.ResponseWriter, r *request) {
	list, err := h.svc.ListClients(r.Context(), r.tenant)
	if err != nil {
		h.fail(w, err)
		return
	}
	out := make([]Client, 0, len(list))
	for _, c := range list {
		out = append(out, newClientView(c, ""))
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"clients": out})
}

func (h *Handler) getClient(w http.ResponseWriter, r *request) {
	c, err := h.svc.GetClient(r.Context(), r.tenant, r.PathValue("id"))
	if err != nil {
		h.fail(w, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, newClientView(c, ""))
}

func (h *Handler) deleteClient(w http.ResponseWriter, r *request) {
	if err := h.svc.DeleteClient(r.Context(), r.tenant, r.PathValue("id"), r.meta); err != nil {
		h.fail(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (h *Handler) rotateClientSecret(w http.ResponseWriter, r *request) {
	if err := httpapi.DecodeOptionalJSON(w, r.Request, &struct{}{}); err != nil {
		h.fail(w, err)
		return
	}
	ic, err := h.svc.RotateClientSecret(r.Context(), r.tenant, r.PathValue("id"), r.meta)
	if err != nil {
		h.fail(w, err)
		return
	}
	httpapi.NoStore(w)
	httpapi.WriteJSON(w, http.StatusOK, newClientView(ic.Client, ic.Secret))
}
