package web_test

import (
	"crypto/sha256"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/server/servertest"
)

const (
	alicePassword = "correct horse battery"
	rpCallback    = "https://rp.example/cb"
	verifier      = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk-0123456789"
)

func challengeOf(v string) string {
	sum := sha256.Sum256([]byte(v))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// fixture is a server with user alice and a confidential client "rp"
// registered for rpCallback.
type fixture struct {
	env    *servertest.Env
	client servertest.Client
	userID string
}

func newFixture(t *testing.T, opts servertest.Options) *fixture {
	t.Helper()
	env := servertest.New(t, opts)
	id := env.CreateUser("", map[string]any{"username": "alice", "password": alicePassword, "email": "alice@example.com",
		"display_name": "Alice"})
	c := env.CreateOAuthClient("", map[string]any{"name": "Relying Party", "redirect_uris": []string{rpCallback},
		"post_logout_redirect_uris": []string{"https://rp.example/bye"}})
	return &fixture{env: env, client: c, userID: id}
}

// agent is a browser without a browser: a cookie jar that stops at every
// redirect so that the test sees where it goes.
type agent struct {
	t    *testing.T
	env  *servertest.Env
	http *http.Client
	last page
}

// page is an answer of the server, body read.
type page struct {
	Status   int
	Header   http.Header
	Body     string
	Location string
}

func (f *fixture) agent(t *testing.T) *agent {
	jar, _ := cookiejar.New(nil)
	return &agent{t: t, env: f.env, http: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

func (a *agent) do(req *http.Request) page {
	a.t.Helper()
	resp, err := a.http.Do(req)
	if err != nil {
		a.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	p := page{Status: resp.StatusCode, Header: resp.Header, Body: string(b), Location: resp.Header.Get("Location")}
	a.last = p
	return p
}

// get fetches a path (or absolute URL) of the server.
func (a *agent) get(path string) page {
	a.t.Helper()
	if !strings.HasPrefix(path, "http") {
		path = a.env.URL + path
	}
	req, _ := http.NewRequest("GET", path, nil)
	return a.do(req)
}

func (a *agent) post(path string, form url.Values) page {
	a.t.Helper()
	req, _ := http.NewRequest("POST", a.env.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return a.do(req)
}

// authorize starts an authorization request and follows redirects inside
// the server (to the sign-in page); it stops at a redirect elsewhere.
func (a *agent) authorize(params url.Values) page {
	a.t.Helper()
	p := a.get("/oauth2/authorize?" + params.Encode())
	for p.Status == http.StatusSeeOther && strings.HasPrefix(p.Location, "/") {
		p = a.get(p.Location)
	}
	return p
}

var (
	reqField  = regexp.MustCompile(`name="req" value="([^"]*)"`)
	csrfField = regexp.MustCompile(`name="csrf" value="([^"]*)"`)
)

// submit posts a form of the last page, with its req and csrf fields.
func (a *agent) submit(path string, form url.Values) page {
	a.t.Helper()
	m1, m2 := reqField.FindStringSubmatch(a.last.Body), csrfField.FindStringSubmatch(a.last.Body)
	if m1 == nil || m2 == nil {
		a.t.Fatalf("the page has no form fields req/csrf: %d %s", a.last.Status, a.last.Body)
	}
	form.Set("req", m1[1])
	form.Set("csrf", m2[1])
	return a.post(path, form)
}

func (a *agent) signIn(username, pw string) page {
	a.t.Helper()
	return a.submit("/login", url.Values{"username": {username}, "password": {pw}})
}

// authParams are the parameters of a typical request of client c.
func authParams(c servertest.Client, extra ...string) url.Values {
	v := url.Values{"client_id": {c.ID}, "redirect_uri": {rpCallback}, "response_type": {"code"},
		"scope": {"openid profile email"}, "state": {"st-123"}, "nonce": {"n-0S6_WzA2Mj"},
		"code_challenge": {challengeOf(verifier)}, "code_challenge_method": {"S256"}}
	for i := 0; i+1 < len(extra); i += 2 {
		if extra[i+1] == "" {
			v.Del(extra[i])
		} else {
			v.Set(extra[i], extra[i+1])
		}
	}
	return v
}

// callback parses a redirect to the client and checks it goes to want.
func callback(t *testing.T, p page, want string) url.Values {
	t.Helper()
	if p.Status != http.StatusSeeOther || !strings.HasPrefix(p.Location, want+"?") {
		t.Fatalf("want a redirect to %s, got %d Location=%q body=%s", want, p.Status, p.Location, p.Body)
	}
	u, err := url.Parse(p.Location)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query()
}

// signInAndAllow runs the pages from a sign-in page to the client's callback.
func (a *agent) signInAndAllow(username, pw string) url.Values {
	a.t.Helper()
	p := a.signIn(username, pw)
	if p.Status == http.StatusOK && strings.Contains(p.Body, `value="allow"`) {
		p = a.submit("/login/consent", url.Values{"decision": {"allow"}})
	}
	return callback(a.t, p, rpCallback)
}

// exchange redeems a code at the token endpoint as client c.
func (f *fixture) exchange(c servertest.Client, code, redirect, ver string) *servertest.Response {
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirect}}
	if ver != "" {
		form.Set("code_verifier", ver)
	}
	return f.env.OAuth2("/oauth2/token", &c, form)
}
