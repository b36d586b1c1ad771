package native_test

import (
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/server/servertest"
)

const pw = "correct horse battery"

// newUser starts a server with one user and signs them in.
func newUser(t *testing.T, opts servertest.Options) (*servertest.Env, servertest.Tokens) {
	t.Helper()
	env := servertest.New(t, opts)
	env.CreateUser("", map[string]any{"username": "alice", "email": "alice@example.com", "password": pw})
	return env, env.Login("", "alice", pw)
}

func refreshOK(t *testing.T, env *servertest.Env, refresh string) servertest.Tokens {
	t.Helper()
	r := env.Refresh("", refresh)
	if r.Status != http.StatusOK {
		t.Fatalf("refresh: %d %s", r.Status, r.Body)
	}
	var tk servertest.Tokens
	r.Decode(t, &tk)
	if tk.AccessToken == "" || tk.RefreshToken == "" || tk.RefreshToken == refresh {
		t.Fatalf("refresh returned no new pair: %s", r.Body)
	}
	return tk
}

func wantInvalidGrant(t *testing.T, r *servertest.Response) {
	t.Helper()
	if r.Status != http.StatusBadRequest || r.JSON(t)["error"] != "invalid_grant" {
		t.Fatalf("want 400 invalid_grant, got %d %s", r.Status, r.Body)
	}
}

func TestRefresh_NewPairWorksAndOldIsRefused(t *testing.T) {
	env, first := newUser(t, servertest.Options{})
	second := refreshOK(t, env, first.RefreshToken)
	if r := env.Me("", second.AccessToken); r.Status != http.StatusOK {
		t.Fatalf("new access token refused: %d %s", r.Status, r.Body)
	}
	third := refreshOK(t, env, second.RefreshToken)
	if r := env.Refresh("", first.RefreshToken); r.Status != http.StatusBadRequest {
		t.Fatalf("rotated token accepted: %d", r.Status)
	}
	_ = third
	if got := env.Refresh("", "not-a-token"); got.Status != http.StatusBadRequest {
		t.Fatalf("unknown token: %d", got.Status)
	}
	if h := env.Refresh("", second.RefreshToken).Header; h.Get("Cache-Control") != "no-store" {
		t.Fatalf("Cache-Control = %q", h.Get("Cache-Control"))
	}
}

func TestRefresh_ReuseRevokesFamily(t *testing.T) {
	env, first := newUser(t, servertest.Options{})
	second := refreshOK(t, env, first.RefreshToken)
	third := refreshOK(t, env, second.RefreshToken)
	if r := env.Me("", third.AccessToken); r.Status != http.StatusOK {
		t.Fatalf("newest access token refused before reuse: %d", r.Status)
	}

	wantInvalidGrant(t, env.Refresh("", first.RefreshToken)) // reuse of a rotated token

	wantInvalidGrant(t, env.Refresh("", third.RefreshToken)) // the newest refresh token is dead too
	if r := env.Me("", third.AccessToken); r.Status != http.StatusUnauthorized {
		t.Fatalf("newest access token still accepted after reuse: %d %s", r.Status, r.Body)
	}
	if r := env.Me("", first.AccessToken); r.Status != http.StatusUnauthorized {
		t.Fatalf("first access token still accepted after reuse: %d", r.Status)
	}
	ev := env.Admin("GET", "/admin/audit?type=refresh_token_reused", "", nil).JSON(t)["events"].([]any)
	if len(ev) != 1 {
		t.Fatalf("want one refresh_token_reused event, got %v", ev)
	}
	e := ev[0].(map[string]any)
	if e["session_id"] == "" || e["user_id"] == "" {
		t.Fatalf("reuse event lacks session or user: %v", e)
	}
	// A fresh sign-in is unaffected.
	if r := env.Me("", env.Login("", "alice", pw).AccessToken); r.Status != http.StatusOK {
		t.Fatalf("new session refused: %d", r.Status)
	}
}

func TestRefresh_LeewayReturnsSamePair(t *testing.T) {
	env, first := newUser(t, servertest.Options{Env: map[string]string{"GATEHOUSE_REFRESH_REUSE_LEEWAY": "10s"}})
	a := env.Refresh("", first.RefreshToken)
	env.Clock.Advance(5 * time.Second)
	b := env.Refresh("", first.RefreshToken)
	if a.Status != http.StatusOK || b.Status != http.StatusOK {
		t.Fatalf("refresh within leeway: %d %d %s", a.Status, b.Status, b.Body)
	}
	var ta, tb servertest.Tokens
	a.Decode(t, &ta)
	b.Decode(t, &tb)
	if ta.RefreshToken != tb.RefreshToken || ta.AccessToken != tb.AccessToken {
		t.Fatalf("retry within leeway returned a different pair")
	}
	// The pair works and rotates normally.
	next := refreshOK(t, env, tb.RefreshToken)
	// Once the successor has moved on, the old token is a reuse even within the leeway.
	wantInvalidGrant(t, env.Refresh("", first.RefreshToken))
	wantInvalidGrant(t, env.Refresh("", next.RefreshToken))
}

