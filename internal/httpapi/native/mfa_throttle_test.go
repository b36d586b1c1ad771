package native_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/server/servertest"
)

// wrongCodeFor returns a six-digit code that is not the current one of secret.
func wrongCodeFor(env *servertest.Env, secret string) string {
	if env.TOTPCode(secret) == "123456" {
		return "654321"
	}
	return "123456"
}

func TestTOTP_ConcurrentWrongCodesCheckedAtMostTheLimit(t *testing.T) {
	forStores(t, servertest.Options{}, func(t *testing.T, opts servertest.Options) {
		env, secret, _ := enrolled(t, opts)
		ch := env.LoginChallenged("", "alice", pw)
		wrong := wrongCodeFor(env, secret)
		before := countAudit(t, env, "mfa_failed")
		rs := atOnce(env, 40, func(int) servertest.Request {
			return servertest.Request{Method: "POST", Path: "/auth/mfa/verify",
				JSON: map[string]any{"challenge_token": ch.ChallengeToken, "method": "totp", "code": wrong}}
		})
		st := statusCounts(rs)
		// Each code is counted before it is checked: five are checked
		// (401), the challenge is over for the others (400).
		if st[http.StatusUnauthorized] != 5 || st[http.StatusBadRequest] != 35 {
			t.Fatalf("statuses of 40 concurrent wrong codes: %v, want five 401 and thirty-five 400", st)
		}
		if n := countAudit(t, env, "mfa_failed") - before; n != 5 {
			t.Fatalf("%d codes checked (mfa_failed), want 5", n)
		}
		wantError(t, env.VerifyMFA("", ch.ChallengeToken, "totp", env.TOTPCode(secret)), http.StatusBadRequest, "invalid_grant")
	})
}

// TestTOTP_AdminResetLiftsTheLockAndFreesTheStep: after DELETE
// /admin/users/{id}/mfa a locked-out user enrols a new factor at once, and
// the new factor's first code is accepted in the time step that the old
// factor's last code used.
func TestTOTP_AdminResetLiftsTheLockAndFreesTheStep(t *testing.T) {
	forStores(t, servertest.Options{}, func(t *testing.T, opts servertest.Options) {
		env, tk := newUser(t, opts)
		oldSecret, _ := env.EnrollTOTP("", tk.AccessToken)
		// The old factor's code of this step signs in: the step is used.
		ch := env.LoginChallenged("", "alice", pw)
		if r := env.VerifyMFA("", ch.ChallengeToken, "totp", env.TOTPCode(oldSecret)); r.Status != http.StatusOK {
			t.Fatalf("verify: %d %s", r.Status, r.Body)
		}
		// Ten wrong codes lock the second factor.
		for range 2 {
			ch := env.LoginChallenged("", "alice", pw)
			for range 5 {
				env.VerifyMFA("", ch.ChallengeToken, "totp", wrongCodeFor(env, oldSecret))
			}
		}
		ch = env.LoginChallenged("", "alice", pw)
		wantError(t, env.VerifyMFA("", ch.ChallengeToken, "totp", env.TOTPCode(oldSecret)), http.StatusTooManyRequests, "too_many_attempts")

		var id string
		for _, u := range env.Admin("GET", "/admin/users", "", nil).JSON(t)["users"].([]any) {
			id = u.(map[string]any)["id"].(string)
		}
		if r := env.Admin("DELETE", "/admin/users/"+id+"/mfa", "", nil); r.Status != http.StatusNoContent {
			t.Fatalf("admin MFA reset: %d %s", r.Status, r.Body)
		}

		// Same time step: a new factor, confirmed with its current code.
		fresh := env.Login("", "alice", pw)
		r := env.Do(servertest.Request{Method: "POST", Path: "/auth/mfa/totp/enroll", JSON: map[string]any{}, Bearer: fresh.AccessToken})
		if r.Status != http.StatusOK {
			t.Fatalf("enroll after reset: %d %s", r.Status, r.Body)
		}
		newSecret, _ := r.JSON(t)["secret"].(string)
		r = env.Do(servertest.Request{Method: "POST", Path: "/auth/mfa/totp/confirm", Bearer: fresh.AccessToken,
			JSON: map[string]any{"code": env.TOTPCode(newSecret)}})
		if r.Status != http.StatusOK {
			t.Fatalf("confirm the new factor in the step the old one used: %d %s", r.Status, r.Body)
		}
		// The replay guard holds for the new factor: that code is spent.
		ch = env.LoginChallenged("", "alice", pw)
		wantError(t, env.VerifyMFA("", ch.ChallengeToken, "totp", env.TOTPCode(newSecret)), http.StatusUnauthorized, "invalid_mfa_code")
		if r := env.VerifyMFA("", ch.ChallengeToken, "totp", env.NextTOTPCode(newSecret)); r.Status != http.StatusOK {
			t.Fatalf("verify with the new factor's next code: %d %s", r.Status, r.Body)
		}
	})
}

