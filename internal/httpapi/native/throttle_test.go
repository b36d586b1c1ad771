package native_test

import (
	"bufio"
	"bytes"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/server/servertest"
)

// forStores runs a test on SQLite and on PostgreSQL.
func forStores(t *testing.T, opts servertest.Options, fn func(t *testing.T, opts servertest.Options)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, opts) })
	t.Run("postgres", func(t *testing.T) {
		opts.Postgres = true
		fn(t, opts)
	})
}

// passwordChecks reads gatehouse_password_checks_total from /metrics: the
// password hashes the server has run.
func passwordChecks(t *testing.T, env *servertest.Env) int {
	t.Helper()
	r := env.Do(servertest.Request{Method: "GET", Path: "/metrics", Bearer: servertest.AdminKey})
	if r.Status != http.StatusOK {
		t.Fatalf("/metrics: %d", r.Status)
	}
	sc := bufio.NewScanner(bytes.NewReader(r.Body))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "gatehouse_password_checks_total "); ok {
			n, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("gatehouse_password_checks_total %q: %v", v, err)
			}
			return int(n)
		}
	}
	t.Fatal("/metrics has no gatehouse_password_checks_total")
	return 0
}

// atOnce sends n requests released together and returns their responses.
func atOnce(env *servertest.Env, n int, req func(i int) servertest.Request) []*servertest.Response {
	out := make([]*servertest.Response, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rq := req(i)
			<-start
			out[i] = env.Do(rq)
		}()
	}
	close(start)
	wg.Wait()
	return out
}

// statusCounts counts the responses by status.
func statusCounts(rs []*servertest.Response) map[int]int {
	m := map[int]int{}
	for _, r := range rs {
		m[r.Status]++
	}
	return m
}

// countAudit is the number of the default tenant's audit events of type typ.
func countAudit(t *testing.T, env *servertest.Env, typ string) int {
	t.Helper()
	n := 0
	for _, got := range auditTypes(t, env) {
		if got == typ {
			n++
		}
	}
	return n
}

// wantBurstThrottled checks the answers to a burst of n wrong guesses
// against a budget of limit: at most limit hashes ran, each answered 401,
// and every other guess was refused with 429 before any hash.
func wantBurstThrottled(t *testing.T, env *servertest.Env, rs []*servertest.Response, hashesBefore, limit int) {
	t.Helper()
	hashes := passwordChecks(t, env) - hashesBefore
	st := statusCounts(rs)
	if hashes > limit || hashes < 1 {
		t.Fatalf("%d concurrent wrong passwords ran %d hashes, want 1..%d (statuses %v)", len(rs), hashes, limit, st)
	}
	if st[http.StatusUnauthorized] != hashes || st[http.StatusUnauthorized]+st[http.StatusTooManyRequests] != len(rs) {
		t.Fatalf("statuses %v for %d hashes: want one 401 per hash and 429 for the rest", st, hashes)
	}
	for _, r := range rs {
		if r.Status == http.StatusTooManyRequests && (r.JSON(t)["error"] != "too_many_attempts" || r.Header.Get("Retry-After") == "") {
			t.Fatalf("429 without too_many_attempts and Retry-After: %s %v", r.Body, r.Header)
		}
	}
}

func TestThrottle_ConcurrentWrongPasswordsHashAtMostTheLimit(t *testing.T) {
	forStores(t, servertest.Options{}, func(t *testing.T, opts servertest.Options) {
		env := servertest.New(t, opts)
		env.CreateUser("", map[string]any{"username": "alice", "password": pw})
		before := passwordChecks(t, env)
		rs := atOnce(env, 30, func(int) servertest.Request {
			return servertest.Request{Method: "POST", Path: "/auth/login",
				JSON: map[string]any{"username": "alice", "password": "wrong password!"}}
		})
		wantBurstThrottled(t, env, rs, before, 5)
		if n := countAudit(t, env, "login_failed"); n != statusCounts(rs)[http.StatusUnauthorized] {
			t.Fatalf("%d login_failed events for %d checked guesses", n, statusCounts(rs)[http.StatusUnauthorized])
		}
		// The account is locked: even the right password waits.
		wantError(t, login(env, "", "alice", pw, nil), http.StatusTooManyRequests, "too_many_attempts")

		// Unknown logins are counted alike, with a budget of their own.
		before = passwordChecks(t, env)
		rs = atOnce(env, 30, func(int) servertest.Request {
			return servertest.Request{Method: "POST", Path: "/auth/login",
				JSON: map[string]any{"username": "ghost", "password": "wrong password!"}}
		})
		wantBurstThrottled(t, env, rs, before, 5)
	})
}

func TestThrottle_UsernameEmailAndPhoneShareOneBudget(t *testing.T) {
	env := servertest.New(t, servertest.Options{})
	env.CreateUser("", map[string]any{"username": "alice", "email": "alice@example.com", "phone": "+15550100", "password": pw})
	for i, name := range []string{"alice", "ALICE@example.com", "+15550100", "alice@example.com", "Alice"} {
		if r := login(env, "", name, "wrong password!", nil); r.Status != http.StatusUnauthorized {
			t.Fatalf("wrong password #%d as %q: %d %s", i+1, name, r.Status, r.Body)
		}
	}
	for _, name := range []string{"alice", "alice@example.com", "+15550100"} {
		wantError(t, login(env, "", name, pw, nil), http.StatusTooManyRequests, "too_many_attempts")
	}
	if n := countAudit(t, env, "login_locked"); n != 1 {
		t.Fatalf("%d login_locked events, want 1", n)
	}
	env.Clock.Advance(16 * time.Minute)
	if r := login(env, "", "+15550100", pw, nil); r.Status != http.StatusOK {
		t.Fatalf("sign-in after the lockout: %d %s", r.Status, r.Body)
	}
}

