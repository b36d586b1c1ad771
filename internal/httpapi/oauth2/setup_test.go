package oauth2_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/server/servertest"
)

// tokenAnswer is a successful token response.
type tokenAnswer struct {
	AccessToken     string `json:"access_token"`
	TokenType       string `json:"token_type"`
	ExpiresIn       int    `json:"expires_in"`
	RefreshToken    string `json:"refresh_token"`
	IDToken         string `json:"id_token"`
	Scope           string `json:"scope"`
	IssuedTokenType string `json:"issued_token_type"`
}

// setup is a test server with user alice and a confidential client.
type setup struct {
	env    *servertest.Env
	client servertest.Client
	userID string
}

func newSetup(t *testing.T, opts servertest.Options) *setup {
	t.Helper()
	env := servertest.New(t, opts)
	id := env.CreateUser("", map[string]any{"username": "alice", "password": alicePassword, "email": "alice@example.com"})
	return &setup{env: env, client: env.CreateOAuthClient("", map[string]any{"name": "web"}), userID: id}
}

// grant posts to the token endpoint as client c and decodes a 200 answer,
// failing the test otherwise.
func (s *setup) grant(t *testing.T, c servertest.Client, form url.Values) tokenAnswer {
	t.Helper()
	r := s.env.OAuth2("/oauth2/token", &c, form)
	if r.Status != http.StatusOK {
		t.Fatalf("token %s: %d %s", form.Get("grant_type"), r.Status, r.Body)
	}
	checkNoStore(t, r)
	var a tokenAnswer
	r.Decode(t, &a)
	if a.AccessToken == "" || a.TokenType != "Bearer" || a.ExpiresIn <= 0 {
		t.Fatalf("token answer %s", r.Body)
	}
	return a
}

func (s *setup) password(t *testing.T, c servertest.Client, scope string) tokenAnswer {
	t.Helper()
	return s.grant(t, c, url.Values{"grant_type": {"password"}, "username": {"alice"}, "password": {alicePassword}, "scope": {scope}})
}

func (s *setup) refresh(t *testing.T, c servertest.Client, rt string) *servertest.Response {
	t.Helper()
	return s.env.OAuth2("/oauth2/token", &c, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}})
}

func (s *setup) introspect(t *testing.T, c servertest.Client, tok string) map[string]any {
	t.Helper()
	r := s.env.OAuth2("/oauth2/introspect", &c, url.Values{"token": {tok}})
	if r.Status != http.StatusOK {
		t.Fatalf("introspect: %d %s", r.Status, r.Body)
	}
	checkNoStore(t, r)
	return r.JSON(t)
}

// wantError checks an RFC 6749 §5.2 error answer.
func wantError(t *testing.T, r *servertest.Response, status int, code string) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d: %s", r.Status, status, r.Body)
	}
	var body map[string]any
	if err := json.Unmarshal(r.Body, &body); err != nil {
		t.Fatalf("error body is not JSON: %q", r.Body)
	}
	if body["error"] != code {
		t.Errorf("error %v, want %q (%s)", body["error"], code, r.Body)
	}
	for k := range body {
		if k != "error" && k != "error_description" {
			t.Errorf("error body has field %q: %s", k, r.Body)
		}
	}
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		t.Errorf("Content-Type %q", r.Header.Get("Content-Type"))
	}
	if status == http.StatusUnauthorized && code == "invalid_client" && r.Header.Get("WWW-Authenticate") == "" {
		t.Error("invalid_client without WWW-Authenticate")
	}
}

func checkNoStore(t *testing.T, r *servertest.Response) {
	t.Helper()
	if r.Header.Get("Cache-Control") != "no-store" || r.Header.Get("Pragma") != "no-cache" {
		t.Errorf("Cache-Control %q, Pragma %q", r.Header.Get("Cache-Control"), r.Header.Get("Pragma"))
	}
}

func description(t *testing.T, r *servertest.Response) string {
	t.Helper()
	d, _ := r.JSON(t)["error_description"].(string)
	return d
}
