package native_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/passkeytest"
	"github.com/gatehouse-auth/gatehouse/internal/server/servertest"
)

// withPasskey starts a server (with opts) with user alice, signed in by
// password, who has registered one passkey of the returned authenticator.
func withPasskey(t *testing.T, opts servertest.Options) (*servertest.Env, *passkeytest.Authenticator, string, servertest.Tokens) {
	t.Helper()
	env, tk := newUser(t, opts)
	a := passkeytest.New(servertest.PasskeyOrigin)
	id := env.RegisterPasskey("", tk.AccessToken, a, "My phone")
	return env, a, id, tk
}

type passkeyList struct {
	Passkeys []struct {
		ID         string  `json:"id"`
		Name       string  `json:"name"`
		CreatedAt  string  `json:"created_at"`
		LastUsedAt *string `json:"last_used_at"`
	} `json:"passkeys"`
}

func listPasskeys(t *testing.T, env *servertest.Env, access string) passkeyList {
	t.Helper()
	r := env.Do(servertest.Request{Method: "GET", Path: "/auth/passkeys", Bearer: access})
	if r.Status != http.StatusOK {
		t.Fatalf("list passkeys: %d %s", r.Status, r.Body)
	}
	var l passkeyList
	r.Decode(t, &l)
	return l
}

func TestPasskey_RegisterAndSignIn(t *testing.T) {
	for _, st := range []struct {
		name string
		opts servertest.Options
	}{{"sqlite", servertest.Options{}}, {"postgres", servertest.Options{Postgres: true}}} {
		t.Run(st.name, func(t *testing.T) { testPasskeyRegisterAndSignIn(t, st.opts) })
	}
}

func testPasskeyRegisterAndSignIn(t *testing.T, opts servertest.Options) {
	env, a, id, tk := withPasskey(t, opts)
	l := listPasskeys(t, env, tk.AccessToken)
	if len(l.Passkeys) != 1 || l.Passkeys[0].ID != id || l.Passkeys[0].Name != "My phone" || l.Passkeys[0].LastUsedAt != nil {
		t.Fatalf("passkeys = %+v", l)
	}

	r := env.PasskeySignin("", a)
	if r.Status != http.StatusOK {
		t.Fatalf("passkey sign-in: %d %s", r.Status, r.Body)
	}
	var got servertest.Tokens
	r.Decode(t, &got)
	if got.AccessToken == "" || got.RefreshToken == "" || got.User["username"] != "alice" {
		t.Fatalf("sign-in answer: %s", r.Body)
	}
	if amr := amrOf(t, got.AccessToken); !slices.Contains(amr, "pop") || !slices.Contains(amr, "mfa") {
		t.Errorf("amr = %v, want pop and mfa", amr)
	}
	if r := env.Me("", got.AccessToken); r.Status != http.StatusOK {
		t.Errorf("me with the passkey session's token: %d %s", r.Status, r.Body)
	}
	refreshOK(t, env, got.RefreshToken)
	if l := listPasskeys(t, env, tk.AccessToken); l.Passkeys[0].LastUsedAt == nil {
		t.Errorf("last_used_at still null after a sign-in")
	}
	wantAudit(t, env, "passkey_registered", "passkey_signin", "login_succeeded")

	// A second sign-in: the counter moves on.
	if r := env.PasskeySignin("", a); r.Status != http.StatusOK {
		t.Fatalf("second sign-in: %d %s", r.Status, r.Body)
	}

	r = env.Do(servertest.Request{Method: "PATCH", Path: "/auth/passkeys/" + id, Bearer: tk.AccessToken, JSON: map[string]any{"name": "Work laptop"}})
	if r.Status != http.StatusOK || r.JSON(t)["name"] != "Work laptop" {
		t.Fatalf("rename: %d %s", r.Status, r.Body)
	}
	r = env.Do(servertest.Request{Method: "DELETE", Path: "/auth/passkeys/" + id, Bearer: tk.AccessToken})
	if r.Status != http.StatusNoContent {
		t.Fatalf("delete: %d %s", r.Status, r.Body)
	}
	wantAudit(t, env, "passkey_removed")
	r = env.Do(servertest.Request{Method: "DELETE", Path: "/auth/passkeys/" + id, Bearer: tk.AccessToken})
	wantError(t, r, http.StatusNotFound, "not_found")
	wantError(t, env.PasskeySignin("", a), http.StatusUnauthorized, "invalid_credentials")
}

