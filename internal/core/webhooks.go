package core

import (
	"context"
	"encoding/json"
	"regexp"
	"slices"
	"strings"

	"github.com/gatehouse-auth/gatehouse/internal/events"
	"github.com/gatehouse-auth/gatehouse/internal/safeurl"
	"github.com/gatehouse-auth/gatehouse/internal/store"
)

// Audit event types of webhook endpoints.
const (
	EventWebhookCreated = "webhook_created"
	EventWebhookUpdated = "webhook_updated"
	EventWebhookDeleted = "webhook_deleted"
)

// EventWebhookTest is the type of the message POST /admin/webhooks/{id}/test
// sends; it is no audit event.
const EventWebhookTest = "webhook_test"

// Bounds on webhook endpoints.
const (
	maxWebhookURLLen    = 2048
	maxWebhookEvents    = 100
	maxWebhooksByTenant = 50
)

// webhookIDPattern is the form of the ids CreateWebhook gives; anything else
// is unknown without asking the store (which may refuse, say, a NUL byte).
var webhookIDPattern = regexp.MustCompile(`^wh_[A-Za-z0-9_-]{1,64}$`)

var errWebhookNotFound = newError(CodeNotFound, "webhook not found")

// eventTypePattern is the form of an event type: stable snake_case names.
var eventTypePattern = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)

// WebhookInput creates an endpoint, or (fields left nil) changes some of it.
type WebhookInput struct {
	URL    *string
	Events *[]string
	// Secret is the signing key as whsec_<base64>; nil on create generates
	// one. On update a non-nil Secret replaces the key.
	Secret *string
}

// IssuedWebhook is an endpoint with its secret in clear: only the answer to
// its creation (or to a change of its secret) carries it.
type IssuedWebhook struct {
	store.Webhook
	Secret string
}

// CreateWebhook adds an endpoint to the tenant. The URL must follow the
// rule for outgoing calls (https, no internal address) unless insecure
// URLs are allowed.
func (s *Service) CreateWebhook(ctx context.Context, tenantID string, in WebhookInput, m Meta) (IssuedWebhook, error) {
	if s.webhookSealer == nil {
		return IssuedWebhook{}, newError(CodeInternal, "webhooks are not configured")
	}
	if _, err := s.store.GetTenant(ctx, tenantID); err != nil {
		return IssuedWebhook{}, storeErr(err, "tenant")
	}
	if in.URL == nil || in.Events == nil {
		return IssuedWebhook{}, invalid("url and events are required")
	}
	existing, err := s.store.ListWebhooks(ctx, tenantID)
	if err != nil {
		return IssuedWebhook{}, err
	}
	if len(existing) >= maxWebhooksByTenant {
		return IssuedWebhook{}, invalid("a tenant has at most 50 webhook endpoints")
	}
	now := s.clock.Now()
	w := store.Webhook{TenantID: tenantID, ID: "wh_" + newRandomID(), CreatedAt: now, UpdatedAt: now}
	secret := events.GenerateSecret()
	if in.Secret != nil && *in.Secret != "" {
		secret = *in.Secret
	}
	if err := s.applyWebhook(ctx, &w, in, secret); err != nil {
		return IssuedWebhook{}, err
	}
	if err := s.store.CreateWebhook(ctx, w); err != nil {
		return IssuedWebhook{}, storeErr(err, "webhook")
	}
	s.audit(ctx, event(EventWebhookCreated, tenantID, "", m, map[string]any{"webhook_id": w.ID, "url": w.URL, "events": w.Events}))
	return IssuedWebhook{Webhook: w, Secret: secret}, nil
}

// applyWebhook validates the fields in sets and writes them into w; a
// non-empty secret is checked and sealed.
func (s *Service) applyWebhook(ctx context.Context, w *store.Webhook, in WebhookInput, secret string) error {
	if in.URL != nil {
		u := strings.TrimSpace(*in.URL)
		if len(u) > maxWebhookURLLen {
			return invalid("url is longer than 2048 characters")
		}
		if err := safeurl.Check(ctx, u, s.policy.WebhookAllowInsecure); err != nil {
			why := strings.TrimPrefix(err.Error(), safeurl.ErrRefused.Error()+": ")
			return invalid("url must be an https URL whose host is not a loopback, private or link-local address: " + why)
		}
		w.URL = u
	}
	if in.Events != nil {
		evs, err := normaliseEventTypes(*in.Events)
		if err != nil {
			return err
		}
		w.Events = evs
	}
	if secret != "" {
		if _, err := events.ParseSecret(secret); err != nil {
			return invalid("secret must be whsec_ followed by the base64 of 24 to 64 bytes")
		}
		sealed, err := s.webhookSealer.Seal([]byte(secret), events.SecretAAD(w.TenantID, w.ID))
		if err != nil {
			return err
		}
		w.SecretEnc = sealed
	}
	return nil
}

