package app_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/server/servertest"
)

const pw = "correct horse battery"

// Paths of the family.
const (
	pathLogin    = "/api/v1/public/login/verify"
	pathRefresh  = "/api/v1/app/token/refresh"
	pathVerify   = "/api/v1/app/token/access/verify"
	pathUserInfo = "/api/v1/app/token/access/user/info"
)

// answer is a decoded answer of the family.
type answer struct {
	Code int            `json:"code"`
	Msg  string         `json:"msg"`
	Data map[string]any `json:"data"`
	raw  map[string]any
}

// decode checks the family's fixed parts (HTTP 200, JSON, no-store) and
// decodes the answer.
func decode(t *testing.T, r *servertest.Response) answer {
	t.Helper()
	if r.Status != http.StatusOK {
		t.Fatalf("HTTP status %d, want 200: %s", r.Status, r.Body)
	}
	if r.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("Cache-Control %q, want no-store", r.Header.Get("Cache-Control"))
	}
	var a answer
	if err := json.Unmarshal(r.Body, &a); err != nil {
		t.Fatalf("answer is not JSON: %q", r.Body)
	}
	_ = json.Unmarshal(r.Body, &a.raw)
	if a.Code != 0 && a.Msg == "" {
		t.Fatalf("failure without msg: %s", r.Body)
	}
	return a
}

// ok decodes a success and returns its data.
func ok(t *testing.T, r *servertest.Response) map[string]any {
	t.Helper()
	a := decode(t, r)
	if a.Code != 0 {
		t.Fatalf("code %d (%s), want 0: %s", a.Code, a.Msg, r.Body)
	}
	return a.Data
}

// wantCode decodes a failure and checks its code.
func wantCode(t *testing.T, what string, r *servertest.Response, code int) {
	t.Helper()
	a := decode(t, r)
	if a.Code != code {
		t.Fatalf("%s: code %d (%s), want %d: %s", what, a.Code, a.Msg, code, r.Body)
	}
	if _, has := a.raw["data"]; has {
		t.Fatalf("%s: a failure carries data: %s", what, r.Body)
	}
}

// fixture is a server with a user, her access token and a client.
type fixture struct {
	*servertest.Env
	userID string
	access string
	client servertest.Client
}

func newFixture(t *testing.T, opts servertest.Options) *fixture {
	t.Helper()
	env := servertest.New(t, opts)
	id := env.CreateUser("", map[string]any{"username": "alice", "password": pw, "display_name": "Alice A.",
		"avatar_url": "https://example.com/a.png", "groups": []string{"eng", "ops"}})
	return &fixture{Env: env, userID: id, access: env.Login("", "alice", pw).AccessToken, client: env.CreateClient("", "shop")}
}

// login opens an app session with the user's access token.
func (f *fixture) login(t *testing.T, extra url.Values) map[string]any {
	t.Helper()
	return ok(t, f.loginResponse(t, extra))
}

func (f *fixture) loginResponse(t *testing.T, extra url.Values) *servertest.Response {
	t.Helper()
	form := url.Values{"token": {f.access}, "grantType": {"refresh_token"}}
	for k, v := range extra {
		form[k] = v
	}
	return f.App("POST", pathLogin, f.client, form)
}

// rawData returns the members of the answer's data as they were written.
func rawData(t *testing.T, r *servertest.Response) map[string]json.RawMessage {
	t.Helper()
	var a struct {
		Data map[string]json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(r.Body, &a); err != nil {
		t.Fatalf("decode: %v: %s", err, r.Body)
	}
	return a.Data
}

// decodeSegment decodes a JWT segment into a map.
func decodeSegment(t *testing.T, seg string) map[string]any {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		t.Fatalf("segment: %v", err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("segment: %v", err)
	}
	return m
}

func splitJWT(s string) []string {
	parts := strings.SplitN(s, ".", 3)
	for len(parts) < 3 {
		parts = append(parts, "")
	}
	return parts
}
