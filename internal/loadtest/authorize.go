package loadtest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
)

// Kinds of an authorize run: the two requests of a signed-in browser's
// sign-in to an application.
const (
	KindAuthorize = "authorize" // GET /oauth2/authorize with the browser session cookie → 303 with a code
	KindExchange  = "exchange"  // POST /oauth2/token grant_type=authorization_code with PKCE
)

// authorizeRedirect is the client's redirect URI: a loopback URI without a
// port, never fetched (the run reads the code from the Location header).
const authorizeRedirect = "http://127.0.0.1/cb"

// browserState is one signed-in browser of an authorize run.
type browserState struct {
	acct     account
	cookies  map[string]string
	verifier string
	code     string // the code of the last authorize, to exchange next
	buf      bytes.Buffer
}

func (b *browserState) cookieHeader() string {
	var parts []string
	for k, v := range b.cookies {
		parts = append(parts, k+"="+v)
	}
	return strings.Join(parts, "; ")
}

// prepareAuthorize registers a client for the code flow and signs each
// browser in once through the hosted pages (sign-in and consent); its phase
// alternates, per browser, the authorization request of a signed-in
// browser (single sign-on: no page) and the exchange of its code.
func (r *run) prepareAuthorize(ctx context.Context) (*phase, error) {
	users, err := r.fx.createUsers(ctx, min(r.cfg.Concurrency, maxChainUsers))
	if err != nil {
		return nil, err
	}
	ac, err := r.fx.createBrowserClient(ctx)
	if err != nil {
		return nil, err
	}
	r.cfg.Progress("signing in %d browsers", r.cfg.Concurrency)
	workers := newWorkers(r.cfg.Concurrency, func(i int) any {
		return &browserState{acct: users[i%len(users)], cookies: map[string]string{}}
	})
	err = parallel(ctx, len(workers), 8, func(ctx context.Context, i int) error {
		b := workers[i].state.(*browserState)
		v, err := randomHex(32)
		if err != nil {
			return err
		}
		b.verifier = v
		return r.c.browserSignIn(ctx, ac, b)
	})
	if err != nil {
		return nil, fmt.Errorf("sign in the browsers: %w", err)
	}
	p := &phase{cfg: r.cfg, kinds: []string{KindAuthorize, KindExchange}, workers: workers}
	p.do = func(ctx context.Context, w *worker) sample {
		b := w.state.(*browserState)
		if b.code == "" {
			code, status, err := r.c.authorizeCode(ctx, ac, b)
			if err != nil {
				return sample{kind: 0, errKey: statusKey(status, err)}
			}
			b.code = code
			return sample{kind: 0}
		}
		code := b.code
		b.code = ""
		status, err := r.c.exchangeCode(ctx, ac, b, code)
		if err != nil {
			return sample{kind: 1, errKey: statusKey(status, err)}
		}
		return sample{kind: 1}
	}
	return p, nil
}

// createBrowserClient registers a confidential client for the code flow.
func (f *fixtures) createBrowserClient(ctx context.Context) (appClient, error) {
	var created struct {
		ClientID     string `json:"client_id"`
		ClientSecret string `json:"client_secret"`
	}
	if err := f.c.admin(ctx, "POST", "/admin/clients", map[string]any{"name": f.prefix + "-browser",
		"redirect_uris": []string{authorizeRedirect}}, &created, http.StatusCreated); err != nil {
		return appClient{}, fmt.Errorf("create client: %w", err)
	}
	ac := appClient{id: created.ClientID, secret: created.ClientSecret}
	f.mu.Lock()
	f.clients = append(f.clients, ac)
	f.mu.Unlock()
	return ac, nil
}