// signinWith asks for sign-in options and posts the credential that answer
// makes of them.
func signinWith(t *testing.T, env *servertest.Env, tenant string, answer func(o servertest.PasskeyOptions) json.RawMessage) *servertest.Response {
	t.Helper()
	o := env.Options(tenant, "/auth/passkey/options", "", nil)
	h := map[string]string{}
	if tenant != "" {
		h["X-Tenant-ID"] = tenant
	}
	return env.Do(servertest.Request{Method: "POST", Path: "/auth/passkey/signin", Header: h,
		JSON: map[string]any{"challenge_token": o.ChallengeToken, "credential": answer(o)}})
}

// lastFailure returns the reason of the newest passkey_failed event.
func lastFailure(t *testing.T, env *servertest.Env) string {
	t.Helper()
	var out struct {
		Events []struct {
			Details map[string]any `json:"details"`
		} `json:"events"`
	}
	env.Admin("GET", "/admin/audit?type=passkey_failed&limit=1", "", nil).Decode(t, &out)
	if len(out.Events) == 0 {
		return ""
	}
	reason, _ := out.Events[0].Details["reason"].(string)
	return reason
}

func challengeOf(t *testing.T, o servertest.PasskeyOptions) (challenge, rpID string) {
	t.Helper()
	var v struct {
		Challenge string `json:"challenge"`
		RPID      string `json:"rpId"`
	}
	if err := json.Unmarshal(o.PublicKey, &v); err != nil {
		t.Fatalf("options: %v", err)
	}
	return v.Challenge, v.RPID
}

func TestPasskey_SignInRefusals(t *testing.T) {
	for _, st := range []struct {
		name string
		opts servertest.Options
	}{{"sqlite", servertest.Options{}}, {"postgres", servertest.Options{Postgres: true}}} {
		t.Run(st.name, func(t *testing.T) { testPasskeyRefusals(t, st.opts) })
	}
}

