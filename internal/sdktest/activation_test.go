package sdktest

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/server/servertest"
	"github.com/gatehouse-auth/gatehouse/internal/store/postgres/pgtest"
	"github.com/gatehouse-auth/gatehouse/sdk"
)

// countingTransport counts the requests for the key set.
type countingTransport struct {
	next http.RoundTripper
	jwks atomic.Int32
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if strings.HasSuffix(r.URL.Path, "/jwks.json") {
		c.jwks.Add(1)
	}
	return c.next.RoundTrip(r)
}

// publishedKIDs returns the kids of env's JWKS.
func publishedKIDs(t *testing.T, env *servertest.Env) []string {
	t.Helper()
	r := env.Do(servertest.Request{Method: "GET", Path: "/.well-known/jwks.json"})
	var doc struct {
		Keys []struct {
			KID string `json:"kid"`
		} `json:"keys"`
	}
	r.Decode(t, &doc)
	var kids []string
	for _, k := range doc.Keys {
		kids = append(kids, k.KID)
	}
	return kids
}

// TestLive_ActivationDelayPublishesBeforeSigning: with
// GATEHOUSE_KEY_ACTIVATION_DELAY, a rotated key is in the JWKS at once,
// POST /admin/keys/rotate says when it signs, tokens keep the previous key
// until then, and a verifier that fetched the key set meanwhile verifies
// the first tokens of the new key without fetching again.
func TestLive_ActivationDelayPublishesBeforeSigning(t *testing.T) {
	const delay = 30 * time.Second
	l := newLive(t, map[string]string{"GATEHOUSE_KEY_ACTIVATION_DELAY": delay.String()})
	counter := &countingTransport{next: l.env.HTTP.Client().Transport}
	v, err := sdk.NewVerifier(context.Background(), sdk.Config{Issuer: l.env.URL,
		HTTPClient: &http.Client{Transport: counter}, Now: l.env.Clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	before := l.env.Login("", "alice", password)
	oldKID := headerOf(t, before.AccessToken)["kid"]
	rotatedAt := l.env.Clock.Now()
	r := l.env.Admin("POST", "/admin/keys/rotate", "", nil)
	if r.Status != http.StatusOK {
		t.Fatalf("rotate: %d %s", r.Status, r.Body)
	}
	body := r.JSON(t)
	kid, _ := body["kid"].(string)
	activeFrom, err := time.Parse(time.RFC3339Nano, body["active_from"].(string))
	if err != nil || !activeFrom.Equal(rotatedAt.Add(delay)) {
		t.Fatalf("active_from %v (%v), want %v", body["active_from"], err, rotatedAt.Add(delay))
	}
	if kids := publishedKIDs(t, l.env); !slices.Contains(kids, kid) {
		t.Fatalf("JWKS right after the rotation %v lacks %s", kids, kid)
	}
	during := l.env.Login("", "alice", password)
	if got := headerOf(t, during.AccessToken)["kid"]; got != oldKID {
		t.Fatalf("during the delay tokens are signed by %v, want the previous key %v", got, oldKID)
	}
	if _, err := v.Verify(ctx, during.AccessToken); err != nil { // the first fetch: it holds both keys
		t.Fatal(err)
	}
	l.env.Clock.Advance(delay)
	after := l.env.Login("", "alice", password)
	if got := headerOf(t, after.AccessToken)["kid"]; got != kid {
		t.Fatalf("after the delay tokens are signed by %v, want %s", got, kid)
	}
	for _, tok := range []string{before.AccessToken, during.AccessToken, after.AccessToken} {
		if _, err := v.Verify(ctx, tok); err != nil {
			t.Errorf("verify: %v", err)
		}
	}
	if got := counter.jwks.Load(); got != 1 {
		t.Errorf("key set fetched %d times, want once: the new key was known before it signed", got)
	}
	if !strings.Contains(l.env.Logs.String(), "signing key activated") {
		t.Error("the activation was not logged")
	}
}

// TestLive_ActivationDelayAcrossProcessesOnPostgres: two Gatehouse
// processes on one PostgreSQL database. A key rotated on one is published
// by the other once it reloads, before it signs; at the activation both
// sign with it, and each one's tokens verify against the other's JWKS.
func TestLive_ActivationDelayAcrossProcessesOnPostgres(t *testing.T) {
	const delay = time.Minute
	env := map[string]string{
		"GATEHOUSE_DB":                   pgtest.NewDatabase(t),
		"GATEHOUSE_KEY_ACTIVATION_DELAY": delay.String(),
		"GATEHOUSE_KEY_RELOAD_INTERVAL":  "20ms",
	}
	a := servertest.New(t, servertest.Options{Env: env})
	a.CreateUser("", map[string]any{"username": "alice", "password": password})
	b := servertest.New(t, servertest.Options{Env: env})
	b.Clock.Advance(a.Clock.Now().Sub(b.Clock.Now())) // one time for both processes

	oldKID := headerOf(t, b.Login("", "alice", password).AccessToken)["kid"]
	r := a.Admin("POST", "/admin/keys/rotate", "", nil)
	if r.Status != http.StatusOK {
		t.Fatalf("rotate: %d %s", r.Status, r.Body)
	}
	kid, _ := r.JSON(t)["kid"].(string)
	deadline := time.Now().Add(5 * time.Second)
	for !slices.Contains(publishedKIDs(t, b), kid) {
		if time.Now().After(deadline) {
			t.Fatalf("the other process never published %s: %v", kid, publishedKIDs(t, b))
		}
		time.Sleep(10 * time.Millisecond)
	}
	if got := headerOf(t, b.Login("", "alice", password).AccessToken)["kid"]; got != oldKID {
		t.Fatalf("the other process signs with %v during the delay, want %v", got, oldKID)
	}
	a.Clock.Advance(delay)
	b.Clock.Advance(delay)
	for name, e := range map[string]*servertest.Env{"rotating": a, "other": b} {
		tok := e.Login("", "alice", password).AccessToken
		if got := headerOf(t, tok)["kid"]; got != kid {
			t.Errorf("%s process signs with %v after the activation, want %s", name, got, kid)
		}
		for vname, jwksOf := range map[string]*servertest.Env{"rotating": a, "other": b} {
			v, err := sdk.NewVerifier(context.Background(), sdk.Config{Issuer: "http://gatehouse.test",
				JWKSURL: jwksOf.URL + "/.well-known/jwks.json", HTTPClient: jwksOf.HTTP.Client(), Now: a.Clock.Now})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := v.Verify(context.Background(), tok); err != nil {
				t.Errorf("token of the %s process against the %s one's JWKS: %v", name, vname, err)
			}
		}
	}
}
