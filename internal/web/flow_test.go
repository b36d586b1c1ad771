package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/server/servertest"
)

func TestAuthorize_SignInConsentCodeExchange(t *testing.T) {
	f := newFixture(t, servertest.Options{})
	a := f.agent(t)
	p := a.authorize(authParams(f.client))
	if p.Status != http.StatusOK || !strings.Contains(p.Body, `name="username"`) {
		t.Fatalf("sign-in page: %d %s", p.Status, p.Body)
	}
	q := a.signInAndAllow("alice", alicePassword)
	if q.Get("state") != "st-123" || q.Get("iss") != f.env.Server.Config.Issuer || q.Get("code") == "" {
		t.Fatalf("callback %v", q)
	}
	r := f.exchange(f.client, q.Get("code"), rpCallback, verifier)
	if r.Status != http.StatusOK {
		t.Fatalf("exchange: %d %s", r.Status, r.Body)
	}
	m := r.JSON(t)
	if m["id_token"] == nil || m["access_token"] == nil {
		t.Fatalf("token answer %s", r.Body)
	}
	_ = url.Values{}
}