func testPasskeyRefusals(t *testing.T, opts servertest.Options) {
	env, a, _, _ := withPasskey(t, opts)
	get := func(t *testing.T, o servertest.PasskeyOptions) json.RawMessage {
		cred, err := a.Get(o.PublicKey)
		if err != nil {
			t.Fatal(err)
		}
		return cred
	}
	cases := []struct {
		name   string
		answer func(t *testing.T, o servertest.PasskeyOptions) json.RawMessage
		status int
		id     string
		reason string // in the passkey_failed event, when one is written
	}{
		{"bad signature", func(t *testing.T, o servertest.PasskeyOptions) json.RawMessage {
			var m map[string]any
			_ = json.Unmarshal(get(t, o), &m)
			resp := m["response"].(map[string]any)
			other := passkeytest.New(servertest.PasskeyOrigin) // a valid signature, by another key
			otherOpts := o
			if _, err := other.Create(json.RawMessage(`{"challenge":"AAAA","rp":{"id":"gatehouse.test"},"user":{"id":"AAAA"}}`)); err != nil {
				t.Fatal(err)
			}
			other.CredentialID, other.UserHandle = a.CredentialID, a.UserHandle
			forged, _ := other.Get(otherOpts.PublicKey)
			var fm map[string]any
			_ = json.Unmarshal(forged, &fm)
			resp["signature"] = fm["response"].(map[string]any)["signature"]
			resp["clientDataJSON"] = fm["response"].(map[string]any)["clientDataJSON"]
			resp["authenticatorData"] = fm["response"].(map[string]any)["authenticatorData"]
			b, _ := json.Marshal(m)
			return b
		}, http.StatusUnauthorized, "invalid_credentials", "signature"},
		{"wrong origin", func(t *testing.T, o servertest.PasskeyOptions) json.RawMessage {
			a.Origin = "http://evil.test"
			defer func() { a.Origin = servertest.PasskeyOrigin }()
			return get(t, o)
		}, http.StatusUnauthorized, "invalid_credentials", "origin"},
		{"wrong rp id", func(t *testing.T, o servertest.PasskeyOptions) json.RawMessage {
			a.RPID = "evil.test"
			defer func() { a.RPID = "" }()
			return get(t, o)
		}, http.StatusUnauthorized, "invalid_credentials", "authenticator response"},
		{"cloned authenticator (counter backwards)", func(t *testing.T, o servertest.PasskeyOptions) json.RawMessage {
			ch, rp := challengeOf(t, o)
			saved := a.Counter
			a.Counter = 1 // the clone lags behind the original's counter
			defer func() { a.Counter = saved }()
			cred, err := a.Sign(ch, rp)
			if err != nil {
				t.Fatal(err)
			}
			return cred
		}, http.StatusUnauthorized, "invalid_credentials", "counter"},
		{"no user verification", func(t *testing.T, o servertest.PasskeyOptions) json.RawMessage {
			a.NoUserVerification = true
			defer func() { a.NoUserVerification = false }()
			return get(t, o)
		}, http.StatusUnauthorized, "invalid_credentials", "authenticator response"},
		{"not a credential", func(t *testing.T, o servertest.PasskeyOptions) json.RawMessage {
			return json.RawMessage(`{"id":"x","type":"public-key"}`)
		}, http.StatusBadRequest, "invalid_request", ""},
		{"a string", func(t *testing.T, o servertest.PasskeyOptions) json.RawMessage {
			return json.RawMessage(`"credential"`)
		}, http.StatusBadRequest, "invalid_request", ""},
	}
	// Sign in once first so that the stored counter is above 1.
	if r := env.PasskeySignin("", a); r.Status != http.StatusOK {
		t.Fatalf("sign-in: %d %s", r.Status, r.Body)
	}
	if r := env.PasskeySignin("", a); r.Status != http.StatusOK {
		t.Fatalf("sign-in: %d %s", r.Status, r.Body)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := signinWith(t, env, "", func(o servertest.PasskeyOptions) json.RawMessage { return c.answer(t, o) })
			wantError(t, r, c.status, c.id)
			if c.reason != "" {
				if got := lastFailure(t, env); !strings.Contains(got, c.reason) {
					t.Errorf("passkey_failed reason = %q, want it to mention %q", got, c.reason)
				}
			}
		})
	}
	wantAudit(t, env, "passkey_failed")

	t.Run("replayed challenge", func(t *testing.T) {
		o := env.Options("", "/auth/passkey/options", "", nil)
		cred, _ := a.Get(o.PublicKey)
		body := map[string]any{"challenge_token": o.ChallengeToken, "credential": cred}
		if r := env.Do(servertest.Request{Method: "POST", Path: "/auth/passkey/signin", JSON: body}); r.Status != http.StatusOK {
			t.Fatalf("first use: %d %s", r.Status, r.Body)
		}
		wantError(t, env.Do(servertest.Request{Method: "POST", Path: "/auth/passkey/signin", JSON: body}), http.StatusBadRequest, "invalid_grant")
		// The same assertion with a fresh token: its challenge is not the token's.
		o2 := env.Options("", "/auth/passkey/options", "", nil)
		body["challenge_token"] = o2.ChallengeToken
		wantError(t, env.Do(servertest.Request{Method: "POST", Path: "/auth/passkey/signin", JSON: body}), http.StatusUnauthorized, "invalid_credentials")
	})
	t.Run("unknown challenge token", func(t *testing.T) {
		o := env.Options("", "/auth/passkey/options", "", nil)
		cred, _ := a.Get(o.PublicKey)
		r := env.Do(servertest.Request{Method: "POST", Path: "/auth/passkey/signin",
			JSON: map[string]any{"challenge_token": "bm90LWEtdG9rZW4", "credential": cred}})
		wantError(t, r, http.StatusBadRequest, "invalid_grant")
	})
	t.Run("expired challenge", func(t *testing.T) {
		o := env.Options("", "/auth/passkey/options", "", nil)
		env.Clock.Advance(5*time.Minute + time.Second)
		cred, _ := a.Get(o.PublicKey)
		r := env.Do(servertest.Request{Method: "POST", Path: "/auth/passkey/signin",
			JSON: map[string]any{"challenge_token": o.ChallengeToken, "credential": cred}})
		wantError(t, r, http.StatusBadRequest, "invalid_grant")
	})
	t.Run("credential of another tenant", func(t *testing.T) {
		if r := env.Admin("POST", "/admin/tenants", "", map[string]any{"id": "acme", "name": "Acme"}); r.Status != http.StatusCreated {
			t.Fatalf("tenant: %d %s", r.Status, r.Body)
		}
		r := signinWith(t, env, "acme", func(o servertest.PasskeyOptions) json.RawMessage {
			cred, _ := a.Get(o.PublicKey)
			return cred
		})
		wantError(t, r, http.StatusUnauthorized, "invalid_credentials")
		o := env.Options("", "/auth/passkey/options", "", nil) // a default-tenant token presented under acme
		cred, _ := a.Get(o.PublicKey)
		r = env.Do(servertest.Request{Method: "POST", Path: "/auth/passkey/signin", Header: map[string]string{"X-Tenant-ID": "acme"},
			JSON: map[string]any{"challenge_token": o.ChallengeToken, "credential": cred}})
		wantError(t, r, http.StatusBadRequest, "invalid_grant")
	})
	// After all of that, the genuine authenticator still signs in.
	if r := env.PasskeySignin("", a); r.Status != http.StatusOK {
		t.Fatalf("genuine sign-in after the refusals: %d %s", r.Status, r.Body)
	}
}

