package native_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/server/servertest"
	"github.com/gatehouse-auth/gatehouse/internal/token"
)

// fedClaims decodes the payload of a JWT without verifying it.
func fedClaims(t *testing.T, jwt string) map[string]any {
	t.Helper()
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", jwt)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatalf("payload: %v", err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("payload: %v", err)
	}
	return m
}

// fedAMR returns the amr claim of an access token as strings.
func fedAMR(t *testing.T, jwt string) []string {
	t.Helper()
	raw, _ := fedClaims(t, jwt)["amr"].([]any)
	out := make([]string, 0, len(raw))
	for _, v := range raw {
		s, _ := v.(string)
		out = append(out, s)
	}
	return out
}

func wantFedError(t *testing.T, what string, r *servertest.Response, status int, id string) {
	t.Helper()
	if r.Status != status || r.JSON(t)["error"] != id {
		t.Fatalf("%s: got %d %s, want %d %s", what, r.Status, r.Body, status, id)
	}
}

func fedSignedIn(t *testing.T, what string, r *servertest.Response) servertest.Tokens {
	t.Helper()
	if r.Status != http.StatusOK {
		t.Fatalf("%s: %d %s", what, r.Status, r.Body)
	}
	if r.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("%s: Cache-Control = %q, want no-store", what, r.Header.Get("Cache-Control"))
	}
	var tk servertest.Tokens
	r.Decode(t, &tk)
	if tk.AccessToken == "" || tk.RefreshToken == "" || tk.TokenType != "Bearer" {
		t.Fatalf("%s: no token pair in %s", what, r.Body)
	}
	return tk
}

// fedAudit returns the tenant's audit events of one type, newest first.
func fedAudit(t *testing.T, env *servertest.Env, tenant, typ string) []map[string]any {
	t.Helper()
	r := env.Admin("GET", "/admin/audit?type="+typ, tenant, nil)
	if r.Status != http.StatusOK {
		t.Fatalf("audit: %d %s", r.Status, r.Body)
	}
	var out struct {
		Events []map[string]any `json:"events"`
	}
	r.Decode(t, &out)
	return out.Events
}

func TestTicket_SignsInOnce(t *testing.T) {
	env := servertest.New(t, servertest.Options{})
	uid := env.CreateUser("", map[string]any{"username": "alice", "password": pw})

	r := env.Admin("POST", "/admin/tickets", "", map[string]any{"user_id": uid, "purpose": "signin"})
	if r.Status != http.StatusCreated || r.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("issue: %d %v %s", r.Status, r.Header, r.Body)
	}
	issued := r.JSON(t)
	ticket, _ := issued["ticket"].(string)
	if len(ticket) < 43 || issued["purpose"] != "signin" || issued["user_id"] != uid {
		t.Fatalf("issued ticket: %s", r.Body)
	}
	if exp, err := time.Parse(time.RFC3339, issued["expires_at"].(string)); err != nil || !exp.Equal(env.Clock.Now().Add(60*time.Second)) {
		t.Errorf("expires_at = %v (%v), want 60 s from now", issued["expires_at"], err)
	}

	tk := fedSignedIn(t, "ticket sign-in", env.TicketSignin("", ticket))
	c := fedClaims(t, tk.AccessToken)
	if c["sub"] != uid || c["act"] != nil {
		t.Errorf("claims of a signin ticket's token: %v", c)
	}
	if amr := fedAMR(t, tk.AccessToken); len(amr) != 1 || amr[0] != "ticket" {
		t.Errorf("amr = %v, want [ticket]", amr)
	}
	if r := env.Me("", tk.AccessToken); r.Status != http.StatusOK {
		t.Errorf("me with the ticket session's token: %d %s", r.Status, r.Body)
	}
	wantFedError(t, "the same ticket again", env.TicketSignin("", ticket), http.StatusBadRequest, "invalid_ticket")
	wantFedError(t, "an unknown ticket", env.TicketSignin("", token.NewOpaque()), http.StatusBadRequest, "invalid_ticket")
	wantFedError(t, "a ticket of absurd length", env.TicketSignin("", strings.Repeat("x", 5000)), http.StatusBadRequest, "invalid_ticket")

	// Neither the log nor the database holds the ticket itself; the
	// database holds its hash.
	if env.LogsContain(ticket) {
		t.Error("the ticket appears in the logs")
	}
	var db []byte
	for _, suffix := range []string{"", "-wal"} {
		b, err := os.ReadFile(filepath.Join(env.DataDir, "gatehouse.db"+suffix))
		if err == nil {
			db = append(db, b...)
		}
	}
	if bytes.Contains(db, []byte(ticket)) {
		t.Error("the database holds the ticket in clear")
	}
	if !bytes.Contains(db, []byte(token.HashOpaque(ticket))) {
		t.Error("the database does not hold the ticket's hash (the search above proves nothing)")
	}
}

