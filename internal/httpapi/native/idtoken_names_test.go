package native_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/federation/fedtest"
	"github.com/gatehouse-auth/gatehouse/internal/server/servertest"
)

// TestIDToken_NonASCIIEmailNeverLinks: emails compare by ASCII case only, so
// the Kelvin sign (U+212A, which Unicode folds to "k") never reaches the
// account of kelly@…, and a non-ASCII email never links at all.
func TestIDToken_NonASCIIEmailNeverLinks(t *testing.T) {
	for _, backend := range []struct {
		name string
		pg   bool
	}{{"sqlite", false}, {"postgres", true}} {
		t.Run(backend.name, func(t *testing.T) {
			env := servertest.New(t, servertest.Options{Postgres: backend.pg})
			idp := fedtest.New(t)
			env.CreateProvider("", map[string]any{"name": "corp", "issuer": idp.Issuer, "audiences": []string{webApp}, "link_by_email": true})
			kelly := env.CreateUser("", map[string]any{"username": "kelly", "email": "kelly@corp.example", "password": pw})
			env.CreateUser("", map[string]any{"username": "jorg", "email": "jörg@corp.example", "password": pw})
			sign := func(sub, email string) *servertest.Response {
				c := idp.Claims(sub, webApp, env.Clock.Now())
				c["email"], c["email_verified"] = email, true
				return env.IDTokenSignin("", "corp", idp.Sign(c))
			}
			wantFedError(t, "Kelvin sign", sign("sub-kelvin", "\u212Aelly@corp.example"), http.StatusUnauthorized, "invalid_id_token")
			wantFedError(t, "non-ASCII email, even exact", sign("sub-jorg", "jörg@corp.example"), http.StatusUnauthorized, "invalid_id_token")
			if ev := fedAudit(t, env, "", "identity_linked"); len(ev) != 0 {
				t.Fatalf("identities linked: %v", ev)
			}
			// ASCII case still does not matter.
			tk := fedSignedIn(t, "ASCII case", sign("sub-kelly", "KELLY@Corp.Example"))
			if fedClaims(t, tk.AccessToken)["sub"] != kelly {
				t.Fatalf("linked to %v, want %s", fedClaims(t, tk.AccessToken)["sub"], kelly)
			}
			// And password sign-in by email follows the same rule.
			if r := env.Do(servertest.Request{Method: "POST", Path: "/auth/login",
				JSON: map[string]any{"username": "\u212Aelly@corp.example", "password": pw}}); r.Status != http.StatusUnauthorized {
				t.Errorf("login with the Kelvin sign: %d %s", r.Status, r.Body)
			}
			env.Login("", "KELLY@corp.example", pw)
		})
	}
}

// TestIDToken_RefusalNeverRevealsAccounts: an identity whose verified email
// belongs to a local account (and the provider does not link by email) is
// refused with exactly the answer of an identity nobody has.
func TestIDToken_RefusalNeverRevealsAccounts(t *testing.T) {
	f := newFedEnv(t, map[string]any{"auto_provision": true})
	f.CreateUser("", map[string]any{"username": "owner", "email": "owner@corp.example", "password": pw})
	strict := fedtest.New(t)
	f.CreateProvider("", map[string]any{"name": "strict", "issuer": strict.Issuer, "audiences": []string{webApp}})

	c := f.claims("sub-taken")
	c["email"], c["email_verified"] = "owner@corp.example", true
	taken := f.signin(f.idp.Sign(c))
	wantFedError(t, "email of an account", taken, http.StatusUnauthorized, "invalid_id_token")

	nobody := f.IDTokenSignin("", "strict", strict.Sign(strict.Claims("sub-nobody", webApp, f.Clock.Now())))
	wantFedError(t, "identity of nobody", nobody, http.StatusUnauthorized, "invalid_id_token")

	msg := taken.JSON(t)["message"].(string)
	if msg != nobody.JSON(t)["message"].(string) {
		t.Errorf("messages differ: %q vs %q", msg, nobody.JSON(t)["message"])
	}
	for _, leak := range []string{"email", "exists", "account with"} {
		if strings.Contains(strings.ToLower(msg), leak) {
			t.Errorf("message %q mentions %q", msg, leak)
		}
	}
}

// TestIDToken_PrivateProviderRefusedAtFetchTime: a provider whose host is
// (or, after a DNS change, has become) a loopback address is never fetched
// from when insecure providers are not allowed: the connection itself is
// refused, so the token is refused as if the provider had no keys. The row
// is written directly, as registration would refuse it.
func TestIDToken_PrivateProviderRefusedAtFetchTime(t *testing.T) {
	env := servertest.New(t, servertest.Options{Env: map[string]string{"GATEHOUSE_PROVIDER_ALLOW_INSECURE": "false"}})
	idp := fedtest.New(t)
	env.Exec(`INSERT INTO providers (tenant_id, name, issuer, audiences_json, jwks_uri, algorithms_json, auto_provision, created_at, updated_at)
		VALUES ('default', 'corp', '` + idp.Issuer + `', '["` + webApp + `"]', '', '["RS256","ES256","EdDSA"]', 1, 0, 0)`)
	r := env.IDTokenSignin("", "corp", idp.Sign(idp.Claims("sub-1", webApp, env.Clock.Now())))
	wantFedError(t, "provider on 127.0.0.1", r, http.StatusUnauthorized, "invalid_id_token")
	if !strings.Contains(env.Logs.String(), "refused outbound address") {
		t.Errorf("the log does not show the refused connection:\n%.2000s", env.Logs.String())
	}
}