func TestPasskey_RegistrationRules(t *testing.T) {
	env, tk := newUser(t, servertest.Options{})
	a := passkeytest.New(servertest.PasskeyOrigin)

	t.Run("recent authentication", func(t *testing.T) {
		env.Clock.Advance(6 * time.Minute)
		r := env.Do(servertest.Request{Method: "POST", Path: "/auth/passkeys/options", Bearer: env.Login("", "alice", pw).AccessToken, JSON: map[string]any{}})
		if r.Status != http.StatusOK {
			t.Fatalf("options after a fresh sign-in: %d %s", r.Status, r.Body)
		}
		// The first token is still valid (15m), but its sign-in is 6 minutes old.
		r = env.Do(servertest.Request{Method: "POST", Path: "/auth/passkeys/options", Bearer: tk.AccessToken, JSON: map[string]any{}})
		wantError(t, r, http.StatusForbidden, "reauthentication_required")
		// A refreshed token keeps the session's sign-in time: still too old.
		fresh := refreshOK(t, env, tk.RefreshToken)
		r = env.Do(servertest.Request{Method: "POST", Path: "/auth/passkeys/options", Bearer: fresh.AccessToken, JSON: map[string]any{}})
		wantError(t, r, http.StatusForbidden, "reauthentication_required")
		// The current password stands in for a recent sign-in; a wrong one is refused and counted.
		r = env.Do(servertest.Request{Method: "POST", Path: "/auth/passkeys/options", Bearer: fresh.AccessToken, JSON: map[string]any{"password": "wrong password"}})
		wantError(t, r, http.StatusUnauthorized, "invalid_credentials")
		wantAudit(t, env, "reauthentication_failed")
		r = env.Do(servertest.Request{Method: "POST", Path: "/auth/passkeys/options", Bearer: fresh.AccessToken, JSON: map[string]any{"password": pw}})
		if r.Status != http.StatusOK {
			t.Fatalf("options with the current password: %d %s", r.Status, r.Body)
		}
		for range 5 {
			env.Do(servertest.Request{Method: "POST", Path: "/auth/passkeys/options", Bearer: fresh.AccessToken, JSON: map[string]any{"password": "wrong password"}})
		}
		r = env.Do(servertest.Request{Method: "POST", Path: "/auth/passkeys/options", Bearer: fresh.AccessToken, JSON: map[string]any{"password": pw}})
		wantError(t, r, http.StatusTooManyRequests, "too_many_attempts")
		env.Clock.Advance(16 * time.Minute)
	})
	tk = env.Login("", "alice", pw)
	t.Run("bearer required", func(t *testing.T) {
		r := env.Do(servertest.Request{Method: "POST", Path: "/auth/passkeys/options", JSON: map[string]any{}})
		wantError(t, r, http.StatusUnauthorized, "unauthorized")
		wantError(t, env.Do(servertest.Request{Method: "GET", Path: "/auth/passkeys"}), http.StatusUnauthorized, "unauthorized")
	})
	t.Run("ceremony of another user or kind", func(t *testing.T) {
		env.CreateUser("", map[string]any{"username": "bob", "password": pw})
		bob := env.Login("", "bob", pw)
		o := env.Options("", "/auth/passkeys/options", tk.AccessToken, nil)
		cred, err := a.Create(o.PublicKey)
		if err != nil {
			t.Fatal(err)
		}
		r := env.Do(servertest.Request{Method: "POST", Path: "/auth/passkeys", Bearer: bob.AccessToken,
			JSON: map[string]any{"challenge_token": o.ChallengeToken, "credential": cred}})
		wantError(t, r, http.StatusBadRequest, "invalid_grant")
		s := env.Options("", "/auth/passkey/options", "", nil) // a sign-in token is no registration token
		r = env.Do(servertest.Request{Method: "POST", Path: "/auth/passkeys", Bearer: tk.AccessToken,
			JSON: map[string]any{"challenge_token": s.ChallengeToken, "credential": cred}})
		wantError(t, r, http.StatusBadRequest, "invalid_grant")
	})
	t.Run("wrong origin", func(t *testing.T) {
		o := env.Options("", "/auth/passkeys/options", tk.AccessToken, nil)
		evil := passkeytest.New("http://evil.test")
		cred, _ := evil.Create(o.PublicKey)
		r := env.Do(servertest.Request{Method: "POST", Path: "/auth/passkeys", Bearer: tk.AccessToken,
			JSON: map[string]any{"challenge_token": o.ChallengeToken, "credential": cred}})
		wantError(t, r, http.StatusBadRequest, "invalid_request")
	})
	t.Run("bad names", func(t *testing.T) {
		for _, name := range []string{"tab\there", "zero\u200bwidth", stringOf(MaxNameLen + 1)} {
			o := env.Options("", "/auth/passkeys/options", tk.AccessToken, nil)
			cred, _ := passkeytest.New(servertest.PasskeyOrigin).Create(o.PublicKey)
			r := env.Do(servertest.Request{Method: "POST", Path: "/auth/passkeys", Bearer: tk.AccessToken,
				JSON: map[string]any{"challenge_token": o.ChallengeToken, "credential": cred, "name": name}})
			wantError(t, r, http.StatusBadRequest, "invalid_request")
		}
	})
	t.Run("default name and exclusions", func(t *testing.T) {
		id := env.RegisterPasskey("", tk.AccessToken, a, "")
		l := listPasskeys(t, env, tk.AccessToken)
		if len(l.Passkeys) != 1 || l.Passkeys[0].ID != id || l.Passkeys[0].Name != "Passkey" {
			t.Fatalf("passkeys = %+v", l)
		}
		o := env.Options("", "/auth/passkeys/options", tk.AccessToken, nil)
		var opts struct {
			ExcludeCredentials []struct {
				ID string `json:"id"`
			} `json:"excludeCredentials"`
		}
		_ = json.Unmarshal(o.PublicKey, &opts)
		if len(opts.ExcludeCredentials) != 1 {
			t.Errorf("excludeCredentials = %+v, want the registered passkey", opts.ExcludeCredentials)
		}
	})
	t.Run("impersonation cannot register", func(t *testing.T) {
		r := env.Admin("POST", "/admin/tickets", "", map[string]any{"user_id": tk.User["id"], "purpose": "impersonation"})
		if r.Status != http.StatusCreated {
			t.Fatalf("ticket: %d %s", r.Status, r.Body)
		}
		r = env.TicketSignin("", r.JSON(t)["ticket"].(string))
		var imp servertest.Tokens
		r.Decode(t, &imp)
		r = env.Do(servertest.Request{Method: "POST", Path: "/auth/passkeys/options", Bearer: imp.AccessToken, JSON: map[string]any{}})
		wantError(t, r, http.StatusForbidden, "forbidden")
	})
}