func TestRefresh_LeewayExpires(t *testing.T) {
	env, first := newUser(t, servertest.Options{Env: map[string]string{"GATEHOUSE_REFRESH_REUSE_LEEWAY": "10s"}})
	second := refreshOK(t, env, first.RefreshToken)
	env.Clock.Advance(11 * time.Second)
	wantInvalidGrant(t, env.Refresh("", first.RefreshToken))
	wantInvalidGrant(t, env.Refresh("", second.RefreshToken))
	if r := env.Me("", second.AccessToken); r.Status != http.StatusUnauthorized {
		t.Fatalf("access token accepted after reuse outside the leeway: %d", r.Status)
	}
}

func TestRefresh_LeewayZeroRetryIsReuse(t *testing.T) {
	env, first := newUser(t, servertest.Options{})
	second := refreshOK(t, env, first.RefreshToken)
	wantInvalidGrant(t, env.Refresh("", first.RefreshToken))
	wantInvalidGrant(t, env.Refresh("", second.RefreshToken))
}

func TestRefresh_IdleExpiry(t *testing.T) {
	env, first := newUser(t, servertest.Options{Env: map[string]string{"GATEHOUSE_REFRESH_TOKEN_TTL": "1h"}})
	env.Clock.Advance(59 * time.Minute)
	second := refreshOK(t, env, first.RefreshToken) // each rotation gets a fresh idle lifetime
	env.Clock.Advance(59 * time.Minute)
	third := refreshOK(t, env, second.RefreshToken)
	env.Clock.Advance(61 * time.Minute)
	wantInvalidGrant(t, env.Refresh("", third.RefreshToken))
}

func TestRefresh_AbsoluteExpiry(t *testing.T) {
	env, tk := newUser(t, servertest.Options{Env: map[string]string{
		"GATEHOUSE_REFRESH_TOKEN_TTL": "1h", "GATEHOUSE_SESSION_MAX_LIFETIME": "3h", "GATEHOUSE_ACCESS_TOKEN_TTL": "15m"}})
	for i := 0; i < 5; i++ { // 2h30m of regular refreshes
		env.Clock.Advance(30 * time.Minute)
		tk = refreshOK(t, env, tk.RefreshToken)
	}
	env.Clock.Advance(25 * time.Minute) // 2h55m: the access token is capped at the session's end
	tk = refreshOK(t, env, tk.RefreshToken)
	if tk.ExpiresIn > 5*60 {
		t.Fatalf("access token outlives the session: expires_in %d", tk.ExpiresIn)
	}
	env.Clock.Advance(6 * time.Minute) // 3h01m: rotation never extended the session
	wantInvalidGrant(t, env.Refresh("", tk.RefreshToken))
	if r := env.Me("", tk.AccessToken); r.Status != http.StatusUnauthorized {
		t.Fatalf("access token valid after the session ended: %d", r.Status)
	}
}

func TestRefresh_ConcurrentOneWinner(t *testing.T) {
	env, first := newUser(t, servertest.Options{})
	const n = 50
	var wg sync.WaitGroup
	status := make([]int, n)
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			status[i] = env.Refresh("", first.RefreshToken).Status
		}()
	}
	close(start)
	wg.Wait()
	ok := 0
	for _, s := range status {
		switch {
		case s == http.StatusOK:
			ok++
		case s >= 500:
			t.Fatalf("a concurrent refresh got %d", s)
		case s != http.StatusBadRequest:
			t.Fatalf("unexpected status %d", s)
		}
	}
	if ok != 1 {
		t.Fatalf("%d of %d concurrent refreshes succeeded, want exactly 1", ok, n)
	}
}

func TestRefresh_TenantIsolation(t *testing.T) {
	env, tk := newUser(t, servertest.Options{})
	if r := env.Admin("POST", "/admin/tenants", "", map[string]any{"id": "acme", "name": "Acme"}); r.Status != http.StatusCreated {
		t.Fatalf("create tenant: %d %s", r.Status, r.Body)
	}
	wantInvalidGrant(t, env.Refresh("acme", tk.RefreshToken))
	if r := env.Me("acme", tk.AccessToken); r.Status != http.StatusUnauthorized {
		t.Fatalf("token of tenant default accepted under acme: %d", r.Status)
	}
	// The token was not harmed by the foreign attempt.
	refreshOK(t, env, tk.RefreshToken)
}
