package sdktest

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/server/servertest"
	"github.com/gatehouse-auth/gatehouse/sdk"
)

// TestLive_MiddlewareStatusesAndHeaders: a protected net/http service in
// front of live tokens: 200, 401 (none, invalid, expired, revoked,
// password-change-only), 403 (role).
func TestLive_MiddlewareStatusesAndHeaders(t *testing.T) {
	l := newLive(t, nil)
	v := l.verifier(t, sdk.Config{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := v.FollowRevocations(ctx, sdk.RevocationOptions{ClientID: l.client.ID, ClientSecret: l.client.Secret, Interval: 50 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	hello := func(w http.ResponseWriter, r *http.Request) {
		c, _ := sdk.ClaimsFromContext(r.Context())
		_, _ = io.WriteString(w, c.Subject)
	}
	mux.Handle("GET /docs", v.Require()(http.HandlerFunc(hello)))
	mux.Handle("POST /docs", v.Require("editor")(http.HandlerFunc(hello)))
	mux.Handle("DELETE /docs", v.Require("admin")(http.HandlerFunc(hello)))
	api := httptest.NewServer(mux)
	defer api.Close()
	call := func(method, token string) (int, string, string) {
		req, _ := http.NewRequest(method, api.URL+"/docs", nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("WWW-Authenticate"), string(b)
	}
	tk := l.env.Login("", "alice", password)
	if st, _, body := call("GET", tk.AccessToken); st != 200 || body != l.userID {
		t.Errorf("valid token: %d %q", st, body)
	}
	if st, _, _ := call("POST", tk.AccessToken); st != 200 {
		t.Errorf("role editor: %d", st)
	}
	if st, ch, _ := call("DELETE", tk.AccessToken); st != 403 || ch != `Bearer realm="api", error="insufficient_scope", error_description="the role admin is required"` {
		t.Errorf("missing role: %d %q", st, ch)
	}
	if st, ch, _ := call("GET", ""); st != 401 || ch != `Bearer realm="api"` {
		t.Errorf("no token: %d %q", st, ch)
	}
	if st, ch, _ := call("GET", "not-a-token"); st != 401 || ch != `Bearer realm="api", error="invalid_token", error_description="the access token is invalid"` {
		t.Errorf("garbage: %d %q", st, ch)
	}

	// A token that only allows a password change.
	l.env.CreateUser("", map[string]any{"username": "bob", "password": password, "must_change_password": true})
	restricted := l.env.Login("", "bob", password)
	if st, _, _ := call("GET", restricted.AccessToken); st != 401 {
		t.Errorf("password-change-only token: %d", st)
	}
	if _, err := v.Verify(ctx, restricted.AccessToken); err == nil || !strings.Contains(err.Error(), "password change") {
		t.Errorf("password-change-only token: %v", err)
	}

	// Revoked: refused within the feed interval.
	if r := l.env.Do(servertest.Request{Method: "POST", Path: "/auth/logout", Bearer: tk.AccessToken}); r.Status != http.StatusNoContent {
		t.Fatalf("logout: %d", r.Status)
	}
	deadline := time.Now().Add(2 * time.Second)
	for {
		st, ch, _ := call("GET", tk.AccessToken)
		if st == 401 && ch == `Bearer realm="api", error="invalid_token", error_description="the access token's session was revoked"` {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("revoked token: %d %q", st, ch)
		}
		time.Sleep(10 * time.Millisecond)
	}

	// Expired.
	fresh := l.env.Login("", "alice", password)
	l.env.Clock.Advance(16 * time.Minute)
	if st, ch, _ := call("GET", fresh.AccessToken); st != 401 || ch != `Bearer realm="api", error="invalid_token", error_description="the access token expired"` {
		t.Errorf("expired: %d %q", st, ch)
	}
	if _, err := v.Verify(context.Background(), fresh.AccessToken); !errors.Is(err, sdk.ErrTokenExpired) {
		t.Errorf("expired: %v", err)
	}
}
