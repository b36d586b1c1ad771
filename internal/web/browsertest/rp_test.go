package browsertest

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/gatehouse-auth/gatehouse/internal/server/servertest"
)

const alicePassword = "correct horse battery"

// rp is a relying party: a confidential client of Gatehouse whose
// callback page is a real HTTP server the browser lands on.
type rp struct {
	t        *testing.T
	env      *servertest.Env
	srv      *httptest.Server
	provider *oidc.Provider
	conf     oauth2.Config
	mu       sync.Mutex
	hits     []string // request URIs the callback server saw
}

// newServer starts Gatehouse at its own issuer URL with user alice.
func newServer(t *testing.T, env map[string]string) (*servertest.Env, string) {
	t.Helper()
	e := servertest.NewAtIssuer(t, servertest.Options{RealClock: true, Env: env})
	id := e.CreateUser("", map[string]any{"username": "alice", "password": alicePassword, "email": "alice@example.com", "display_name": "Alice"})
	return e, id
}

// newRP registers a client named name and discovers Gatehouse with go-oidc.
func newRP(t *testing.T, env *servertest.Env, name string) *rp {
	t.Helper()
	r := &rp{t: t, env: env}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		r.hits = append(r.hits, req.URL.RequestURI())
		r.mu.Unlock()
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(`<!doctype html><title>RP</title><p id="rp-done">` + req.URL.Path + `</p>`))
	}))
	t.Cleanup(r.srv.Close)
	c := env.CreateOAuthClient("", map[string]any{"name": name, "redirect_uris": []string{r.srv.URL + "/cb"},
		"post_logout_redirect_uris": []string{r.srv.URL + "/bye"}})
	p, err := oidc.NewProvider(context.Background(), env.URL)
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	r.provider = p
	r.conf = oauth2.Config{ClientID: c.ID, ClientSecret: c.Secret, Endpoint: p.Endpoint(), RedirectURL: r.srv.URL + "/cb",
		Scopes: []string{oidc.ScopeOpenID, "profile", "email"}}
	return r
}

// login is one authorization: its PKCE verifier, state and nonce.
type login struct {
	verifier, state, nonce string
	url                    string
}

func (r *rp) start(extra ...oauth2.AuthCodeOption) login {
	l := login{verifier: oauth2.GenerateVerifier(), state: oauth2.GenerateVerifier()[:16], nonce: oauth2.GenerateVerifier()[:20]}
	opts := append([]oauth2.AuthCodeOption{oauth2.S256ChallengeOption(l.verifier), oidc.Nonce(l.nonce)}, extra...)
	l.url = r.conf.AuthCodeURL(l.state, opts...)
	return l
}

// landed waits for the browser to reach the RP's page and returns the
// query of the URL it landed on.
func (r *rp) landed(ctx context.Context) url.Values {
	r.t.Helper()
	run(r.t, ctx, "reach the relying party's page", chromedp.WaitVisible(chromedp.CSS("#rp-done")))
	loc := value(r.t, ctx, "location", chromedp.Location())
	u, err := url.Parse(loc)
	if err != nil || !strings.HasPrefix(loc, r.srv.URL) {
		r.t.Fatalf("landed at %q", loc)
	}
	return u.Query()
}

// finish checks the callback and runs the exchange and the ID-token
// verification as a relying party would.
func (r *rp) finish(l login, q url.Values) (*oauth2.Token, *oidc.IDToken) {
	r.t.Helper()
	ctx := context.Background()
	if q.Get("state") != l.state || q.Get("iss") != r.env.URL || q.Get("code") == "" {
		r.t.Fatalf("callback %v (state %s)", q, l.state)
	}
	tok, err := r.conf.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(l.verifier))
	if err != nil {
		r.t.Fatalf("exchange: %v", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := r.provider.Verifier(&oidc.Config{ClientID: r.conf.ClientID}).Verify(ctx, raw)
	if err != nil {
		r.t.Fatalf("verify ID token: %v", err)
	}
	if idt.Nonce != l.nonce {
		r.t.Fatalf("nonce %q, want %q", idt.Nonce, l.nonce)
	}
	if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
		r.t.Fatalf("at_hash: %v", err)
	}
	return tok, idt
}

func (r *rp) callbackHits() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.hits...)
}
