package native_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/federation/fedtest"
	"github.com/gatehouse-auth/gatehouse/internal/server/servertest"
)

const webApp = "web-app"

// fedEnv is a server with one registered provider, "corp", served by a
// real test OpenID provider.
type fedEnv struct {
	*servertest.Env
	idp *fedtest.Provider
}

func newFedEnv(t *testing.T, provider map[string]any) *fedEnv {
	t.Helper()
	env := servertest.New(t, servertest.Options{})
	idp := fedtest.New(t)
	fields := map[string]any{"name": "corp", "issuer": idp.Issuer, "audiences": []string{webApp, "mobile-app"}}
	for k, v := range provider {
		fields[k] = v
	}
	env.CreateProvider("", fields)
	return &fedEnv{Env: env, idp: idp}
}

// claims are valid claims for sub at the server's current time.
func (f *fedEnv) claims(sub string) map[string]any { return f.idp.Claims(sub, webApp, f.Clock.Now()) }

func (f *fedEnv) signin(token string) *servertest.Response {
	f.T.Helper()
	return f.IDTokenSignin("", "corp", token)
}

func TestIDToken_ProvisionsAndSignsIn(t *testing.T) {
	f := newFedEnv(t, map[string]any{"auto_provision": true})
	c := f.claims("sub-alice")
	c["email"], c["email_verified"], c["preferred_username"], c["name"] = "alice@corp.example", true, "alice", "Alice Liddell"
	tk := fedSignedIn(t, "first ID-token sign-in", f.signin(f.idp.Sign(c)))
	if amr := fedAMR(t, tk.AccessToken); len(amr) != 1 || amr[0] != "fed" {
		t.Errorf("amr = %v, want [fed]", amr)
	}
	uid := fedClaims(t, tk.AccessToken)["sub"].(string)
	r := f.Admin("GET", "/admin/users/"+uid, "", nil)
	u := r.JSON(t)
	if u["username"] != "alice" || u["email"] != "alice@corp.example" || u["display_name"] != "Alice Liddell" || u["has_password"] != false {
		t.Errorf("provisioned user: %s", r.Body)
	}
	if r := f.Me("", tk.AccessToken); r.Status != http.StatusOK {
		t.Errorf("me: %d %s", r.Status, r.Body)
	}

	// The identity is linked: the next token of the same subject (now
	// signed with the ECDSA key) reaches the same user, without a new one.
	f.idp.SetActive(f.idp.Key("ES256").KID)
	c = f.claims("sub-alice")
	c["preferred_username"] = "renamed"
	tk2 := fedSignedIn(t, "second ID-token sign-in", f.signin(f.idp.Sign(c)))
	if fedClaims(t, tk2.AccessToken)["sub"] != uid {
		t.Errorf("second sign-in reached user %v, want %s", fedClaims(t, tk2.AccessToken)["sub"], uid)
	}
	// Federated sessions refresh like any other.
	fedSignedIn(t, "refresh of a federated session", f.Refresh("", tk2.RefreshToken))

	if ev := fedAudit(t, f.Env, "", "id_token_signin"); len(ev) != 2 || ev[0]["user_id"] != uid {
		t.Errorf("id_token_signin events: %v", ev)
	}
	if ev := fedAudit(t, f.Env, "", "identity_linked"); len(ev) != 1 || ev[0]["user_id"] != uid ||
		ev[0]["details"].(map[string]any)["method"] != "provisioned" {
		t.Errorf("identity_linked events: %v", ev)
	}
}

