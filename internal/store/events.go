package store

import (
	"context"
	"encoding/json"
	"time"
)

// Outbox kinds: what a message is and who delivers it.
const (
	// OutboxWebhook is an event for a webhook endpoint; Target is the
	// endpoint's id and Payload the JSON body to sign and post.
	OutboxWebhook = "webhook"
)

// Outbox message statuses.
const (
	OutboxPending   = "pending"
	OutboxDelivered = "delivered"
	OutboxFailed    = "failed" // given up: retries ran out or the target is gone
)

// OutboxRetention is how long Sweep keeps delivered and failed messages
// (the delivery log); pending ones are kept until they are finished.
const OutboxRetention = 30 * 24 * time.Hour

// WebhookAllEvents in Webhook.Events subscribes the endpoint to every event type.
const WebhookAllEvents = "*"

// Webhook is an endpoint of a tenant that receives audit events.
type Webhook struct {
	TenantID  string
	ID        string
	URL       string
	Events    []string // event types, or WebhookAllEvents
	SecretEnc []byte   // the signing key, sealed with the master key
	CreatedAt time.Time
	UpdatedAt time.Time
}

// OutboxMessage is one durable delivery: written in the transaction of the
// change it reports, then delivered at least once by a dispatcher.
type OutboxMessage struct {
	Seq           int64 // assigned by the store, increasing
	ID            string
	Kind          string
	TenantID      string
	Target        string // for OutboxWebhook the endpoint id
	EventType     string
	Payload       []byte
	Status        string
	Attempts      int
	CreatedAt     time.Time
	NextAttemptAt time.Time
	DeliveredAt   time.Time // when delivered or given up; zero while pending
	LastStatus    int       // HTTP status of the last attempt; 0 for none or a transport error
	LastError     string
}

// OutboxResult is the outcome of one delivery attempt.
type OutboxResult struct {
	Status     string    // OutboxDelivered, OutboxFailed, or OutboxPending to retry
	At         time.Time // when the attempt ended
	RetryAt    time.Time // when Status is OutboxPending
	HTTPStatus int
	Error      string
}

// EventStore keeps webhook endpoints and the outbox.
//
// AppendAudit (and every other method that writes an audit event, such as a
// reuse detected by RotateRefreshToken) also writes, in the same
// transaction, one OutboxWebhook message per endpoint of the event's tenant
// subscribed to its type, so an event is never lost between its record and
// its delivery.
type EventStore interface {
	// CreateWebhook inserts an endpoint; ErrConflict when the id is taken.
	CreateWebhook(ctx context.Context, w Webhook) error
	GetWebhook(ctx context.Context, tenantID, id string) (Webhook, error)
	// ListWebhooks returns the tenant's endpoints ordered by creation.
	ListWebhooks(ctx context.Context, tenantID string) ([]Webhook, error)
	// UpdateWebhook reads the endpoint, applies fn and writes the result in
	// one transaction (see UpdateUser).
	UpdateWebhook(ctx context.Context, tenantID, id string, fn func(*Webhook) error) (Webhook, error)
	// DeleteWebhook removes the endpoint and its outbox messages.
	DeleteWebhook(ctx context.Context, tenantID, id string) error

	// EnqueueOutbox inserts m (a test event, or a message of another kind)
	// as pending and due at once; the store fills in Seq, an empty ID,
	// Status and NextAttemptAt = CreatedAt.
	EnqueueOutbox(ctx context.Context, m OutboxMessage) (OutboxMessage, error)
	// ClaimOutbox leases up to limit pending messages due at now, each the
	// oldest pending message of its (kind, target), so that a target gets
	// its messages in order: a leased message is due again only at
	// now+lease, and the next message of its target waits until it is
	// delivered or failed. Several processes may claim at once; each message
	// is leased to one of them. Attempts counts the claim.
	ClaimOutbox(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]OutboxMessage, error)
	// CompleteOutbox records the outcome of an attempt on a pending message.
	CompleteOutbox(ctx context.Context, seq int64, r OutboxResult) error
	// ListOutbox returns the tenant's messages of kind for target, newest
	// first, at most limit (default 100, max 1000).
	ListOutbox(ctx context.Context, tenantID, kind, target string, limit int) ([]OutboxMessage, error)
}

// WebhookBody is the JSON body delivered for an audit event (CONTRACT §16):
// {type, timestamp, data}, data the event as GET /admin/audit shows it. Both
// stores build it when they write the event, so that the outbox holds what
// will be signed and a later change of the event's shape cannot alter a
// message already queued.
func WebhookBody(e AuditEvent) ([]byte, error) {
	ts := e.Time.UTC().Format("2006-01-02T15:04:05.000000Z07:00")
	details := e.Details
	if details == nil {
		details = map[string]any{}
	}
	return json.Marshal(webhookBody{Type: e.Type, Timestamp: ts, Data: auditView{
		ID: e.ID, Time: ts, Type: e.Type, TenantID: e.TenantID, UserID: e.UserID,
		SessionID: e.SessionID, Actor: e.Actor, IP: e.IP, UserAgent: e.UserAgent, Details: details,
	}})
}

type webhookBody struct {
	Type      string    `json:"type"`
	Timestamp string    `json:"timestamp"`
	Data      auditView `json:"data"`
}

// auditView is the admin API's shape of an audit event.
type auditView struct {
	ID        string         `json:"id"`
	Time      string         `json:"time"`
	Type      string         `json:"type"`
	TenantID  string         `json:"tenant_id"`
	UserID    string         `json:"user_id"`
	SessionID string         `json:"session_id"`
	Actor     string         `json:"actor"`
	IP        string         `json:"ip"`
	UserAgent string         `json:"user_agent"`
	Details   map[string]any `json:"details"`
}
