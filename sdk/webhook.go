package sdk

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// DefaultWebhookTolerance is how far a delivery's webhook-timestamp may be
// from the receiver's clock, either way, before it is refused as a replay.
const DefaultWebhookTolerance = 5 * time.Minute

// maxWebhookSignatures bounds the signatures read from one header.
const maxWebhookSignatures = 16

// Errors of WebhookVerifier. Every error Verify returns wraps one of them.
var (
	ErrWebhookHeaders   = errors.New("sdk: webhook headers missing or malformed")
	ErrWebhookTimestamp = errors.New("sdk: webhook timestamp outside the tolerance")
	ErrWebhookSignature = errors.New("sdk: no webhook signature matches")
)

// WebhookEvent is a verified delivery of a Gatehouse webhook.
type WebhookEvent struct {
	ID        string          // webhook-id: the same on every retry of one message
	Type      string          // the audit event type, e.g. "login_succeeded"
	Timestamp time.Time       // when the event happened
	Data      json.RawMessage // the audit event: id, time, type, tenant_id, user_id, session_id, actor, ip, user_agent, details
}

// WebhookVerifier checks the Standard Webhooks signatures of deliveries:
// webhook-id, webhook-timestamp and webhook-signature ("v1,<base64>",
// several separated by spaces) over "id.timestamp.body" with HMAC-SHA256.
// Give it more than one secret while rotating an endpoint's secret.
type WebhookVerifier struct {
	keys [][]byte
	// Tolerance is the allowed distance of webhook-timestamp from Now
	// (default DefaultWebhookTolerance).
	Tolerance time.Duration
	// Now is the receiver's clock (default time.Now).
	Now func() time.Time
}

// NewWebhookVerifier returns a verifier for the endpoint secrets given, each
// in the form whsec_<base64> that Gatehouse shows when the endpoint is
// created.
func NewWebhookVerifier(secrets ...string) (*WebhookVerifier, error) {
	if len(secrets) == 0 {
		return nil, errors.New("sdk: at least one webhook secret is required")
	}
	v := &WebhookVerifier{}
	for i, s := range secrets {
		enc, ok := strings.CutPrefix(strings.TrimSpace(s), "whsec_")
		if !ok {
			return nil, fmt.Errorf("sdk: webhook secret %d does not start with whsec_", i+1)
		}
		key, err := base64.StdEncoding.DecodeString(enc)
		if err != nil || len(key) == 0 {
			return nil, fmt.Errorf("sdk: webhook secret %d is not base64", i+1)
		}
		v.keys = append(v.keys, key)
	}
	return v, nil
}

// Verify checks the signature headers of a delivery against its raw body
// and decodes the body. Verify the exact bytes received, before any JSON
// decoding; answer 2xx only after handling the event, and expect the same
// ID again (deliveries are at least once: deduplicate on ID).
func (v *WebhookVerifier) Verify(h http.Header, body []byte) (WebhookEvent, error) {
	id, tsText, sigs := h.Get("webhook-id"), h.Get("webhook-timestamp"), h.Get("webhook-signature")
	if id == "" || tsText == "" || sigs == "" {
		return WebhookEvent{}, fmt.Errorf("%w: webhook-id, webhook-timestamp and webhook-signature are required", ErrWebhookHeaders)
	}
	sec, err := strconv.ParseInt(tsText, 10, 64)
	if err != nil {
		return WebhookEvent{}, fmt.Errorf("%w: webhook-timestamp is not a number of seconds", ErrWebhookHeaders)
	}
	now := time.Now
	if v.Now != nil {
		now = v.Now
	}
	tol := v.Tolerance
	if tol <= 0 {
		tol = DefaultWebhookTolerance
	}
	at := time.Unix(sec, 0)
	if d := now().Sub(at); d > tol || d < -tol {
		return WebhookEvent{}, fmt.Errorf("%w: %s from now", ErrWebhookTimestamp, d.Round(time.Second))
	}
	if !v.matches(id, tsText, body, sigs) {
		return WebhookEvent{}, ErrWebhookSignature
	}
	var b struct {
		Type      string          `json:"type"`
		Timestamp time.Time       `json:"timestamp"`
		Data      json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(body, &b); err != nil {
		return WebhookEvent{}, fmt.Errorf("sdk: signed webhook body is not the expected JSON: %w", err)
	}
	return WebhookEvent{ID: id, Type: b.Type, Timestamp: b.Timestamp, Data: b.Data}, nil
}

// matches reports whether any v1 signature of the header is the MAC of the
// content under any key; every comparison is constant-time.
func (v *WebhookVerifier) matches(id, ts string, body []byte, header string) bool {
	content := make([]byte, 0, len(id)+len(ts)+len(body)+2)
	content = append(append(append(append(append(content, id...), '.'), ts...), '.'), body...)
	var macs [][]byte
	for _, k := range v.keys {
		m := hmac.New(sha256.New, k)
		m.Write(content)
		macs = append(macs, m.Sum(nil))
	}
	ok := false
	for i, sig := range strings.Fields(header) {
		if i >= maxWebhookSignatures {
			break
		}
		version, enc, found := strings.Cut(sig, ",")
		if !found || version != "v1" {
			continue
		}
		got, err := base64.StdEncoding.DecodeString(enc)
		if err != nil {
			continue
		}
		for _, want := range macs {
			if hmac.Equal(got, want) {
				ok = true
			}
		}
	}
	return ok
}
