package openapi_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/passkeytest"
	"github.com/gatehouse-auth/gatehouse/internal/server/servertest"
)

func init() {
	register(family{name: "passkeys", exercise: exercisePasskeys})
	register(family{name: "passkeys-off", exercise: exercisePasskeysOff,
		opts: servertest.Options{Env: map[string]string{"GATEHOUSE_ISSUER": "http://127.0.0.1:8080"}}})
}

// exercisePasskeys covers registration, sign-in, the second factor and
// the management of passkeys, native and admin, with a software authenticator.
func exercisePasskeys(t *testing.T, env *servertest.Env, check checkFunc) {
	uid := env.CreateUser("", map[string]any{"username": "alice", "email": "alice@example.com", "password": nativePassword})
	env.CreateUser("", map[string]any{"username": "bob", "password": nativePassword})
	access := env.Login("", "alice", nativePassword).AccessToken
	bob := env.Login("", "bob", nativePassword).AccessToken
	a := passkeytest.New(servertest.PasskeyOrigin)
	options := func(c call) servertest.PasskeyOptions {
		t.Helper()
		var o servertest.PasskeyOptions
		check(c).Decode(t, &o)
		return o
	}

	// Registration.
	regOpts := "/auth/passkeys/options"
	check(call{Method: "POST", Path: regOpts, Want: http.StatusUnauthorized, Invalid: true})
	check(call{Method: "POST", Path: regOpts, Bearer: access, Raw: []byte("{"), Header: jsonType, Want: http.StatusBadRequest, Invalid: true})
	check(call{Method: "POST", Path: regOpts, Bearer: access, Raw: []byte("x"), Header: textPlain, Want: http.StatusUnsupportedMediaType, Invalid: true})
	check(call{Method: "POST", Path: regOpts, Bearer: access, JSON: oversized(nil), Want: http.StatusRequestEntityTooLarge})
	check(call{Method: "POST", Path: regOpts, Bearer: access, Want: http.StatusOK}) // no body at all
	o := options(call{Method: "POST", Path: regOpts, Bearer: access, JSON: map[string]any{}, Want: http.StatusOK})
	cred, err := a.Create(o.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	reg := "/auth/passkeys"
	check(call{Method: "POST", Path: reg, Bearer: access, JSON: map[string]any{"credential": cred}, Want: http.StatusBadRequest, Invalid: true})
	check(call{Method: "POST", Path: reg, Bearer: access, Raw: []byte("x"), Header: textPlain, Want: http.StatusUnsupportedMediaType, Invalid: true})
	check(call{Method: "POST", Path: reg, Bearer: access, JSON: oversized(map[string]any{"challenge_token": "x", "credential": cred}), Want: http.StatusRequestEntityTooLarge})
	check(call{Method: "POST", Path: reg, Bearer: bob, JSON: map[string]any{"challenge_token": o.ChallengeToken, "credential": cred}, Want: http.StatusBadRequest})
	o = options(call{Method: "POST", Path: regOpts, Bearer: access, JSON: map[string]any{}, Want: http.StatusOK})
	cred, _ = a.Create(o.PublicKey)
	created := check(call{Method: "POST", Path: reg, Bearer: access, JSON: map[string]any{"challenge_token": o.ChallengeToken, "credential": cred, "name": "Phone"}, Want: http.StatusCreated}).JSON(t)
	pid := created["id"].(string)

	// Listing and renaming.
	check(call{Method: "GET", Path: reg, Want: http.StatusUnauthorized, Invalid: true})
	check(call{Method: "GET", Path: reg, Bearer: access, Want: http.StatusOK})
	one := "/auth/passkeys/" + pid
	check(call{Method: "PATCH", Path: one, Bearer: access, JSON: map[string]any{}, Want: http.StatusBadRequest, Invalid: true})
	check(call{Method: "PATCH", Path: one, Bearer: access, Raw: []byte("x"), Header: textPlain, Want: http.StatusUnsupportedMediaType, Invalid: true})
	check(call{Method: "PATCH", Path: one, Bearer: access, JSON: oversized(map[string]any{"name": "x"}), Want: http.StatusRequestEntityTooLarge})
	check(call{Method: "PATCH", Path: one, Bearer: bob, JSON: map[string]any{"name": "Mine"}, Want: http.StatusNotFound})
	check(call{Method: "PATCH", Path: one, Bearer: access, JSON: map[string]any{"name": "Work phone"}, Want: http.StatusOK})

	// Sign-in.
	signOpts, signin := "/auth/passkey/options", "/auth/passkey/signin"
	check(call{Method: "POST", Path: signOpts, Raw: []byte("{"), Header: jsonType, Want: http.StatusBadRequest, Invalid: true})
	check(call{Method: "POST", Path: signOpts, Raw: []byte("x"), Header: textPlain, Want: http.StatusUnsupportedMediaType, Invalid: true})
	check(call{Method: "POST", Path: signOpts, JSON: oversized(nil), Want: http.StatusRequestEntityTooLarge})
	check(call{Method: "POST", Path: signOpts, Want: http.StatusOK})
	o = options(call{Method: "POST", Path: signOpts, JSON: map[string]any{}, Want: http.StatusOK})
	assertion, _ := a.Get(o.PublicKey)
	check(call{Method: "POST", Path: signin, JSON: map[string]any{"challenge_token": o.ChallengeToken}, Want: http.StatusBadRequest, Invalid: true})
	check(call{Method: "POST", Path: signin, Raw: []byte("x"), Header: textPlain, Want: http.StatusUnsupportedMediaType, Invalid: true})
	check(call{Method: "POST", Path: signin, JSON: oversized(map[string]any{"challenge_token": "x", "credential": assertion}), Want: http.StatusRequestEntityTooLarge})
	a.Origin = "http://evil.test"
	bad, _ := a.Get(o.PublicKey)
	a.Origin = servertest.PasskeyOrigin
	check(call{Method: "POST", Path: signin, JSON: map[string]any{"challenge_token": o.ChallengeToken, "credential": bad}, Want: http.StatusUnauthorized})
	check(call{Method: "POST", Path: signin, JSON: map[string]any{"challenge_token": o.ChallengeToken, "credential": assertion}, Want: http.StatusBadRequest}) // used by the refusal
	o = options(call{Method: "POST", Path: signOpts, JSON: map[string]any{}, Want: http.StatusOK})
	assertion, _ = a.Get(o.PublicKey)
	check(call{Method: "POST", Path: signin, JSON: map[string]any{"challenge_token": o.ChallengeToken, "credential": assertion}, Want: http.StatusOK})

	// A passkey as the second factor.
	ch := check(call{Method: "POST", Path: "/auth/login", JSON: map[string]any{"username": "alice", "password": nativePassword}, Want: http.StatusOK}).JSON(t)["challenge_token"].(string)
	mfaOpts := "/auth/mfa/webauthn/options"
	check(call{Method: "POST", Path: mfaOpts, JSON: map[string]any{}, Want: http.StatusBadRequest, Invalid: true})
	check(call{Method: "POST", Path: mfaOpts, Raw: []byte("x"), Header: textPlain, Want: http.StatusUnsupportedMediaType, Invalid: true})
	check(call{Method: "POST", Path: mfaOpts, JSON: oversized(map[string]any{"challenge_token": ch}), Want: http.StatusRequestEntityTooLarge})
	check(call{Method: "POST", Path: mfaOpts, JSON: map[string]any{"challenge_token": "unknown"}, Want: http.StatusBadRequest})
	o = options(call{Method: "POST", Path: mfaOpts, JSON: map[string]any{"challenge_token": ch}, Want: http.StatusOK})
	assertion, _ = a.Get(o.PublicKey)
	verify := "/auth/mfa/verify"
	check(call{Method: "POST", Path: verify, JSON: map[string]any{"challenge_token": ch, "method": "webauthn"}, Want: http.StatusBadRequest, Invalid: true})
	check(call{Method: "POST", Path: verify, JSON: map[string]any{"challenge_token": ch, "method": "webauthn", "credential": json.RawMessage(bad)}, Want: http.StatusUnauthorized})
	o = options(call{Method: "POST", Path: mfaOpts, JSON: map[string]any{"challenge_token": ch}, Want: http.StatusOK})
	assertion, _ = a.Get(o.PublicKey)
	check(call{Method: "POST", Path: verify, JSON: map[string]any{"challenge_token": ch, "method": "webauthn", "credential": assertion}, Want: http.StatusOK})

	// Admin.
	list := "/admin/users/" + uid + "/passkeys"
	check(call{Method: "GET", Path: list, Want: http.StatusUnauthorized, Invalid: true})
	check(call{Method: "GET", Path: list, Bearer: bob, Want: http.StatusForbidden})
	check(call{Method: "GET", Path: list, Bearer: servertest.AdminKey, Header: badTenant, Want: http.StatusBadRequest, Invalid: true})
	check(call{Method: "GET", Path: "/admin/users/nobody/passkeys", Bearer: servertest.AdminKey, Want: http.StatusNotFound})
	check(call{Method: "GET", Path: list, Bearer: servertest.AdminKey, Want: http.StatusOK})
	rm := list + "/" + pid
	check(call{Method: "DELETE", Path: rm, Want: http.StatusUnauthorized, Invalid: true})
	check(call{Method: "DELETE", Path: rm, Bearer: bob, Want: http.StatusForbidden})
	check(call{Method: "DELETE", Path: rm, Bearer: servertest.AdminKey, Header: badTenant, Want: http.StatusBadRequest, Invalid: true})
	check(call{Method: "DELETE", Path: list + "/nope", Bearer: servertest.AdminKey, Want: http.StatusNotFound})

	// Removing: the owner's, then the admin's of another passkey.
	check(call{Method: "DELETE", Path: one, Want: http.StatusUnauthorized, Invalid: true})
	check(call{Method: "DELETE", Path: one, Bearer: bob, Want: http.StatusNotFound})
	check(call{Method: "DELETE", Path: one, Bearer: access, Want: http.StatusNoContent})
	second := env.RegisterPasskey("", env.Login("", "alice", nativePassword).AccessToken, passkeytest.New(servertest.PasskeyOrigin), "")
	check(call{Method: "DELETE", Path: list + "/" + second, Bearer: servertest.AdminKey, Want: http.StatusNoContent})

	// Recent authentication and the passkey limit's neighbour: a stale session.
	env.Clock.Advance(6 * time.Minute)
	check(call{Method: "POST", Path: regOpts, Bearer: access, JSON: map[string]any{}, Want: http.StatusForbidden})
	check(call{Method: "POST", Path: regOpts, Bearer: access, JSON: map[string]any{"password": "wrong"}, Want: http.StatusUnauthorized})
	check(call{Method: "POST", Path: regOpts, Bearer: access, JSON: map[string]any{"password": nativePassword}, Want: http.StatusOK})
}

// exercisePasskeysOff: with an IP issuer every native passkey route is 404.
func exercisePasskeysOff(t *testing.T, env *servertest.Env, check checkFunc) {
	env.CreateUser("", map[string]any{"username": "alice", "password": nativePassword})
	access := env.Login("", "alice", nativePassword).AccessToken
	check(call{Method: "POST", Path: "/auth/passkey/options", JSON: map[string]any{}, Want: http.StatusNotFound})
	check(call{Method: "POST", Path: "/auth/passkey/signin", JSON: map[string]any{"challenge_token": "x", "credential": map[string]any{"id": "a", "rawId": "a", "type": "public-key", "response": map[string]any{}}}, Want: http.StatusNotFound})
	check(call{Method: "POST", Path: "/auth/passkeys/options", Bearer: access, JSON: map[string]any{}, Want: http.StatusNotFound})
	check(call{Method: "GET", Path: "/auth/passkeys", Bearer: access, Want: http.StatusNotFound})
	check(call{Method: "DELETE", Path: "/auth/passkeys/x", Bearer: access, Want: http.StatusNotFound})
	check(call{Method: "POST", Path: "/auth/mfa/webauthn/options", JSON: map[string]any{"challenge_token": "x"}, Want: http.StatusNotFound})
}