// MaxNameLen is the longest passkey name accepted.
const MaxNameLen = 64

func stringOf(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = 'a'
	}
	return string(b)
}

func TestPasskey_DisabledUserRefused(t *testing.T) {
	env, a, _, tk := withPasskey(t, servertest.Options{})
	if r := env.Admin("PATCH", "/admin/users/"+tk.User["id"].(string), "", map[string]any{"status": "disabled"}); r.Status != http.StatusOK {
		t.Fatalf("disable: %d %s", r.Status, r.Body)
	}
	wantError(t, env.PasskeySignin("", a), http.StatusForbidden, "account_disabled")
}

func TestPasskey_SecondFactor(t *testing.T) {
	for _, st := range []struct {
		name string
		opts servertest.Options
	}{{"sqlite", servertest.Options{}}, {"postgres", servertest.Options{Postgres: true}}} {
		t.Run(st.name, func(t *testing.T) { testPasskeySecondFactor(t, st.opts) })
	}
}

func testPasskeySecondFactor(t *testing.T, opts servertest.Options) {
	env, a, _, _ := withPasskey(t, opts)
	ch := env.LoginChallenged("", "alice", pw)
	if !slices.Contains(ch.RequiredMFAMethods, "webauthn") {
		t.Fatalf("required_mfa_methods = %v, want webauthn", ch.RequiredMFAMethods)
	}
	verify := func(cred json.RawMessage) *servertest.Response {
		return env.Do(servertest.Request{Method: "POST", Path: "/auth/mfa/verify",
			JSON: map[string]any{"challenge_token": ch.ChallengeToken, "method": "webauthn", "credential": cred}})
	}
	options := func() servertest.PasskeyOptions {
		return env.Options("", "/auth/mfa/webauthn/options", "", map[string]any{"challenge_token": ch.ChallengeToken})
	}

	// Without options first, and with a wrong origin: refused, the challenge stays open.
	wantError(t, verify(json.RawMessage(`{"id":"AAAA","rawId":"AAAA","type":"public-key","response":{"clientDataJSON":"e30","authenticatorData":"AAAA","signature":"AAAA"}}`)),
		http.StatusBadRequest, "invalid_request")
	o := options()
	if o.ChallengeToken != "" {
		t.Errorf("mfa options carry a challenge_token: the MFA challenge's token stays the one to send")
	}
	a.Origin = "http://evil.test"
	cred, _ := a.Get(o.PublicKey)
	a.Origin = servertest.PasskeyOrigin
	wantError(t, verify(cred), http.StatusUnauthorized, "invalid_mfa_code")

	o = options()
	cred, _ = a.Get(o.PublicKey)
	r := verify(cred)
	if r.Status != http.StatusOK {
		t.Fatalf("verify with a passkey: %d %s", r.Status, r.Body)
	}
	var tk servertest.Tokens
	r.Decode(t, &tk)
	if amr := amrOf(t, tk.AccessToken); !slices.Equal(amr, []string{"pwd", "pop", "mfa"}) {
		t.Errorf("amr = %v, want [pwd pop mfa]", amr)
	}
	wantError(t, verify(cred), http.StatusBadRequest, "invalid_grant") // the challenge is used
	wantAudit(t, env, "mfa_challenged", "mfa_failed", "mfa_succeeded")

	// The options of a challenge that cannot use a passkey.
	wantError(t, env.Do(servertest.Request{Method: "POST", Path: "/auth/mfa/webauthn/options",
		JSON: map[string]any{"challenge_token": "nope"}}), http.StatusBadRequest, "invalid_grant")
}