func normaliseEventTypes(in []string) ([]string, error) {
	var out []string
	for _, e := range in {
		e = strings.TrimSpace(e)
		if e != store.WebhookAllEvents && !eventTypePattern.MatchString(e) {
			return nil, invalid(`events must be event type names (snake_case) or "*"`)
		}
		if !slices.Contains(out, e) {
			out = append(out, e)
		}
	}
	if len(out) == 0 || len(out) > maxWebhookEvents {
		return nil, invalid("events must list between 1 and 100 event types")
	}
	return out, nil
}

// ListWebhooks returns the tenant's endpoints (without secrets).
func (s *Service) ListWebhooks(ctx context.Context, tenantID string) ([]store.Webhook, error) {
	return s.store.ListWebhooks(ctx, tenantID)
}

// GetWebhook returns one endpoint of the tenant.
func (s *Service) GetWebhook(ctx context.Context, tenantID, id string) (store.Webhook, error) {
	if !webhookIDPattern.MatchString(id) {
		return store.Webhook{}, errWebhookNotFound
	}
	w, err := s.store.GetWebhook(ctx, tenantID, id)
	return w, storeErr(err, "webhook")
}

// UpdateWebhook changes the fields of in that are set. The secret in the
// answer is set only when in.Secret was.
func (s *Service) UpdateWebhook(ctx context.Context, tenantID, id string, in WebhookInput, m Meta) (IssuedWebhook, error) {
	if s.webhookSealer == nil {
		return IssuedWebhook{}, newError(CodeInternal, "webhooks are not configured")
	}
	if !webhookIDPattern.MatchString(id) {
		return IssuedWebhook{}, errWebhookNotFound
	}
	secret := ""
	if in.Secret != nil {
		secret = *in.Secret
		if secret == "" {
			return IssuedWebhook{}, invalid("secret must be whsec_ followed by the base64 of 24 to 64 bytes")
		}
	}
	// The URL is checked (it may resolve names) before the store's
	// transaction, where no I/O may happen.
	var probe store.Webhook
	probe.TenantID, probe.ID = tenantID, id
	if err := s.applyWebhook(ctx, &probe, in, secret); err != nil {
		return IssuedWebhook{}, err
	}
	now := s.clock.Now()
	w, err := s.store.UpdateWebhook(ctx, tenantID, id, func(w *store.Webhook) error {
		if in.URL != nil {
			w.URL = probe.URL
		}
		if in.Events != nil {
			w.Events = probe.Events
		}
		if secret != "" {
			w.SecretEnc = probe.SecretEnc
		}
		w.UpdatedAt = now
		return nil
	})
	if err != nil {
		return IssuedWebhook{}, storeErr(err, "webhook")
	}
	details := map[string]any{"webhook_id": id, "url": w.URL, "events": w.Events}
	if secret != "" {
		details["secret_changed"] = true
	}
	s.audit(ctx, event(EventWebhookUpdated, tenantID, "", m, details))
	return IssuedWebhook{Webhook: w, Secret: secret}, nil
}

// DeleteWebhook removes an endpoint and its pending deliveries.
func (s *Service) DeleteWebhook(ctx context.Context, tenantID, id string, m Meta) error {
	if !webhookIDPattern.MatchString(id) {
		return errWebhookNotFound
	}
	if err := s.store.DeleteWebhook(ctx, tenantID, id); err != nil {
		return storeErr(err, "webhook")
	}
	s.audit(ctx, event(EventWebhookDeleted, tenantID, "", m, map[string]any{"webhook_id": id}))
	return nil
}

// TestWebhook queues a webhook_test message for the endpoint, delivered
// like any event (signed, in order after the endpoint's earlier events).
func (s *Service) TestWebhook(ctx context.Context, tenantID, id string) (store.OutboxMessage, error) {
	w, err := s.GetWebhook(ctx, tenantID, id)
	if err != nil {
		return store.OutboxMessage{}, err
	}
	now := s.clock.Now()
	ts := now.UTC().Format("2006-01-02T15:04:05.000000Z07:00")
	body, err := json.Marshal(map[string]any{"type": EventWebhookTest, "timestamp": ts,
		"data": map[string]any{"webhook_id": w.ID, "tenant_id": tenantID, "time": ts}})
	if err != nil {
		return store.OutboxMessage{}, err
	}
	msg, err := s.store.EnqueueOutbox(ctx, store.OutboxMessage{Kind: store.OutboxWebhook, TenantID: tenantID,
		Target: w.ID, EventType: EventWebhookTest, Payload: body, CreatedAt: now})
	if err != nil {
		return store.OutboxMessage{}, err
	}
	s.events.Wake()
	return msg, nil
}

// WebhookDeliveries returns the endpoint's delivery log, newest first.
func (s *Service) WebhookDeliveries(ctx context.Context, tenantID, id string, limit int) ([]store.OutboxMessage, error) {
	if _, err := s.GetWebhook(ctx, tenantID, id); err != nil {
		return nil, err
	}
	return s.store.ListOutbox(ctx, tenantID, store.OutboxWebhook, id, limit)
}
