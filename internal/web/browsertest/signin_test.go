package browsertest

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/pquerna/otp/totp"
	"golang.org/x/oauth2"

	"github.com/gatehouse-auth/gatehouse/internal/server/servertest"
)

// enrollTOTP gives alice a TOTP factor (codes from the real clock) and
// returns her recovery codes.
func enrollTOTP(t *testing.T, env *servertest.Env) []string {
	t.Helper()
	at := env.Login("", "alice", alicePassword).AccessToken
	r := env.Do(servertest.Request{Method: "POST", Path: "/auth/mfa/totp/enroll", JSON: map[string]any{}, Bearer: at})
	secret, _ := r.JSON(t)["secret"].(string)
	code, err := totp.GenerateCode(secret, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	r = env.Do(servertest.Request{Method: "POST", Path: "/auth/mfa/totp/confirm", JSON: map[string]any{"code": code}, Bearer: at})
	if r.Status != http.StatusOK {
		t.Fatalf("confirm: %d %s", r.Status, r.Body)
	}
	var out struct {
		RecoveryCodes []string `json:"recovery_codes"`
	}
	r.Decode(t, &out)
	return out.RecoveryCodes
}

// signIn fills the sign-in page and submits it.
func signIn(username, password string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(
		chromedp.WaitVisible(chromedp.CSS("#password")),
		chromedp.SendKeys(chromedp.CSS("#username"), username),
		chromedp.SendKeys(chromedp.CSS("#password"), password),
		// Mark this page, so that what follows waits for the next one.
		chromedp.SetAttributeValue(chromedp.CSS("main"), "data-stale", "1"),
		chromedp.Click(chromedp.CSS("button[type=submit]")),
		chromedp.WaitReady(chromedp.CSS("main:not([data-stale])")),
	)
}

// run runs steps in the tab and fails the test, with the page, on error.
func run(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("%s: %v\npage: %s", what, err, pageHTML(ctx))
	}
}

// value runs one action that reads something.
func value[T any](t *testing.T, ctx context.Context, what string, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatalf("%s: %v\npage: %s", what, err, pageHTML(ctx))
	}
	return v
}

// text waits for the element and returns its text.
func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	return value(t, ctx, "text of "+sel, chromedp.Text(chromedp.CSS(sel), chromedp.NodeVisible))
}

func pageHTML(ctx context.Context) string {
	short, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	h, _ := chromedp.Run(short, chromedp.OuterHTML(chromedp.CSS("html")))
	return h
}