func TestPasskey_OffForIPIssuer(t *testing.T) {
	env, tk := newUser(t, servertest.Options{Env: map[string]string{"GATEHOUSE_ISSUER": "http://127.0.0.1:8080"}})
	if on, why := env.Server.Service.PasskeysEnabled(); on || !strings.Contains(why, "127.0.0.1 is an IP address") {
		t.Errorf("PasskeysEnabled() = %v, %q; want off because of the IP address", on, why)
	}
	for _, rt := range []struct{ method, path string }{
		{"POST", "/auth/passkey/options"}, {"POST", "/auth/passkey/signin"},
		{"POST", "/auth/passkeys/options"}, {"POST", "/auth/passkeys"}, {"GET", "/auth/passkeys"},
		{"PATCH", "/auth/passkeys/x"}, {"DELETE", "/auth/passkeys/x"}, {"POST", "/auth/mfa/webauthn/options"},
	} {
		r := env.Do(servertest.Request{Method: rt.method, Path: rt.path, Bearer: tk.AccessToken, JSON: map[string]any{}})
		if r.Status != http.StatusNotFound {
			t.Errorf("%s %s: %d %s, want 404", rt.method, rt.path, r.Status, r.Body)
		}
	}
	// An explicit relying party id turns them on.
	on := servertest.New(t, servertest.Options{Env: map[string]string{"GATEHOUSE_ISSUER": "http://127.0.0.1:8080", "GATEHOUSE_WEBAUTHN_RP_ID": "localhost"}})
	if r := on.Do(servertest.Request{Method: "POST", Path: "/auth/passkey/options", JSON: map[string]any{}}); r.Status != http.StatusOK {
		t.Errorf("with GATEHOUSE_WEBAUTHN_RP_ID: %d %s", r.Status, r.Body)
	}
}