func enrollReq(access string, body map[string]any) servertest.Request {
	return servertest.Request{Method: "POST", Path: "/auth/mfa/totp/enroll", JSON: body, Bearer: access}
}

func confirmReq(access string, body map[string]any) servertest.Request {
	return servertest.Request{Method: "POST", Path: "/auth/mfa/totp/confirm", JSON: body, Bearer: access}
}

func TestReauth_SecondFactorNeedsARecentSignInOrThePassword(t *testing.T) {
	forStores(t, servertest.Options{}, testReauthSecondFactor)
}

func testReauthSecondFactor(t *testing.T, opts servertest.Options) {
	env, tk := newUser(t, opts)
	env.Clock.Advance(5*time.Minute + time.Second)
	tk = refreshOK(t, env, tk.RefreshToken) // a refresh is not a sign-in

	wantError(t, env.Do(enrollReq(tk.AccessToken, map[string]any{})), http.StatusForbidden, "reauthentication_required")
	wantError(t, env.Do(enrollReq(tk.AccessToken, map[string]any{"password": "not my password"})), http.StatusUnauthorized, "invalid_credentials")
	if n := countAudit(t, env, "reauthentication_failed"); n != 1 {
		t.Fatalf("%d reauthentication_failed events, want 1", n)
	}
	r := env.Do(enrollReq(tk.AccessToken, map[string]any{"password": pw}))
	if r.Status != http.StatusOK {
		t.Fatalf("enroll with the password: %d %s", r.Status, r.Body)
	}
	secret, _ := r.JSON(t)["secret"].(string)
	wantError(t, env.Do(confirmReq(tk.AccessToken, map[string]any{"code": env.TOTPCode(secret)})), http.StatusForbidden, "reauthentication_required")
	if r := env.Do(confirmReq(tk.AccessToken, map[string]any{"code": env.TOTPCode(secret), "password": pw})); r.Status != http.StatusOK {
		t.Fatalf("confirm with the password: %d %s", r.Status, r.Body)
	}

	// A fresh sign-in needs no password (it answers a challenge now).
	ch := env.LoginChallenged("", "alice", pw)
	r = env.VerifyMFA("", ch.ChallengeToken, "totp", env.NextTOTPCode(secret))
	if r.Status != http.StatusOK {
		t.Fatalf("verify: %d %s", r.Status, r.Body)
	}
	var fresh servertest.Tokens
	r.Decode(t, &fresh)
	if r := env.Do(enrollReq(fresh.AccessToken, map[string]any{"code": env.NextTOTPCode(secret)})); r.Status != http.StatusOK {
		t.Fatalf("re-enrol in a fresh session: %d %s", r.Status, r.Body)
	}
}

func TestReauth_PasswordChangeWithoutOldPasswordOnlyInAFreshSession(t *testing.T) {
	env, tk := newUser(t, servertest.Options{})
	if r := changePassword(env, tk.AccessToken, map[string]any{"new_password": "a brand new password"}); r.Status != http.StatusNoContent {
		t.Fatalf("change in a fresh session without old_password: %d %s", r.Status, r.Body)
	}
	tk = env.Login("", "alice", "a brand new password")
	env.Clock.Advance(6 * time.Minute)
	wantError(t, changePassword(env, tk.AccessToken, map[string]any{"new_password": "another new password"}),
		http.StatusForbidden, "reauthentication_required")
	if r := changePassword(env, tk.AccessToken, map[string]any{"old_password": "a brand new password", "new_password": "another new password"}); r.Status != http.StatusNoContent {
		t.Fatalf("change with old_password in an older session: %d %s", r.Status, r.Body)
	}
}

func TestReauth_MaxAgeZeroAlwaysAsksForThePassword(t *testing.T) {
	env, tk := newUser(t, servertest.Options{Env: map[string]string{"GATEHOUSE_REAUTH_MAX_AGE": "0"}})
	wantError(t, env.Do(enrollReq(tk.AccessToken, map[string]any{})), http.StatusForbidden, "reauthentication_required")
	wantError(t, changePassword(env, tk.AccessToken, map[string]any{"new_password": "a brand new password"}),
		http.StatusForbidden, "reauthentication_required")
	if r := env.Do(enrollReq(tk.AccessToken, map[string]any{"password": pw})); r.Status != http.StatusOK {
		t.Fatalf("enroll with the password: %d %s", r.Status, r.Body)
	}
}