func TestTicket_Expiry(t *testing.T) {
	env := servertest.New(t, servertest.Options{Env: map[string]string{"GATEHOUSE_TICKET_MAX_TTL": "2m"}})
	uid := env.CreateUser("", map[string]any{"username": "alice", "password": pw})

	// The default lifetime is 60 s.
	ticket := env.IssueTicket("", uid, "signin")
	env.Clock.Advance(61 * time.Second)
	wantFedError(t, "a ticket after 61 s", env.TicketSignin("", ticket), http.StatusBadRequest, "invalid_ticket")

	// A chosen lifetime counts, and is capped by GATEHOUSE_TICKET_MAX_TTL.
	r := env.Admin("POST", "/admin/tickets", "", map[string]any{"user_id": uid, "ttl_seconds": 3600})
	if r.Status != http.StatusCreated {
		t.Fatalf("issue: %d %s", r.Status, r.Body)
	}
	capped := r.JSON(t)
	if exp, _ := time.Parse(time.RFC3339, capped["expires_at"].(string)); !exp.Equal(env.Clock.Now().Add(2 * time.Minute)) {
		t.Errorf("expires_at = %v, want capped at 2m from now", capped["expires_at"])
	}
	env.Clock.Advance(119 * time.Second)
	fedSignedIn(t, "a capped ticket just before it expires", env.TicketSignin("", capped["ticket"].(string)))

	r = env.Admin("POST", "/admin/tickets", "", map[string]any{"user_id": uid, "ttl_seconds": 30})
	short := r.JSON(t)["ticket"].(string)
	env.Clock.Advance(30 * time.Second)
	wantFedError(t, "a 30 s ticket after 30 s", env.TicketSignin("", short), http.StatusBadRequest, "invalid_ticket")
}

func TestTicket_ConcurrentRedemptionsOneWins(t *testing.T) {
	for _, backend := range []struct {
		name string
		pg   bool
	}{{"sqlite", false}, {"postgres", true}} {
		t.Run(backend.name, func(t *testing.T) {
			env := servertest.New(t, servertest.Options{Postgres: backend.pg})
			uid := env.CreateUser("", map[string]any{"username": "alice", "password": pw})
			ticket := env.IssueTicket("", uid, "signin")
			body, _ := json.Marshal(map[string]string{"ticket": ticket})

			const n = 20
			statuses := make([]int, n)
			errs := make([]error, n)
			start := make(chan struct{})
			var wg sync.WaitGroup
			client := env.HTTP.Client()
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					resp, err := client.Post(env.URL+"/auth/ticket/signin", "application/json", bytes.NewReader(body))
					if err != nil {
						errs[i] = err
						return
					}
					resp.Body.Close()
					statuses[i] = resp.StatusCode
				}()
			}
			close(start)
			wg.Wait()
			won := 0
			for i := range n {
				switch {
				case errs[i] != nil:
					t.Errorf("request %d: %v", i, errs[i])
				case statuses[i] == http.StatusOK:
					won++
				case statuses[i] != http.StatusBadRequest:
					t.Errorf("request %d: status %d, want 200 or 400", i, statuses[i])
				}
			}
			if won != 1 {
				t.Errorf("%d of %d simultaneous redemptions succeeded, want exactly 1", won, n)
			}
			r := env.Admin("GET", "/admin/users/"+uid+"/sessions", "", nil)
			var s struct {
				Sessions []any `json:"sessions"`
			}
			r.Decode(t, &s)
			if len(s.Sessions) != 1 {
				t.Errorf("%d sessions after the race, want 1", len(s.Sessions))
			}
		})
	}
}