// A person's path: authorize, sign-in page, second factor, consent,
// redirect with the code, exchange with PKCE by x/oauth2, ID token checked
// by go-oidc with the nonce, userinfo; then single sign-on for a second
// client, prompt=none, prompt=login and max_age.
func TestBrowser_PersonSignsInThenSingleSignOn(t *testing.T) {
	env, userID := newServer(t, nil)
	recovery := enrollTOTP(t, env)
	shop := newRP(t, env, "Shop")
	ctx := tab(t)

	l := shop.start()
	run(t, ctx, "sign-in page", chromedp.Navigate(l.url), chromedp.WaitVisible(chromedp.CSS("#username")))
	title := text(t, ctx, "h1")
	if title != "Sign in" {
		t.Errorf("title %q", title)
	}
	run(t, ctx, "password", signIn("alice", alicePassword), chromedp.WaitVisible(chromedp.CSS("#code")))
	run(t, ctx, "second factor", chromedp.SendKeys(chromedp.CSS("#code"), recovery[0]),
		chromedp.Click(chromedp.CSS("button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("button[value=allow]")))
	client := text(t, ctx, "#client-name")
	if client != "Shop" {
		t.Errorf("consent names %q", client)
	}
	run(t, ctx, "consent", chromedp.Click(chromedp.CSS("button[value=allow]")))
	tok, idt := shop.finish(l, shop.landed(ctx))
	if idt.Subject != userID || idt.Issuer != env.URL {
		t.Errorf("ID token sub %s iss %s", idt.Subject, idt.Issuer)
	}
	var claims struct {
		SID string   `json:"sid"`
		AMR []string `json:"amr"`
	}
	if err := idt.Claims(&claims); err != nil || claims.SID == "" || len(claims.AMR) != 2 {
		t.Errorf("claims %+v %v", claims, err)
	}
	info, err := shop.provider.UserInfo(context.Background(), oauth2.StaticTokenSource(tok))
	if err != nil || info.Subject != userID || info.Email != "alice@example.com" {
		t.Fatalf("userinfo %+v %v", info, err)
	}

	// Single sign-on: a second client skips the sign-in page (it asks
	// consent of its own), and its ID token names the same browser session.
	blog := newRP(t, env, "Blog")
	l2 := blog.start()
	run(t, ctx, "second client", chromedp.Navigate(l2.url), chromedp.WaitVisible(chromedp.CSS("button[value=allow]")))
	client = text(t, ctx, "#client-name")
	run(t, ctx, "allow", chromedp.Click(chromedp.CSS("button[value=allow]")))
	if client != "Blog" {
		t.Errorf("consent names %q", client)
	}
	_, idt2 := blog.finish(l2, blog.landed(ctx))
	var claims2 struct {
		SID string `json:"sid"`
	}
	_ = idt2.Claims(&claims2)
	if claims2.SID != claims.SID {
		t.Errorf("second client's sid %q, want the browser session %q", claims2.SID, claims.SID)
	}

	// prompt=none: straight back with a code.
	l3 := shop.start(oauth2.SetAuthURLParam("prompt", "none"))
	run(t, ctx, "prompt=none", chromedp.Navigate(l3.url))
	shop.finish(l3, shop.landed(ctx))

	// prompt=login: the sign-in page (and the second factor) again.
	l4 := shop.start(oauth2.SetAuthURLParam("prompt", "login"))
	run(t, ctx, "prompt=login", chromedp.Navigate(l4.url), signIn("alice", alicePassword),
		chromedp.WaitVisible(chromedp.CSS("#code")), chromedp.SendKeys(chromedp.CSS("#code"), recovery[1]),
		chromedp.Click(chromedp.CSS("button[type=submit]")))
	_, idt4 := shop.finish(l4, shop.landed(ctx))
	if !idt4.IssuedAt.After(idt.IssuedAt.Add(-time.Second)) {
		t.Errorf("prompt=login ID token issued %v", idt4.IssuedAt)
	}

	// max_age=0: the sign-in is always too old.
	l5 := shop.start(oauth2.SetAuthURLParam("max_age", "0"))
	run(t, ctx, "max_age=0", chromedp.Navigate(l5.url), chromedp.WaitVisible(chromedp.CSS("#password")))
}

// A code works once: a wrong verifier is refused, and a replay is refused
// and revokes the tokens of the first exchange.
func TestBrowser_CodeReplayAndWrongVerifier(t *testing.T) {
	env, _ := newServer(t, nil)
	shop := newRP(t, env, "Shop")
	ctx := tab(t)
	l := shop.start()
	run(t, ctx, "sign in", chromedp.Navigate(l.url), signIn("alice", alicePassword),
		chromedp.WaitVisible(chromedp.CSS("button[value=allow]")), chromedp.Click(chromedp.CSS("button[value=allow]")))
	q := shop.landed(ctx)
	bg := context.Background()
	if _, err := shop.conf.Exchange(bg, q.Get("code"), oauth2.VerifierOption(oauth2.GenerateVerifier())); err == nil ||
		!strings.Contains(err.Error(), "invalid_grant") {
		t.Fatalf("wrong verifier: %v", err)
	}
	tok, _ := shop.finish(l, q)
	if _, err := shop.conf.Exchange(bg, q.Get("code"), oauth2.VerifierOption(l.verifier)); err == nil ||
		!strings.Contains(err.Error(), "invalid_grant") {
		t.Fatalf("replayed code: %v", err)
	}
	if _, err := shop.provider.UserInfo(bg, oauth2.StaticTokenSource(tok)); err == nil {
		t.Error("the tokens of a replayed code still work")
	}
}

// A redirect_uri that is not registered is shown as an error, and the
// browser never goes there.
func TestBrowser_WrongRedirectURINeverFollowed(t *testing.T) {
	env, _ := newServer(t, nil)
	shop := newRP(t, env, "Shop")
	ctx := tab(t)
	conf := shop.conf
	conf.RedirectURL = shop.srv.URL + "/evil"
	u := conf.AuthCodeURL("st", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()))
	run(t, ctx, "authorize", chromedp.Navigate(u))
	msg := text(t, ctx, "#message")
	loc := value(t, ctx, "location", chromedp.Location())
	if !strings.Contains(msg, "redirect_uri") || !strings.HasPrefix(loc, env.URL) {
		t.Errorf("message %q at %q", msg, loc)
	}
	if hits := shop.callbackHits(); len(hits) != 0 {
		t.Errorf("the relying party was reached: %v", hits)
	}
}

// A form whose CSRF token was tampered with is refused (403), and a
// lockout is shown on the sign-in page.
func TestBrowser_CSRFRefusedAndLockoutShown(t *testing.T) {
	env, _ := newServer(t, map[string]string{"GATEHOUSE_LOGIN_MAX_FAILURES": "3"})
	shop := newRP(t, env, "Shop")
	ctx := tab(t)
	run(t, ctx, "forged token", chromedp.Navigate(shop.start().url), chromedp.WaitVisible(chromedp.CSS("#username")),
		chromedp.SetAttributeValue(chromedp.CSS("input[name=csrf]"), "value", "forged"),
		signIn("alice", alicePassword))
	msg := text(t, ctx, "#message")
	if !strings.Contains(msg, "did not come from this site") {
		t.Errorf("forged CSRF token: %q", msg)
	}
	run(t, ctx, "fresh request", chromedp.Navigate(shop.start().url))
	for range 3 {
		run(t, ctx, "wrong password", signIn("alice", "wrong password"))
		msg = text(t, ctx, "#message")
		if !strings.Contains(msg, "incorrect") {
			t.Fatalf("wrong password message %q", msg)
		}
	}
	run(t, ctx, "locked", signIn("alice", alicePassword))
	msg = text(t, ctx, "#message")
	if !strings.Contains(msg, "Too many failed attempts") {
		t.Errorf("lockout message %q", msg)
	}
	if hits := shop.callbackHits(); len(hits) != 0 {
		t.Errorf("a refused sign-in reached the relying party: %v", hits)
	}
}

// RP-initiated logout ends the browser session: back to the registered
// post-logout URI with the state, and prompt=none then needs a sign-in.
func TestBrowser_Logout(t *testing.T) {
	env, _ := newServer(t, nil)
	shop := newRP(t, env, "Shop")
	ctx := tab(t)
	l := shop.start()
	run(t, ctx, "sign in", chromedp.Navigate(l.url), signIn("alice", alicePassword),
		chromedp.WaitVisible(chromedp.CSS("button[value=allow]")), chromedp.Click(chromedp.CSS("button[value=allow]")))
	tok, _ := shop.finish(l, shop.landed(ctx))
	var endSession struct {
		URL string `json:"end_session_endpoint"`
	}
	if err := shop.provider.Claims(&endSession); err != nil || endSession.URL == "" {
		t.Fatalf("end_session_endpoint: %v", err)
	}
	logout := endSession.URL + "?id_token_hint=" + tok.Extra("id_token").(string) +
		"&post_logout_redirect_uri=" + shop.srv.URL + "/bye&state=bye-state"
	run(t, ctx, "logout", chromedp.Navigate(logout))
	if q := shop.landed(ctx); q.Get("state") != "bye-state" {
		t.Errorf("after logout: %v", q)
	}
	run(t, ctx, "prompt=none after logout", chromedp.Navigate(shop.start(oauth2.SetAuthURLParam("prompt", "none")).url))
	if q := shop.landed(ctx); q.Get("error") != "login_required" {
		t.Errorf("prompt=none after logout: %v", q)
	}
}