func TestIDToken_Refusals(t *testing.T) {
	f := newFedEnv(t, map[string]any{"auto_provision": true})
	now := f.Clock.Now()
	with := func(k string, v any) map[string]any {
		c := f.claims("sub-1")
		c[k] = v
		return c
	}
	// Warm the key cache with a valid sign-in first.
	fedSignedIn(t, "valid token", f.signin(f.idp.Sign(f.claims("sub-0"))))

	for _, c := range []struct {
		name  string
		token string
	}{
		{"bad signature", f.idp.Tamper(f.idp.Sign(f.claims("sub-1")), f.claims("sub-0"))},
		{"signed by an unpublished key", f.idp.SignUnpublished("RS256", f.claims("sub-1"))},
		{"alg none", f.idp.SignNone(f.claims("sub-1"))},
		{"HS256 keyed with the provider's public key", f.idp.SignHS256WithPublicKey(f.claims("sub-1"))},
		{"wrong issuer", f.idp.Sign(with("iss", "https://evil.example.com"))},
		{"wrong audience", f.idp.Sign(with("aud", "someone-else"))},
		{"several audiences without azp", f.idp.Sign(with("aud", []string{webApp, "other"}))},
		{"expired", f.idp.Sign(with("exp", now.Add(-time.Second).Unix()))},
		{"iat in the future", f.idp.Sign(with("iat", now.Add(5*time.Minute).Unix()))},
		{"nbf in the future", f.idp.Sign(with("nbf", now.Add(5*time.Minute).Unix()))},
		{"not a JWT", "definitely.not.ajwt"},
	} {
		t.Run(c.name, func(t *testing.T) {
			wantFedError(t, c.name, f.signin(c.token), http.StatusUnauthorized, "invalid_id_token")
			if f.LogsContain(c.token) {
				t.Error("the refused token appears in the logs")
			}
		})
	}

	// Several audiences are fine when azp names one of ours.
	mc := with("aud", []string{"other", webApp})
	mc["azp"] = webApp
	fedSignedIn(t, "several audiences with a matching azp", f.signin(f.idp.Sign(mc)))

	// Time moves on: a token that was valid expires.
	tok := f.idp.Sign(f.claims("sub-2"))
	f.Clock.Advance(11 * time.Minute)
	wantFedError(t, "a token past its exp", f.signin(tok), http.StatusUnauthorized, "invalid_id_token")
}

func TestIDToken_ReplayRefused(t *testing.T) {
	f := newFedEnv(t, map[string]any{"auto_provision": true})
	tok := f.idp.Sign(f.claims("sub-1"))
	fedSignedIn(t, "first presentation", f.signin(tok))
	wantFedError(t, "the same token again", f.signin(tok), http.StatusUnauthorized, "invalid_id_token")
}

func TestIDToken_KeyRotation(t *testing.T) {
	f := newFedEnv(t, map[string]any{"auto_provision": true})
	fedSignedIn(t, "before rotation", f.signin(f.idp.Sign(f.claims("sub-1"))))
	fetches := f.idp.JWKSFetches()
	f.idp.Rotate("ES256")

	// The new kid is unknown; the cache was filled less than a minute ago.
	wantFedError(t, "new kid within a minute of the last fetch", f.signin(f.idp.Sign(f.claims("sub-1"))), http.StatusUnauthorized, "invalid_id_token")
	if n := f.idp.JWKSFetches(); n != fetches {
		t.Errorf("JWKS fetched %d more times within a minute", n-fetches)
	}
	f.Clock.Advance(61 * time.Second)
	fedSignedIn(t, "new kid after a minute", f.signin(f.idp.Sign(f.claims("sub-1"))))
	if n := f.idp.JWKSFetches(); n != fetches+1 {
		t.Errorf("JWKS fetched %d more times, want 1", n-fetches)
	}
}

func TestIDToken_ProviderAndFields(t *testing.T) {
	f := newFedEnv(t, map[string]any{"auto_provision": true})
	tok := f.idp.Sign(f.claims("sub-1"))
	wantFedError(t, "unknown provider", f.IDTokenSignin("", "nope", tok), http.StatusBadRequest, "invalid_request")
	wantFedError(t, "provider of another tenant", f.IDTokenSignin("acme", "corp", tok), http.StatusBadRequest, "invalid_request")
	wantFedError(t, "no provider", f.IDTokenSignin("", "", tok), http.StatusBadRequest, "invalid_request")
	wantFedError(t, "no id_token", f.IDTokenSignin("", "corp", ""), http.StatusBadRequest, "invalid_request")
	// None of these consumed the token.
	fedSignedIn(t, "the token after the refused requests", f.signin(tok))
}