func TestPasskey_ExtraOrigins(t *testing.T) {
	const android = "android:apk-key-hash:xT5ZucZJ9N7oq3j3awG8J614pbN5Tm5xIbDZpMmjGZA"
	env, tk := newUser(t, servertest.Options{Env: map[string]string{"GATEHOUSE_WEBAUTHN_ORIGINS": "https://app.gatehouse.test," + android}})
	for _, origin := range []string{"https://app.gatehouse.test", android} {
		a := passkeytest.New(origin)
		env.RegisterPasskey("", tk.AccessToken, a, "")
		if r := env.PasskeySignin("", a); r.Status != http.StatusOK {
			t.Fatalf("sign-in from %s: %d %s", origin, r.Status, r.Body)
		}
	}
	unlisted := passkeytest.New("android:apk-key-hash:b3RoZXItYXBw")
	o := env.Options("", "/auth/passkeys/options", tk.AccessToken, nil)
	cred, _ := unlisted.Create(o.PublicKey)
	r := env.Do(servertest.Request{Method: "POST", Path: "/auth/passkeys", Bearer: tk.AccessToken,
		JSON: map[string]any{"challenge_token": o.ChallengeToken, "credential": cred}})
	wantError(t, r, http.StatusBadRequest, "invalid_request")
}

func TestPasskey_ConcurrentSignInsOneWinner(t *testing.T) {
	for _, st := range []struct {
		name string
		opts servertest.Options
	}{{"sqlite", servertest.Options{}}, {"postgres", servertest.Options{Postgres: true}}} {
		t.Run(st.name, func(t *testing.T) {
			env, a, _, _ := withPasskey(t, st.opts)
			o := env.Options("", "/auth/passkey/options", "", nil)
			cred, err := a.Get(o.PublicKey)
			if err != nil {
				t.Fatal(err)
			}
			const n = 8
			statuses := make([]int, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() {
					statuses[i] = env.Do(servertest.Request{Method: "POST", Path: "/auth/passkey/signin",
						JSON: map[string]any{"challenge_token": o.ChallengeToken, "credential": cred}}).Status
				})
			}
			wg.Wait()
			ok := 0
			for _, s := range statuses {
				switch s {
				case http.StatusOK:
					ok++
				case http.StatusBadRequest:
				default:
					t.Errorf("status %d, want 200 once and 400 for the others", s)
				}
			}
			if ok != 1 {
				t.Errorf("%d of %d concurrent sign-ins with one challenge succeeded, want 1: %v", ok, n, statuses)
			}
		})
	}
}