func TestThrottle_SmartLockoutKeepsTheOwnersAddress(t *testing.T) {
	forStores(t, servertest.Options{Env: proxied}, func(t *testing.T, opts servertest.Options) {
		env := servertest.New(t, opts)
		env.CreateUser("", map[string]any{"username": "alice", "password": pw})
		home := from("203.0.113.10", "home/1.0")
		if r := login(env, "", "alice", pw, home); r.Status != http.StatusOK {
			t.Fatalf("owner's sign-in: %d %s", r.Status, r.Body)
		}
		env.Clock.Advance(24 * time.Hour)

		// A stranger locks the account for everyone but its familiar addresses.
		for i := range 5 {
			if r := login(env, "", "alice", "guess number "+strconv.Itoa(i), from("198.51.100.7", "bot")); r.Status != http.StatusUnauthorized {
				t.Fatalf("stranger's guess %d: %d %s", i, r.Status, r.Body)
			}
		}
		wantError(t, login(env, "", "alice", pw, from("198.51.100.7", "bot")), http.StatusTooManyRequests, "too_many_attempts")
		wantError(t, login(env, "", "alice", pw, from("192.0.2.44", "new laptop")), http.StatusTooManyRequests, "too_many_attempts")
		if r := login(env, "", "alice", pw, home); r.Status != http.StatusOK {
			t.Fatalf("the owner's familiar address is locked out by a stranger: %d %s", r.Status, r.Body)
		}

		// The familiar address has a budget of its own, no larger.
		for range 5 {
			login(env, "", "alice", "typo typo typo", home)
		}
		wantError(t, login(env, "", "alice", pw, home), http.StatusTooManyRequests, "too_many_attempts")
		scopes := lockScopes(t, env)
		if !scopes["account"] || !scopes["familiar_address"] {
			t.Fatalf("login_locked scopes %v, want account and familiar_address", scopes)
		}

		// An address stays familiar for 30 days after its last sign-in.
		env.Clock.Advance(31 * 24 * time.Hour)
		for range 5 {
			login(env, "", "alice", "guess again!", from("198.51.100.7", "bot"))
		}
		wantError(t, login(env, "", "alice", pw, home), http.StatusTooManyRequests, "too_many_attempts")
	})
}

// lockScopes returns the scopes of the default tenant's login_locked events.
func lockScopes(t *testing.T, env *servertest.Env) map[string]bool {
	t.Helper()
	var out struct {
		Events []struct {
			Details map[string]any `json:"details"`
		} `json:"events"`
	}
	env.Admin("GET", "/admin/audit?type=login_locked&limit=100", "", nil).Decode(t, &out)
	scopes := map[string]bool{}
	for _, e := range out.Events {
		s, _ := e.Details["scope"].(string)
		scopes[s] = true
	}
	return scopes
}

func changePassword(env *servertest.Env, access string, body map[string]any) *servertest.Response {
	return env.Do(servertest.Request{Method: "POST", Path: "/auth/password/change", Bearer: access, JSON: body})
}

func TestPasswordChange_ThrottledAndAuditedLikeSignIn(t *testing.T) {
	forStores(t, servertest.Options{}, func(t *testing.T, opts servertest.Options) {
		env, tk := newUser(t, opts)
		before := passwordChecks(t, env)
		rs := atOnce(env, 30, func(int) servertest.Request {
			return servertest.Request{Method: "POST", Path: "/auth/password/change", Bearer: tk.AccessToken,
				JSON: map[string]any{"old_password": "not my password", "new_password": "a brand new password"}}
		})
		wantBurstThrottled(t, env, rs, before, 5)
		if n := countAudit(t, env, "password_change_failed"); n != statusCounts(rs)[http.StatusUnauthorized] {
			t.Fatalf("%d password_change_failed events for %d checked guesses", n, statusCounts(rs)[http.StatusUnauthorized])
		}
		// The user signed in from this address: its budget is the one locked.
		if !lockScopes(t, env)["familiar_address"] {
			t.Fatalf("login_locked scopes %v, want familiar_address", lockScopes(t, env))
		}
		// The same budget as sign-in: the account is locked there too.
		wantError(t, login(env, "", "alice", pw, nil), http.StatusTooManyRequests, "too_many_attempts")
		wantError(t, changePassword(env, tk.AccessToken, map[string]any{"old_password": pw, "new_password": "a brand new password"}),
			http.StatusTooManyRequests, "too_many_attempts")
		env.Clock.Advance(16 * time.Minute)
		tk = env.Login("", "alice", pw)
		if r := changePassword(env, tk.AccessToken, map[string]any{"old_password": pw, "new_password": "a brand new password"}); r.Status != http.StatusNoContent {
			t.Fatalf("password change after the lockout: %d %s", r.Status, r.Body)
		}
	})
}

func TestPasswordChange_WrongOldPasswordsCountOnTheSignInBudget(t *testing.T) {
	env, tk := newUser(t, servertest.Options{})
	for range 3 {
		wantError(t, changePassword(env, tk.AccessToken, map[string]any{"old_password": "not my password", "new_password": "a brand new password"}),
			http.StatusUnauthorized, "invalid_credentials")
	}
	for range 2 {
		login(env, "", "alice@example.com", "wrong password!", nil)
	}
	wantError(t, changePassword(env, tk.AccessToken, map[string]any{"old_password": pw, "new_password": "a brand new password"}),
		http.StatusTooManyRequests, "too_many_attempts")
}