func TestIDToken_ProvisioningOff(t *testing.T) {
	f := newFedEnv(t, map[string]any{"auto_provision": false})
	c := f.claims("sub-1")
	c["email"], c["email_verified"] = "alice@corp.example", true
	wantFedError(t, "unknown identity without provisioning", f.signin(f.idp.Sign(c)), http.StatusUnauthorized, "invalid_id_token")

	// An existing user with that email is not linked either (link_by_email off).
	f.CreateUser("", map[string]any{"username": "alice", "email": "alice@corp.example", "password": pw})
	c = f.claims("sub-1")
	c["email"], c["email_verified"] = "alice@corp.example", true
	wantFedError(t, "matching email without link_by_email", f.signin(f.idp.Sign(c)), http.StatusUnauthorized, "invalid_id_token")
	r := f.Admin("GET", "/admin/users", "", nil)
	if n := len(r.JSON(t)["users"].([]any)); n != 1 {
		t.Errorf("%d users after refused sign-ins, want 1", n)
	}
}

func TestIDToken_LinkByEmail(t *testing.T) {
	f := newFedEnv(t, map[string]any{"link_by_email": true})
	uid := f.CreateUser("", map[string]any{"username": "alice", "email": "Alice@Corp.example", "password": pw})

	c := f.claims("sub-alice")
	c["email"], c["email_verified"] = "alice@corp.example", false
	wantFedError(t, "email_verified false", f.signin(f.idp.Sign(c)), http.StatusUnauthorized, "invalid_id_token")
	c = f.claims("sub-alice")
	c["email"] = "alice@corp.example" // no email_verified at all
	wantFedError(t, "email_verified absent", f.signin(f.idp.Sign(c)), http.StatusUnauthorized, "invalid_id_token")

	c = f.claims("sub-alice")
	c["email"], c["email_verified"] = "alice@corp.example", true
	tk := fedSignedIn(t, "email_verified true", f.signin(f.idp.Sign(c)))
	if fedClaims(t, tk.AccessToken)["sub"] != uid {
		t.Fatalf("linked to %v, want the existing user %s", fedClaims(t, tk.AccessToken)["sub"], uid)
	}
	if ev := fedAudit(t, f.Env, "", "identity_linked"); len(ev) != 1 || ev[0]["user_id"] != uid ||
		ev[0]["details"].(map[string]any)["method"] != "email" {
		t.Errorf("identity_linked events: %v", ev)
	}

	// Linked once, the identity no longer needs the email claim.
	tk = fedSignedIn(t, "linked identity without email", f.signin(f.idp.Sign(f.claims("sub-alice"))))
	if fedClaims(t, tk.AccessToken)["sub"] != uid {
		t.Errorf("linked identity reached %v", fedClaims(t, tk.AccessToken)["sub"])
	}
	// The password still works too: linking adds a way in.
	f.Login("", "alice", pw)

	// Another subject with an email nobody has, and no provisioning: refused.
	c = f.claims("sub-bob")
	c["email"], c["email_verified"] = "bob@corp.example", true
	wantFedError(t, "verified email of no user", f.signin(f.idp.Sign(c)), http.StatusUnauthorized, "invalid_id_token")
}

func TestIDToken_DisabledUser(t *testing.T) {
	f := newFedEnv(t, map[string]any{"auto_provision": true})
	tk := fedSignedIn(t, "provisioning sign-in", f.signin(f.idp.Sign(f.claims("sub-1"))))
	uid := fedClaims(t, tk.AccessToken)["sub"].(string)
	if r := f.Admin("PATCH", "/admin/users/"+uid, "", map[string]any{"status": "disabled"}); r.Status != http.StatusOK {
		t.Fatalf("disable: %d %s", r.Status, r.Body)
	}
	wantFedError(t, "a disabled user's identity", f.signin(f.idp.Sign(f.claims("sub-1"))), http.StatusForbidden, "account_disabled")
}