func TestTicket_ImpersonationActorSurvivesRefresh(t *testing.T) {
	env := servertest.New(t, servertest.Options{})
	adminID := env.CreateUser("", map[string]any{"username": "root", "password": pw, "roles": []string{"admin"}})
	uid := env.CreateUser("", map[string]any{"username": "alice", "password": pw})
	admin := env.Login("", "root", pw)

	// A user administrator issues the ticket with their own access token.
	r := env.Do(servertest.Request{Method: "POST", Path: "/admin/tickets", Bearer: admin.AccessToken,
		JSON: map[string]any{"user_id": uid, "purpose": "impersonation"}})
	if r.Status != http.StatusCreated || r.JSON(t)["purpose"] != "impersonation" {
		t.Fatalf("issue impersonation ticket: %d %s", r.Status, r.Body)
	}
	tk := fedSignedIn(t, "impersonation sign-in", env.TicketSignin("", r.JSON(t)["ticket"].(string)))

	check := func(what, access string) {
		t.Helper()
		c := fedClaims(t, access)
		act, _ := c["act"].(map[string]any)
		if c["sub"] != uid || act == nil || act["sub"] != "user:"+adminID {
			t.Errorf("%s: sub %v act %v, want sub %s act {sub: user:%s}", what, c["sub"], c["act"], uid, adminID)
		}
		if amr := fedAMR(t, access); len(amr) != 1 || amr[0] != "ticket" {
			t.Errorf("%s: amr = %v, want [ticket]", what, amr)
		}
	}
	check("first token", tk.AccessToken)
	for i := range 2 {
		r := env.Refresh("", tk.RefreshToken)
		tk = fedSignedIn(t, "refresh", r)
		check("token after refresh "+string(rune('1'+i)), tk.AccessToken)
	}

	issued := fedAudit(t, env, "", "ticket_issued")
	if len(issued) != 1 || issued[0]["actor"] != "user:"+adminID || issued[0]["user_id"] != uid ||
		issued[0]["details"].(map[string]any)["purpose"] != "impersonation" {
		t.Errorf("ticket_issued events: %v", issued)
	}
	redeemed := fedAudit(t, env, "", "ticket_redeemed")
	if len(redeemed) != 1 || redeemed[0]["actor"] != "user:"+adminID || redeemed[0]["user_id"] != uid ||
		redeemed[0]["session_id"] != fedClaims(t, tk.AccessToken)["sid"] {
		t.Errorf("ticket_redeemed events: %v", redeemed)
	}

	// With the admin key, the act subject is the key's name.
	keyTicket := env.IssueTicket("", uid, "impersonation")
	tk = fedSignedIn(t, "admin-key impersonation", env.TicketSignin("", keyTicket))
	if act, _ := fedClaims(t, tk.AccessToken)["act"].(map[string]any); act == nil || act["sub"] != "admin-key" {
		t.Errorf("act of an admin-key impersonation = %v", act)
	}
}