// TestPasskey_BadInput: hostile ids, names and credentials get a 4xx on
// both stores, never a 5xx.
func TestPasskey_BadInput(t *testing.T) {
	for _, st := range []struct {
		name string
		opts servertest.Options
	}{{"sqlite", servertest.Options{}}, {"postgres", servertest.Options{Postgres: true}}} {
		t.Run(st.name, func(t *testing.T) {
			env, _, id, tk := withPasskey(t, st.opts)
			uid := tk.User["id"].(string)
			raw := func(method, path, bearer, body string) *servertest.Response {
				return env.Do(servertest.Request{Method: method, Path: path, Bearer: bearer, Body: strings.NewReader(body),
					Header: map[string]string{"Content-Type": "application/json"}})
			}
			cases := []struct {
				name string
				r    *servertest.Response
				want int
			}{
				{"NUL in the passkey id", raw("DELETE", "/auth/passkeys/a%00b", tk.AccessToken, ""), 400}, // refused before any handler
				{"invalid UTF-8 in the passkey id", raw("PATCH", "/auth/passkeys/%ff%fe", tk.AccessToken, `{"name":"x"}`), 404},
				{"NUL in the name", raw("PATCH", "/auth/passkeys/"+id, tk.AccessToken, `{"name":"a\u0000b"}`), 400},
				{"NUL in the admin's user id", env.Admin("GET", "/admin/users/a%00b/passkeys", "", nil), 400},
				{"NUL in the admin's passkey id", env.Admin("DELETE", "/admin/users/"+uid+"/passkeys/a%00", "", nil), 400},
				{"NUL in the challenge token", raw("POST", "/auth/passkey/signin", "", `{"challenge_token":"a\u0000","credential":{"id":"a"}}`), 400},
				{"credential of wrong types", raw("POST", "/auth/passkey/signin", "", `{"challenge_token":"a","credential":{"id":1,"response":[]}}`), 400},
				{"credential null", raw("POST", "/auth/passkey/signin", "", `{"challenge_token":"a","credential":null}`), 400},
				{"huge challenge token", raw("POST", "/auth/passkey/signin", "", `{"challenge_token":"`+stringOf(5000)+`","credential":{}}`), 400},
				{"huge credential", raw("POST", "/auth/passkeys", tk.AccessToken, `{"challenge_token":"a","credential":{"id":"`+stringOf(40000)+`"}}`), 400},
				{"mfa options with NUL", raw("POST", "/auth/mfa/webauthn/options", "", `{"challenge_token":"\u0000"}`), 400},
				{"mfa verify webauthn without credential", raw("POST", "/auth/mfa/verify", "", `{"challenge_token":"x","method":"webauthn"}`), 400},
				{"register with a wrong body type", raw("POST", "/auth/passkeys", tk.AccessToken, `[]`), 400},
			}
			for _, c := range cases {
				if c.r.Status != c.want {
					t.Errorf("%s: %d %s, want %d", c.name, c.r.Status, c.r.Body, c.want)
				}
			}
		})
	}
}

func TestPasskey_CountersAndFlags(t *testing.T) {
	env, tk := newUser(t, servertest.Options{})

	// A synced passkey: counter always 0, backup eligible and backed up.
	synced := passkeytest.New(servertest.PasskeyOrigin)
	synced.NoCounter, synced.BackupEligible, synced.BackupState = true, true, true
	env.RegisterPasskey("", tk.AccessToken, synced, "Synced")
	for i := range 2 {
		if r := env.PasskeySignin("", synced); r.Status != http.StatusOK {
			t.Fatalf("sign-in %d with a counter of 0: %d %s", i, r.Status, r.Body)
		}
	}
	// The backup-eligible flag of a credential cannot change.
	synced.BackupEligible, synced.BackupState = false, false
	wantError(t, env.PasskeySignin("", synced), http.StatusUnauthorized, "invalid_credentials")
	if got := lastFailure(t, env); !strings.Contains(got, "Backup Eligible") {
		t.Errorf("passkey_failed reason = %q, want the backup flag", got)
	}

	// The same credential registered twice.
	a := passkeytest.New(servertest.PasskeyOrigin)
	env.RegisterPasskey("", tk.AccessToken, a, "")
	a.KeepCredential = true
	o := env.Options("", "/auth/passkeys/options", tk.AccessToken, nil)
	cred, err := a.Create(o.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	r := env.Do(servertest.Request{Method: "POST", Path: "/auth/passkeys", Bearer: tk.AccessToken,
		JSON: map[string]any{"challenge_token": o.ChallengeToken, "credential": cred}})
	wantError(t, r, http.StatusConflict, "conflict")
	if l := listPasskeys(t, env, tk.AccessToken); len(l.Passkeys) != 2 {
		t.Errorf("passkeys = %+v, want 2", l)
	}
}

func TestPasskey_FailuresLockTheClientIP(t *testing.T) {
	env, a, _, _ := withPasskey(t, servertest.Options{Env: map[string]string{"GATEHOUSE_LOGIN_IP_MAX_FAILURES": "2"}})
	a.Origin = "http://evil.test"
	for range 2 {
		wantError(t, env.PasskeySignin("", a), http.StatusUnauthorized, "invalid_credentials")
	}
	a.Origin = servertest.PasskeyOrigin
	r := env.Do(servertest.Request{Method: "POST", Path: "/auth/passkey/options", JSON: map[string]any{}})
	wantError(t, r, http.StatusTooManyRequests, "too_many_attempts")
	if r.Header.Get("Retry-After") == "" {
		t.Errorf("429 without Retry-After")
	}
	env.Clock.Advance(16 * time.Minute)
	if r := env.PasskeySignin("", a); r.Status != http.StatusOK {
		t.Fatalf("after the lockout: %d %s", r.Status, r.Body)
	}
}
