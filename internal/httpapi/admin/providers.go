package admin

import (
	"net/http"

	"github.com/gatehouse-auth/gatehouse/internal/httpapi"
	"github.com/gatehouse-auth/gatehouse/internal/httpapi/native"
	"github.com/gatehouse-auth/gatehouse/internal/store"
)

// Provider is an external OpenID provider of a tenant.
type Provider struct {
	Name          string   `json:"name"`
	TenantID      string   `json:"tenant_id"`
	Issuer        string   `json:"issuer"`
	Audiences     []string `json:"audiences"`
	JWKSURI       string   `json:"jwks_uri,omitempty"`
	Algorithms    []string `json:"algorithms"`
	AutoProvision bool     `json:"auto_provision"`
	LinkByEmail   bool     `json:"link_by_email"`
	CreatedAt     string   `json:"created_at"`
	UpdatedAt     string   `json:"updated_at"`
}

func newProvider(p store.Provider) Provider {
	auds, algs := p.Audiences, p.Algorithms
	if auds == nil {
		auds = []string{}
	}
	if algs == nil {
		algs = []string{}
	}
	return Provider{
		Name: p.Name, TenantID: p.TenantID, Issuer: p.Issuer, Audiences: auds, JWKSURI: p.JWKSURI,
		Algorithms: algs, AutoProvision: p.AutoProvision, LinkByEmail: p.LinkByEmail,
		CreatedAt: native.FormatTime(p.CreatedAt), UpdatedAt: native.FormatTime(p.UpdatedAt),
	}
}

type createProviderRequest struct {
	Name          string   `json:"name"`
	Issuer        string   `json:"issuer"`
	Audiences     []string `json:"audiences"`
	JWKSURI       string   `json:"jwks_uri"`
	Algorithms    []string `json:"algorithms"`
	AutoProvision bool     `json:"auto_provision"`
	LinkByEmail   bool     `json:"link_by_email"`
}

// createProvider serves POST /admin/providers.
func (h *Handler) createProvider(w http.ResponseWriter, r *request) {
	var req createProviderRequest
	if err := httpapi.DecodeJSON(w, r.Request, &req); err != nil {
		h.fail(w, err)
		return
	}
	p, err := h.svc.CreateProvider(r.Context(), store.Provider{
		TenantID: r.tenant, Name: req.Name, Issuer: req.Issuer, Audiences: req.Audiences, JWKSURI: req.JWKSURI,
		Algorithms: req.Algorithms, AutoProvision: req.AutoProvision, LinkByEmail: req.LinkByEmail,
	}, r.meta)
	if err != nil {
		h.fail(w, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusCreated, newProvider(p))
}

// listProviders serves GET /admin/providers.
func (h *Handler) listProviders(w http.ResponseWriter, r *request) {
	list, err := h.svc.ListProviders(r.Context(), r.tenant)
	if err != nil {
		h.fail(w, err)
		return
	}
	out := make([]Provider, 0, len(list))
	for _, p := range list {
		out = append(out, newProvider(p))
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"providers": out})
}

// getProvider serves GET /admin/providers/{name}.
func (h *Handler) getProvider(w http.ResponseWriter, r *request) {
	p, err := h.svc.GetProvider(r.Context(), r.tenant, r.PathValue("name"))
	if err != nil {
		h.fail(w, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, newProvider(p))
}

// deleteProvider serves DELETE /admin/providers/{name}.
func (h *Handler) deleteProvider(w http.ResponseWriter, r *request) {
	if err := h.svc.DeleteProvider(r.Context(), r.tenant, r.PathValue("name"), r.meta); err != nil {
		h.fail(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
