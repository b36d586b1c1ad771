package native_test

import (
	"net/http"
	"slices"
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/server/servertest"
)

// Tickets are issued by an administrator or a trusted backend that has
// already authenticated the user: their sign-in is not challenged, whatever
// the MFA mode. See docs/mfa.md.
func TestMFA_TicketSignInIsNotChallenged(t *testing.T) {
	env, _, _ := enrolled(t, servertest.Options{})
	env.LoginChallenged("", "alice", pw) // the password is
	uid := env.Admin("GET", "/admin/users?limit=10", "", nil).JSON(t)["users"].([]any)[0].(map[string]any)["id"].(string)
	r := env.Admin("POST", "/admin/tickets", "", map[string]any{"user_id": uid, "purpose": "signin"})
	if r.Status != http.StatusCreated {
		t.Fatalf("issue ticket: %d %s", r.Status, r.Body)
	}
	tk := fedSignedIn(t, "ticket sign-in of an enrolled user", env.TicketSignin("", r.JSON(t)["ticket"].(string)))
	if amr := fedAMR(t, tk.AccessToken); !slices.Equal(amr, []string{"ticket"}) {
		t.Fatalf("amr = %v", amr)
	}
}

// The external provider authenticated the user (with its own factors): an
// ID-token sign-in is not challenged either.
func TestMFA_IDTokenSignInIsNotChallenged(t *testing.T) {
	f := newFedEnv(t, map[string]any{"auto_provision": true})
	c := f.claims("sub-bob")
	c["preferred_username"] = "bob"
	tk := fedSignedIn(t, "first ID-token sign-in", f.signin(f.idp.Sign(c)))
	f.EnrollTOTP("", tk.AccessToken)
	tk = fedSignedIn(t, "ID-token sign-in of an enrolled user", f.signin(f.idp.Sign(f.claims("sub-bob"))))
	if amr := fedAMR(t, tk.AccessToken); !slices.Equal(amr, []string{"fed"}) {
		t.Fatalf("amr = %v", amr)
	}
}

func TestMFA_AdminReset(t *testing.T) {
	env, secret, _ := enrolled(t, servertest.Options{})
	uid := env.Admin("GET", "/admin/users?limit=10", "", nil).JSON(t)["users"].([]any)[0].(map[string]any)["id"].(string)
	open := env.LoginChallenged("", "alice", pw)
	if r := env.Admin("DELETE", "/admin/users/"+uid+"/mfa", "", nil); r.Status != http.StatusNoContent {
		t.Fatalf("reset: %d %s", r.Status, r.Body)
	}
	// The open challenge ended with the factor.
	wantError(t, env.VerifyMFA("", open.ChallengeToken, "totp", env.TOTPCode(secret)), http.StatusBadRequest, "invalid_grant")
	r := login(env, "", "alice", pw, nil)
	if m := r.JSON(t); m["access_token"] == nil || m["requires_mfa"] != nil {
		t.Fatalf("sign-in after the reset: %s", r.Body)
	}
	ev := fedAudit(t, env, "", "mfa_reset")
	if len(ev) != 1 || ev[0]["user_id"] != uid || ev[0]["actor"] != "admin-key" {
		t.Fatalf("mfa_reset events: %v", ev)
	}
	// Resetting again is fine; an unknown user is not.
	if r := env.Admin("DELETE", "/admin/users/"+uid+"/mfa", "", nil); r.Status != http.StatusNoContent {
		t.Fatalf("second reset: %d %s", r.Status, r.Body)
	}
	wantError(t, env.Admin("DELETE", "/admin/users/nobody/mfa", "", nil), http.StatusNotFound, "not_found")
	// Only administrators.
	tk := env.Login("", "alice", pw)
	r = env.Do(servertest.Request{Method: "DELETE", Path: "/admin/users/" + uid + "/mfa", Bearer: tk.AccessToken})
	wantError(t, r, http.StatusForbidden, "forbidden")
}
