// Package events delivers what Gatehouse reports to other systems: the
// outbox dispatcher, which claims durable messages from the store and
// delivers them at least once, in order per target, with retries; and the
// Standard Webhooks signing of webhook deliveries.
package events

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"time"
)

// SecretPrefix starts every webhook secret in the Standard Webhooks form.
const SecretPrefix = "whsec_"

// Bounds of a webhook signing key, in bytes.
const (
	secretBytes    = 32
	minSecretBytes = 24
	maxSecretBytes = 64
)

// Headers of a delivery (Standard Webhooks).
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
)

// ErrBadSecret is returned by ParseSecret.
var ErrBadSecret = errors.New("a webhook secret is whsec_ followed by the base64 of 24 to 64 bytes")

// GenerateSecret returns a new random secret as whsec_<base64>.
func GenerateSecret() string {
	b := make([]byte, secretBytes)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return SecretPrefix + base64.StdEncoding.EncodeToString(b)
}

// ParseSecret returns the key of a whsec_<base64> secret.
func ParseSecret(s string) ([]byte, error) {
	enc, ok := strings.CutPrefix(s, SecretPrefix)
	if !ok {
		return nil, ErrBadSecret
	}
	key, err := base64.StdEncoding.DecodeString(enc)
	if err != nil || len(key) < minSecretBytes || len(key) > maxSecretBytes {
		return nil, ErrBadSecret
	}
	return key, nil
}

// SecretAAD binds a sealed secret to its endpoint, so that a sealed value
// copied to another endpoint's row does not open.
func SecretAAD(tenantID, webhookID string) []byte {
	return []byte("webhook-secret\x00" + tenantID + "\x00" + webhookID)
}

// Sign returns the webhook-signature value for a delivery: "v1," and the
// base64 HMAC-SHA256 of "id.timestamp.body" under key.
func Sign(key []byte, id string, at time.Time, body []byte) string {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id))
	mac.Write([]byte{'.'})
	mac.Write([]byte(strconv.FormatInt(at.Unix(), 10)))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
}