func TestTicket_TenantIsolation(t *testing.T) {
	env := servertest.New(t, servertest.Options{})
	if r := env.Admin("POST", "/admin/tenants", "", map[string]any{"id": "acme", "name": "Acme"}); r.Status != http.StatusCreated {
		t.Fatalf("create tenant: %d %s", r.Status, r.Body)
	}
	uid := env.CreateUser("", map[string]any{"username": "alice", "password": pw})
	ticket := env.IssueTicket("", uid, "signin")

	wantFedError(t, "a default-tenant ticket under acme", env.TicketSignin("acme", ticket), http.StatusBadRequest, "invalid_ticket")
	tk := fedSignedIn(t, "the ticket in its own tenant after the foreign attempt", env.TicketSignin("", ticket))
	if fedClaims(t, tk.AccessToken)["tid"] != "default" {
		t.Errorf("tid = %v", fedClaims(t, tk.AccessToken)["tid"])
	}
	// A ticket cannot be issued in one tenant for a user of another.
	r := env.Admin("POST", "/admin/tickets", "acme", map[string]any{"user_id": uid})
	wantFedError(t, "issuing under acme for a default-tenant user", r, http.StatusNotFound, "not_found")
}

func TestTicket_DisabledUser(t *testing.T) {
	env := servertest.New(t, servertest.Options{})
	uid := env.CreateUser("", map[string]any{"username": "alice", "password": pw})
	ticket := env.IssueTicket("", uid, "signin")
	if r := env.Admin("PATCH", "/admin/users/"+uid, "", map[string]any{"status": "disabled"}); r.Status != http.StatusOK {
		t.Fatalf("disable: %d %s", r.Status, r.Body)
	}
	wantFedError(t, "a disabled user's ticket", env.TicketSignin("", ticket), http.StatusBadRequest, "invalid_ticket")
	r := env.Admin("POST", "/admin/tickets", "", map[string]any{"user_id": uid})
	wantFedError(t, "issuing for a disabled user", r, http.StatusBadRequest, "invalid_request")

	// Enabled again, the consumed ticket stays consumed.
	env.Admin("PATCH", "/admin/users/"+uid, "", map[string]any{"status": "active"})
	wantFedError(t, "the consumed ticket after re-enabling", env.TicketSignin("", ticket), http.StatusBadRequest, "invalid_ticket")
}

func TestTicket_BadRequests(t *testing.T) {
	env := servertest.New(t, servertest.Options{})
	uid := env.CreateUser("", map[string]any{"username": "alice", "password": pw})
	for _, c := range []struct {
		what   string
		body   map[string]any
		status int
		id     string
	}{
		{"no user", map[string]any{}, http.StatusBadRequest, "invalid_request"},
		{"unknown user", map[string]any{"user_id": "nobody"}, http.StatusNotFound, "not_found"},
		{"bad purpose", map[string]any{"user_id": uid, "purpose": "root"}, http.StatusBadRequest, "invalid_request"},
		{"negative ttl", map[string]any{"user_id": uid, "ttl_seconds": -5}, http.StatusBadRequest, "invalid_request"},
		{"zero ttl", map[string]any{"user_id": uid, "ttl_seconds": 0}, http.StatusBadRequest, "invalid_request"},
		{"huge ttl", map[string]any{"user_id": uid, "ttl_seconds": int64(1) << 40}, http.StatusCreated, ""},
		{"ttl of the wrong type", map[string]any{"user_id": uid, "ttl_seconds": "60"}, http.StatusBadRequest, "invalid_request"},
	} {
		r := env.Admin("POST", "/admin/tickets", "", c.body)
		if r.Status != c.status || (c.id != "" && r.JSON(t)["error"] != c.id) {
			t.Errorf("%s: %d %s, want %d %s", c.what, r.Status, r.Body, c.status, c.id)
		}
	}
	if r := env.Do(servertest.Request{Method: "POST", Path: "/admin/tickets", JSON: map[string]any{"user_id": uid}}); r.Status != http.StatusUnauthorized {
		t.Errorf("issuing without credentials: %d", r.Status)
	}
	wantFedError(t, "sign-in without a ticket", env.Do(servertest.Request{Method: "POST", Path: "/auth/ticket/signin", JSON: map[string]any{}}),
		http.StatusBadRequest, "invalid_request")
	r := env.Do(servertest.Request{Method: "POST", Path: "/auth/ticket/signin", Body: strings.NewReader("ticket=x"),
		Header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}})
	if r.Status != http.StatusUnsupportedMediaType {
		t.Errorf("form-encoded sign-in: %d", r.Status)
	}
}
