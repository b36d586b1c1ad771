package admin

import (
	"net/http"
	"strconv"

	"github.com/gatehouse-auth/gatehouse/internal/core"
	"github.com/gatehouse-auth/gatehouse/internal/httpapi"
	"github.com/gatehouse-auth/gatehouse/internal/httpapi/native"
	"github.com/gatehouse-auth/gatehouse/internal/store"
)

// registerWebhooks adds the webhook routes to mux.
func (h *Handler) registerWebhooks(mux *http.ServeMux) {
	mux.HandleFunc("POST /admin/webhooks", h.authed(h.createWebhook))
	mux.HandleFunc("GET /admin/webhooks", h.authed(h.listWebhooks))
	mux.HandleFunc("GET /admin/webhooks/{id}", h.authed(h.getWebhook))
	mux.HandleFunc("PATCH /admin/webhooks/{id}", h.authed(h.patchWebhook))
	mux.HandleFunc("DELETE /admin/webhooks/{id}", h.authed(h.deleteWebhook))
	mux.HandleFunc("POST /admin/webhooks/{id}/test", h.authed(h.testWebhook))
	mux.HandleFunc("GET /admin/webhooks/{id}/deliveries", h.authed(h.webhookDeliveries))
}

// Webhook is an endpoint as administrators see it. Secret is present only
// in the answers that set it (creation, and a PATCH that changes it).
type Webhook struct {
	ID        string   `json:"id"`
	TenantID  string   `json:"tenant_id"`
	URL       string   `json:"url"`
	Events    []string `json:"events"`
	Secret    string   `json:"secret,omitempty"`
	CreatedAt string   `json:"created_at"`
	UpdatedAt string   `json:"updated_at"`
}

func newWebhookView(w store.Webhook, secret string) Webhook {
	evs := w.Events
	if evs == nil {
		evs = []string{}
	}
	return Webhook{ID: w.ID, TenantID: w.TenantID, URL: w.URL, Events: evs, Secret: secret,
		CreatedAt: native.FormatTime(w.CreatedAt), UpdatedAt: native.FormatTime(w.UpdatedAt)}
}

// Delivery is one entry of an endpoint's delivery log.
type Delivery struct {
	ID            string `json:"id"` // the webhook-id header
	EventType     string `json:"event_type"`
	Status        string `json:"status"` // pending, delivered, failed
	Attempts      int    `json:"attempts"`
	CreatedAt     string `json:"created_at"`
	NextAttemptAt string `json:"next_attempt_at,omitempty"`
	DeliveredAt   string `json:"delivered_at,omitempty"` // when delivered or given up
	LastStatus    int    `json:"last_status"`            // HTTP status of the last attempt, 0 for none
	LastError     string `json:"last_error"`
}

func newDelivery(m store.OutboxMessage) Delivery {
	d := Delivery{ID: m.ID, EventType: m.EventType, Status: m.Status, Attempts: m.Attempts,
		CreatedAt: native.FormatTime(m.CreatedAt), DeliveredAt: native.FormatTime(m.DeliveredAt),
		LastStatus: m.LastStatus, LastError: m.LastError}
	if m.Status == store.OutboxPending {
		d.NextAttemptAt = native.FormatTime(m.NextAttemptAt)
	}
	return d
}

// webhookRequest creates an endpoint or (PATCH) changes the fields present.
type webhookRequest struct {
	URL    *string   `json:"url"`
	Events *[]string `json:"events"`
	Secret *string   `json:"secret"`
}

func (r webhookRequest) input() core.WebhookInput {
	return core.WebhookInput{URL: r.URL, Events: r.Events, Secret: r.Secret}
}

func (h *Handler) createWebhook(w http.ResponseWriter, r *request) {
	var req webhookRequest
	if err := httpapi.DecodeJSON(w, r.Request, &req); err != nil {
		h.fail(w, err)
		return
	}
	iw, err := h.svc.CreateWebhook(r.Context(), r.tenant, req.input(), r.meta)
	if err != nil {
		h.fail(w, err)
		return
	}
	httpapi.NoStore(w)
	httpapi.WriteJSON(w, http.StatusCreated, newWebhookView(iw.Webhook, iw.Secret))
}

func (h *Handler) listWebhooks(w http.ResponseWriter, r *request) {
	list, err := h.svc.ListWebhooks(r.Context(), r.tenant)
	if err != nil {
		h.fail(w, err)
		return
	}
	out := make([]Webhook, 0, len(list))
	for _, wh := range list {
		out = append(out, newWebhookView(wh, ""))
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"webhooks": out})
}

func (h *Handler) getWebhook(w http.ResponseWriter, r *request) {
	wh, err := h.svc.GetWebhook(r.Context(), r.tenant, r.PathValue("id"))
	if err != nil {
		h.fail(w, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, newWebhookView(wh, ""))
}

func (h *Handler) patchWebhook(w http.ResponseWriter, r *request) {
	var req webhookRequest
	if err := httpapi.DecodeJSON(w, r.Request, &req); err != nil {
		h.fail(w, err)
		return
	}
	iw, err := h.svc.UpdateWebhook(r.Context(), r.tenant, r.PathValue("id"), req.input(), r.meta)
	if err != nil {
		h.fail(w, err)
		return
	}
	httpapi.NoStore(w)
	httpapi.WriteJSON(w, http.StatusOK, newWebhookView(iw.Webhook, iw.Secret))
}

func (h *Handler) deleteWebhook(w http.ResponseWriter, r *request) {
	if err := h.svc.DeleteWebhook(r.Context(), r.tenant, r.PathValue("id"), r.meta); err != nil {
		h.fail(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (h *Handler) testWebhook(w http.ResponseWriter, r *request) {
	if err := httpapi.DecodeOptionalJSON(w, r.Request, &struct{}{}); err != nil {
		h.fail(w, err)
		return
	}
	m, err := h.svc.TestWebhook(r.Context(), r.tenant, r.PathValue("id"))
	if err != nil {
		h.fail(w, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusAccepted, newDelivery(m))
}

func (h *Handler) webhookDeliveries(w http.ResponseWriter, r *request) {
	limit := 100
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			h.fail(w, &core.Error{Code: core.CodeInvalidRequest, Message: "limit must be between 1 and 1000"})
			return
		}
		limit = n
	}
	list, err := h.svc.WebhookDeliveries(r.Context(), r.tenant, r.PathValue("id"), limit)
	if err != nil {
		h.fail(w, err)
		return
	}
	out := make([]Delivery, 0, len(list))
	for _, m := range list {
		out = append(out, newDelivery(m))
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"deliveries": out})
}