func TestIDToken_ProvisioningAvoidsLoginLookalikes(t *testing.T) {
	f := newFedEnv(t, map[string]any{"auto_provision": true})
	f.CreateUser("", map[string]any{"username": "taken", "email": "owner@corp.example", "password": pw})

	// A preferred_username that is taken, or that looks like an email, is
	// not used; an unverified email is not stored.
	c := f.claims("sub-1")
	c["preferred_username"], c["email"] = "taken", "victim@corp.example"
	tk := fedSignedIn(t, "taken preferred_username", f.signin(f.idp.Sign(c)))
	u := f.Admin("GET", "/admin/users/"+fedClaims(t, tk.AccessToken)["sub"].(string), "", nil).JSON(t)
	if u["username"] != "corp_sub-1" || u["email"] != "" {
		t.Errorf("provisioned username %v email %v, want corp_sub-1 and no email", u["username"], u["email"])
	}
	c = f.claims("sub-2")
	c["preferred_username"] = "someone@else.example"
	tk = fedSignedIn(t, "email-like preferred_username", f.signin(f.idp.Sign(c)))
	u = f.Admin("GET", "/admin/users/"+fedClaims(t, tk.AccessToken)["sub"].(string), "", nil).JSON(t)
	if strings.Contains(u["username"].(string), "@") {
		t.Errorf("provisioned username %v looks like an email", u["username"])
	}

	// A verified email that an account holds already refuses provisioning
	// (the provider does not link by email).
	c = f.claims("sub-3")
	c["email"], c["email_verified"] = "owner@corp.example", true
	wantFedError(t, "verified email of an existing account", f.signin(f.idp.Sign(c)), http.StatusUnauthorized, "invalid_id_token")
}

func TestIDToken_ConcurrentFirstSignInsMakeOneUser(t *testing.T) {
	for _, backend := range []struct {
		name string
		pg   bool
	}{{"sqlite", false}, {"postgres", true}} {
		t.Run(backend.name, func(t *testing.T) {
			env := servertest.New(t, servertest.Options{Postgres: backend.pg})
			idp := fedtest.New(t)
			env.CreateProvider("", map[string]any{"name": "corp", "issuer": idp.Issuer, "audiences": []string{webApp}, "auto_provision": true})
			const n = 10
			bodies := make([][]byte, n)
			for i := range n {
				c := idp.Claims("sub-race", webApp, env.Clock.Now()) // each with its own jti
				c["preferred_username"] = "racer"
				bodies[i], _ = json.Marshal(map[string]string{"id_token": idp.Sign(c), "provider": "corp"})
			}
			subs := make([]string, n)
			var wg sync.WaitGroup
			start := make(chan struct{})
			client := env.HTTP.Client()
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					resp, err := client.Post(env.URL+"/auth/id-token/signin", "application/json", bytes.NewReader(bodies[i]))
					if err != nil {
						return
					}
					defer resp.Body.Close()
					var out struct {
						AccessToken string `json:"access_token"`
					}
					if resp.StatusCode == http.StatusOK && json.NewDecoder(resp.Body).Decode(&out) == nil {
						subs[i] = out.AccessToken
					}
				}()
			}
			close(start)
			wg.Wait()
			users := map[string]bool{}
			for i, tok := range subs {
				if tok == "" {
					t.Errorf("sign-in %d failed", i)
					continue
				}
				users[fedClaims(t, tok)["sub"].(string)] = true
			}
			if len(users) != 1 {
				t.Errorf("concurrent first sign-ins reached %d users, want 1", len(users))
			}
			r := env.Admin("GET", "/admin/users", "", nil)
			if list := r.JSON(t)["users"].([]any); len(list) != 1 {
				t.Errorf("%d users exist, want 1: %s", len(list), r.Body)
			}
		})
	}
}
