package openapi_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/server/servertest"
)

func init() {
	register(family{name: "mfa", exercise: exerciseMFA})
}

// exerciseMFA covers the second factor: /auth/mfa/verify,
// /auth/mfa/totp/enroll, /auth/mfa/totp/confirm and /admin/users/{id}/mfa,
// with the challenged LoginResponse of /auth/login.
func exerciseMFA(t *testing.T, env *servertest.Env, check checkFunc) {
	uid := env.CreateUser("", map[string]any{"username": "alice", "password": nativePassword})
	env.CreateUser("", map[string]any{"username": "rita", "password": nativePassword, "must_change_password": true})
	env.CreateUser("", map[string]any{"username": "bob", "password": nativePassword})
	access := env.Login("", "alice", nativePassword).AccessToken
	restricted := env.Login("", "rita", nativePassword).AccessToken
	wrong := func(secret string) string {
		if env.TOTPCode(secret) == "000000" {
			return "111111"
		}
		return "000000"
	}

	// Enrolment.
	enroll, confirm := "/auth/mfa/totp/enroll", "/auth/mfa/totp/confirm"
	check(call{Method: "POST", Path: enroll, Want: http.StatusUnauthorized, Invalid: true})
	check(call{Method: "POST", Path: enroll, Bearer: "not.a.token", Want: http.StatusUnauthorized})
	check(call{Method: "POST", Path: enroll, Bearer: restricted, Want: http.StatusForbidden})
	check(call{Method: "POST", Path: enroll, Bearer: access, Raw: []byte("{"), Header: jsonType, Want: http.StatusBadRequest, Invalid: true})
	check(call{Method: "POST", Path: enroll, Bearer: access, Raw: []byte("x"), Header: textPlain, Want: http.StatusUnsupportedMediaType, Invalid: true})
	check(call{Method: "POST", Path: enroll, Bearer: access, JSON: oversized(nil), Want: http.StatusRequestEntityTooLarge})
	check(call{Method: "POST", Path: confirm, Bearer: access, JSON: map[string]any{"code": "123456"}, Want: http.StatusBadRequest})
	check(call{Method: "POST", Path: enroll, Bearer: access, Want: http.StatusOK}) // no body at all
	secret := check(call{Method: "POST", Path: enroll, Bearer: access, JSON: map[string]any{}, Want: http.StatusOK}).JSON(t)["secret"].(string)

	check(call{Method: "POST", Path: confirm, Want: http.StatusUnauthorized, JSON: map[string]any{"code": "1"}, Invalid: true})
	check(call{Method: "POST", Path: confirm, Bearer: restricted, JSON: map[string]any{"code": "1"}, Want: http.StatusForbidden})
	check(call{Method: "POST", Path: confirm, Bearer: access, JSON: map[string]any{}, Want: http.StatusBadRequest, Invalid: true})
	check(call{Method: "POST", Path: confirm, Bearer: access, Raw: []byte("code=1"), Header: textPlain, Want: http.StatusUnsupportedMediaType, Invalid: true})
	check(call{Method: "POST", Path: confirm, Bearer: access, JSON: oversized(map[string]any{"code": "1"}), Want: http.StatusRequestEntityTooLarge})
	check(call{Method: "POST", Path: confirm, Bearer: access, JSON: map[string]any{"code": wrong(secret)}, Want: http.StatusUnauthorized})
	check(call{Method: "POST", Path: confirm, Bearer: access, JSON: map[string]any{"code": env.TOTPCode(secret)}, Want: http.StatusOK})
	env.Clock.Advance(servertest.TOTPPeriod)
	// Replacing the active factor needs its code.
	check(call{Method: "POST", Path: enroll, Bearer: access, JSON: map[string]any{}, Want: http.StatusUnauthorized})

	// A challenged sign-in and its verification.
	loginBody := map[string]any{"username": "alice", "password": nativePassword}
	challenge := func() string {
		t.Helper()
		r := check(call{Method: "POST", Path: "/auth/login", JSON: loginBody, Want: http.StatusOK}).JSON(t)
		if r["requires_mfa"] != true {
			t.Fatalf("sign-in of an enrolled user not challenged: %v", r)
		}
		return r["challenge_token"].(string)
	}
	verify := "/auth/mfa/verify"
	ch := challenge()
	check(call{Method: "POST", Path: verify, JSON: map[string]any{"challenge_token": ch, "method": "totp"}, Want: http.StatusBadRequest, Invalid: true})
	check(call{Method: "POST", Path: verify, JSON: map[string]any{"challenge_token": ch, "method": "sms", "code": "1"}, Want: http.StatusBadRequest, Invalid: true})
	check(call{Method: "POST", Path: verify, Raw: []byte("{"), Header: jsonType, Want: http.StatusBadRequest, Invalid: true})
	check(call{Method: "POST", Path: verify, Raw: []byte("a=b"), Header: textPlain, Want: http.StatusUnsupportedMediaType, Invalid: true})
	check(call{Method: "POST", Path: verify, JSON: oversized(map[string]any{"challenge_token": ch, "method": "totp", "code": "1"}), Want: http.StatusRequestEntityTooLarge})
	check(call{Method: "POST", Path: verify, JSON: map[string]any{"challenge_token": "unknown", "method": "totp", "code": "123456"}, Want: http.StatusBadRequest})
	check(call{Method: "POST", Path: verify, JSON: map[string]any{"challenge_token": ch, "method": "totp", "code": wrong(secret)}, Want: http.StatusUnauthorized})
	r := check(call{Method: "POST", Path: verify, JSON: map[string]any{"challenge_token": ch, "method": "totp", "code": env.TOTPCode(secret)}, Want: http.StatusOK})
	if r.JSON(t)["access_token"] == nil {
		t.Errorf("verify answered no tokens: %s", r.Body)
	}

	// Ten wrong codes lock the second factor (the success above forgot the earlier ones).
	for _, n := range []int{5, 5} {
		ch = challenge()
		for range n {
			check(call{Method: "POST", Path: verify, JSON: map[string]any{"challenge_token": ch, "method": "recovery_code", "code": "nope"}, Want: http.StatusUnauthorized})
		}
	}
	check(call{Method: "POST", Path: verify, JSON: map[string]any{"challenge_token": challenge(), "method": "totp", "code": "123456"}, Want: http.StatusTooManyRequests})
	check(call{Method: "POST", Path: confirm, Bearer: access, JSON: map[string]any{"code": "123456"}, Want: http.StatusBadRequest})
	check(call{Method: "POST", Path: enroll, Bearer: access, JSON: map[string]any{"code": "123456"}, Want: http.StatusTooManyRequests})
	env.Clock.Advance(16 * time.Minute)

	// Disabled meanwhile.
	ch = challenge()
	env.Admin("PATCH", "/admin/users/"+uid, "", map[string]any{"status": "disabled"})
	check(call{Method: "POST", Path: verify, JSON: map[string]any{"challenge_token": ch, "method": "totp", "code": env.TOTPCode(secret)}, Want: http.StatusForbidden})
	env.Admin("PATCH", "/admin/users/"+uid, "", map[string]any{"status": "active"})

	// The support desk's reset.
	reset := "/admin/users/" + uid + "/mfa"
	check(call{Method: "DELETE", Path: reset, Want: http.StatusUnauthorized, Invalid: true})
	bob := env.Login("", "bob", nativePassword).AccessToken
	check(call{Method: "DELETE", Path: reset, Bearer: bob, Want: http.StatusForbidden})
	check(call{Method: "DELETE", Path: reset, Bearer: servertest.AdminKey, Header: badTenant, Want: http.StatusBadRequest, Invalid: true})
	check(call{Method: "DELETE", Path: "/admin/users/nobody/mfa", Bearer: servertest.AdminKey, Want: http.StatusNotFound})
	check(call{Method: "DELETE", Path: reset, Bearer: servertest.AdminKey, Want: http.StatusNoContent})

	// Recent authentication: a session signed in more than 5 minutes ago
	// gives the password, else 403 reauthentication_required.
	env.CreateUser("", map[string]any{"username": "carol", "password": nativePassword})
	older := env.Login("", "carol", nativePassword).AccessToken
	env.Clock.Advance(6 * time.Minute)
	check(call{Method: "POST", Path: enroll, Bearer: older, JSON: map[string]any{}, Want: http.StatusForbidden})
	check(call{Method: "POST", Path: confirm, Bearer: older, JSON: map[string]any{"code": "123456"}, Want: http.StatusForbidden})
	check(call{Method: "POST", Path: "/auth/password/change", Bearer: older, JSON: map[string]any{"new_password": "a brand new password"}, Want: http.StatusForbidden})
	check(call{Method: "POST", Path: enroll, Bearer: older, JSON: map[string]any{"password": "not the password"}, Want: http.StatusUnauthorized})
	check(call{Method: "POST", Path: enroll, Bearer: older, JSON: map[string]any{"password": nativePassword}, Want: http.StatusOK})
	for range 5 {
		check(call{Method: "POST", Path: "/auth/password/change", Bearer: older,
			JSON: map[string]any{"old_password": "not the password", "new_password": "a brand new password"}, Want: http.StatusUnauthorized})
	}
	check(call{Method: "POST", Path: "/auth/password/change", Bearer: older,
		JSON: map[string]any{"old_password": nativePassword, "new_password": "a brand new password"}, Want: http.StatusTooManyRequests})
}
