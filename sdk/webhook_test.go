package sdk

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"testing"
	"time"
)

// sign computes a Standard Webhooks signature independently of the verifier.
func sign(t *testing.T, secret, id string, at time.Time, body string) string {
	t.Helper()
	key, err := base64.StdEncoding.DecodeString(secret[len("whsec_"):])
	if err != nil {
		t.Fatal(err)
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id + "." + strconv.FormatInt(at.Unix(), 10) + "." + body))
	return "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil))
}

func TestWebhookVerifier(t *testing.T) {
	const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	const other = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD"
	now := time.Unix(1_900_000_000, 0)
	body := `{"type":"login_succeeded","timestamp":"2030-03-17T17:46:40.000000Z","data":{"user_id":"42"}}`
	headers := func(id, ts, sig string) http.Header {
		h := http.Header{}
		h.Set("webhook-id", id)
		h.Set("webhook-timestamp", ts)
		h.Set("webhook-signature", sig)
		return h
	}
	good := sign(t, secret, "msg_1", now, body)
	ts := strconv.FormatInt(now.Unix(), 10)
	cases := []struct {
		name    string
		secrets []string
		h       http.Header
		body    string
		want    error
	}{
		{"valid", []string{secret}, headers("msg_1", ts, good), body, nil},
		{"one of several signatures", []string{secret}, headers("msg_1", ts, "v1,AAAA "+sign(t, other, "msg_1", now, body)+" "+good), body, nil},
		{"second secret while rotating", []string{other, secret}, headers("msg_1", ts, good), body, nil},
		{"other secret", []string{other}, headers("msg_1", ts, good), body, ErrWebhookSignature},
		{"body altered", []string{secret}, headers("msg_1", ts, good), body + " ", ErrWebhookSignature},
		{"id altered", []string{secret}, headers("msg_2", ts, good), body, ErrWebhookSignature},
		{"unknown version", []string{secret}, headers("msg_1", ts, "v2"+good[2:]), body, ErrWebhookSignature},
		{"too old", []string{secret}, headers("msg_1", strconv.FormatInt(now.Add(-6*time.Minute).Unix(), 10),
			sign(t, secret, "msg_1", now.Add(-6*time.Minute), body)), body, ErrWebhookTimestamp},
		{"from the future", []string{secret}, headers("msg_1", strconv.FormatInt(now.Add(6*time.Minute).Unix(), 10),
			sign(t, secret, "msg_1", now.Add(6*time.Minute), body)), body, ErrWebhookTimestamp},
		{"timestamp not a number", []string{secret}, headers("msg_1", "soon", good), body, ErrWebhookHeaders},
		{"no signature", []string{secret}, headers("msg_1", ts, ""), body, ErrWebhookHeaders},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v, err := NewWebhookVerifier(c.secrets...)
			if err != nil {
				t.Fatal(err)
			}
			v.Now = func() time.Time { return now }
			ev, err := v.Verify(c.h, []byte(c.body))
			if !errors.Is(err, c.want) || (c.want == nil && err != nil) {
				t.Fatalf("Verify = %v, want %v", err, c.want)
			}
			if c.want == nil && (ev.ID != "msg_1" || ev.Type != "login_succeeded" || string(ev.Data) != `{"user_id":"42"}`) {
				t.Fatalf("event = %+v", ev)
			}
		})
	}
}

func TestNewWebhookVerifier_RefusesBadSecrets(t *testing.T) {
	for _, s := range []string{"", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_not base64!"} {
		if _, err := NewWebhookVerifier(s); err == nil {
			t.Errorf("NewWebhookVerifier(%q) accepted", s)
		}
	}
	if _, err := NewWebhookVerifier(); err == nil {
		t.Error("NewWebhookVerifier() without secrets accepted")
	}
}