func challengeOf(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

func (c *client) authorizePath(ac appClient, b *browserState) string {
	return "/oauth2/authorize?" + url.Values{"client_id": {ac.id}, "redirect_uri": {authorizeRedirect},
		"response_type": {"code"}, "scope": {"openid"}, "state": {"loadtest"},
		"code_challenge": {challengeOf(b.verifier)}, "code_challenge_method": {"S256"}}.Encode()
}

// browse sends one request as browser b: its cookies, no redirects
// followed; it keeps the cookies the answer sets and returns the status
// and the Location.
func (c *client) browse(ctx context.Context, b *browserState, method, path string, form url.Values) (int, string, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	hr, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return 0, "", err
	}
	if form != nil {
		hr.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if len(b.cookies) > 0 {
		hr.Header.Set("Cookie", b.cookieHeader())
	}
	resp, err := c.hc.Do(hr)
	if err != nil {
		return 0, "", fmt.Errorf("%s %s: %w", method, strings.SplitN(path, "?", 2)[0], err)
	}
	defer resp.Body.Close()
	b.buf.Reset()
	if _, err := b.buf.ReadFrom(io.LimitReader(resp.Body, maxBody)); err != nil {
		return 0, "", err
	}
	for _, ck := range resp.Cookies() {
		if ck.MaxAge < 0 {
			delete(b.cookies, ck.Name)
		} else {
			b.cookies[ck.Name] = ck.Value
		}
	}
	return resp.StatusCode, resp.Header.Get("Location"), nil
}

var (
	pageReq  = regexp.MustCompile(`name="req" value="([^"]*)"`)
	pageCSRF = regexp.MustCompile(`name="csrf" value="([^"]*)"`)
)

// submitPage posts a form of the page in b.buf.
func (c *client) submitPage(ctx context.Context, b *browserState, path string, form url.Values) (int, string, error) {
	m1, m2 := pageReq.FindSubmatch(b.buf.Bytes()), pageCSRF.FindSubmatch(b.buf.Bytes())
	if m1 == nil || m2 == nil {
		return 0, "", fmt.Errorf("the page has no form: %s", truncate(b.buf.Bytes(), 200))
	}
	form.Set("req", string(m1[1]))
	form.Set("csrf", string(m2[1]))
	return c.browse(ctx, b, "POST", path, form)
}

// browserSignIn signs b in through the hosted pages and allows the client.
func (c *client) browserSignIn(ctx context.Context, ac appClient, b *browserState) error {
	status, loc, err := c.browse(ctx, b, "GET", c.authorizePath(ac, b), nil)
	if err != nil || status != http.StatusSeeOther || !strings.HasPrefix(loc, "/login") {
		return fmt.Errorf("authorize: %d %q %v", status, loc, err)
	}
	if status, _, err = c.browse(ctx, b, "GET", loc, nil); err != nil || status != http.StatusOK {
		return fmt.Errorf("sign-in page: %d %v", status, err)
	}
	status, loc, err = c.submitPage(ctx, b, "/login", url.Values{"username": {b.acct.username}, "password": {b.acct.password}})
	if err == nil && status == http.StatusOK {
		status, loc, err = c.submitPage(ctx, b, "/login/consent", url.Values{"decision": {"allow"}})
	}
	if err != nil || status != http.StatusSeeOther || !strings.HasPrefix(loc, authorizeRedirect) {
		return fmt.Errorf("sign in: %d %q %v", status, loc, err)
	}
	return nil
}

// authorizeCode is the authorization request of a signed-in browser: a
// 303 to the client with a code.
func (c *client) authorizeCode(ctx context.Context, ac appClient, b *browserState) (string, int, error) {
	status, loc, err := c.browse(ctx, b, "GET", c.authorizePath(ac, b), nil)
	if err != nil {
		return "", status, err
	}
	u, perr := url.Parse(loc)
	if status != http.StatusSeeOther || perr != nil || u.Query().Get("code") == "" {
		return "", status, fmt.Errorf("authorize answered %d %q", status, loc)
	}
	return u.Query().Get("code"), status, nil
}

// exchangeCode redeems a code with the client's secret and the PKCE verifier.
func (c *client) exchangeCode(ctx context.Context, ac appClient, b *browserState, code string) (int, error) {
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {authorizeRedirect},
		"code_verifier": {b.verifier}}
	status, err := c.do(ctx, request{method: "POST", path: "/oauth2/token", body: []byte(form.Encode()),
		ctype: "application/x-www-form-urlencoded", basic: &[2]string{ac.id, ac.secret}}, &b.buf)
	if err != nil {
		return status, err
	}
	if status != http.StatusOK || jsonField(b.buf.Bytes(), "access_token") == "" {
		return status, errors.New("no access token")
	}
	return status, nil
}
