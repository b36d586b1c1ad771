package openapi_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/federation/fedtest"
	"github.com/gatehouse-auth/gatehouse/internal/server/servertest"
)

func init() {
	register(family{name: "federation", exercise: exerciseFederation})
}

// exerciseFederation covers one-time tickets and ID-token sign-in:
// /auth/ticket/signin, /auth/id-token/signin, /admin/tickets and
// /admin/providers.
func exerciseFederation(t *testing.T, env *servertest.Env, check checkFunc) {
	const key = servertest.AdminKey
	admin := func(method, path string, body any, want int) *servertest.Response {
		t.Helper()
		return check(call{Method: method, Path: path, JSON: body, Bearer: key, Want: want})
	}
	invalid := func(method, path string, body any, want int) {
		t.Helper()
		check(call{Method: method, Path: path, JSON: body, Bearer: key, Want: want, Invalid: true})
	}
	uid := env.CreateUser("", map[string]any{"username": "alice", "email": "alice@example.com", "password": nativePassword})
	env.CreateUser("", map[string]any{"username": "bob", "password": nativePassword})
	bobToken := env.Login("", "bob", nativePassword).AccessToken

	t.Run("tickets", func(t *testing.T) {
		r := admin("POST", "/admin/tickets", map[string]any{"user_id": uid, "purpose": "impersonation", "ttl_seconds": 120}, http.StatusCreated)
		ticket := r.JSON(t)["ticket"].(string)
		signin := func(body any, want int, invalidReq bool) {
			t.Helper()
			check(call{Method: "POST", Path: "/auth/ticket/signin", JSON: body, Want: want, Invalid: invalidReq})
		}
		signin(map[string]any{"ticket": ticket}, http.StatusOK, false)
		signin(map[string]any{"ticket": ticket}, http.StatusBadRequest, false)
		signin(map[string]any{}, http.StatusBadRequest, true)
		check(call{Method: "POST", Path: "/auth/ticket/signin", Raw: []byte("ticket=x"), Header: textPlain, Want: http.StatusUnsupportedMediaType, Invalid: true})
		check(call{Method: "POST", Path: "/auth/ticket/signin", JSON: oversized(map[string]any{"ticket": "x"}), Want: http.StatusRequestEntityTooLarge})

		admin("POST", "/admin/tickets", map[string]any{"user_id": uid}, http.StatusCreated)
		admin("POST", "/admin/tickets", map[string]any{"user_id": "no-such-user"}, http.StatusNotFound)
		invalid("POST", "/admin/tickets", map[string]any{"purpose": "signin"}, http.StatusBadRequest)
		invalid("POST", "/admin/tickets", map[string]any{"user_id": uid, "purpose": "root"}, http.StatusBadRequest)
		invalid("POST", "/admin/tickets", map[string]any{"user_id": uid, "ttl_seconds": 0}, http.StatusBadRequest)
		check(call{Method: "POST", Path: "/admin/tickets", JSON: map[string]any{"user_id": uid}, Want: http.StatusUnauthorized, Invalid: true})
		check(call{Method: "POST", Path: "/admin/tickets", JSON: map[string]any{"user_id": uid}, Bearer: bobToken, Want: http.StatusForbidden})
		check(call{Method: "POST", Path: "/admin/tickets", Raw: []byte("user_id=1"), Header: textPlain, Bearer: key, Want: http.StatusUnsupportedMediaType, Invalid: true})
		check(call{Method: "POST", Path: "/admin/tickets", JSON: oversized(map[string]any{"user_id": uid}), Bearer: key, Want: http.StatusRequestEntityTooLarge})
	})

	idp, strictIdP := fedtest.New(t), fedtest.New(t)
	t.Run("providers", func(t *testing.T) {
		admin("POST", "/admin/providers", map[string]any{
			"name": "corp", "issuer": idp.Issuer, "audiences": []string{"web-app"}, "auto_provision": true,
		}, http.StatusCreated)
		admin("POST", "/admin/providers", map[string]any{
			"name": "strict", "issuer": strictIdP.Issuer, "audiences": []string{"web-app", "mobile"}, "jwks_uri": strictIdP.JWKSURI,
			"algorithms": []string{"ES256"}, "link_by_email": true,
		}, http.StatusCreated)
		admin("POST", "/admin/providers", map[string]any{"name": "corp", "issuer": idp.Issuer, "audiences": []string{"x"}}, http.StatusConflict)
		admin("POST", "/admin/providers", map[string]any{"name": "again", "issuer": idp.Issuer, "audiences": []string{"x"}}, http.StatusConflict)
		admin("POST", "/admin/providers", map[string]any{"name": "bad", "issuer": "ftp://idp", "audiences": []string{"x"}}, http.StatusBadRequest)
		invalid("POST", "/admin/providers", map[string]any{"name": "bad", "issuer": idp.Issuer, "audiences": []string{}}, http.StatusBadRequest)
		invalid("POST", "/admin/providers", map[string]any{"name": "bad", "issuer": idp.Issuer, "audiences": []string{"x"}, "algorithms": []string{"HS256"}}, http.StatusBadRequest)
		invalid("POST", "/admin/providers", map[string]any{"name": "no issuer", "audiences": []string{"x"}}, http.StatusBadRequest)
		check(call{Method: "POST", Path: "/admin/providers", JSON: map[string]any{"name": "t", "issuer": idp.Issuer, "audiences": []string{"x"}},
			Bearer: key, Header: map[string]string{"X-Tenant-ID": "no-such-tenant"}, Want: http.StatusNotFound})
		check(call{Method: "POST", Path: "/admin/providers", JSON: map[string]any{"name": "t", "issuer": idp.Issuer, "audiences": []string{"x"}},
			Bearer: bobToken, Want: http.StatusForbidden})
		check(call{Method: "POST", Path: "/admin/providers", JSON: map[string]any{"name": "t"}, Want: http.StatusUnauthorized, Invalid: true})
		check(call{Method: "POST", Path: "/admin/providers", Raw: []byte("name=t"), Header: textPlain, Bearer: key, Want: http.StatusUnsupportedMediaType, Invalid: true})
		check(call{Method: "POST", Path: "/admin/providers", JSON: oversized(map[string]any{"name": "t", "issuer": idp.Issuer, "audiences": []string{"x"}}),
			Bearer: key, Want: http.StatusRequestEntityTooLarge})

		r := admin("GET", "/admin/providers", nil, http.StatusOK)
		if n := len(r.JSON(t)["providers"].([]any)); n != 2 {
			t.Errorf("%d providers listed, want 2", n)
		}
		check(call{Method: "GET", Path: "/admin/providers", Bearer: key, Header: badTenant, Want: http.StatusBadRequest, Invalid: true})
		check(call{Method: "GET", Path: "/admin/providers", Want: http.StatusUnauthorized, Invalid: true})
		check(call{Method: "GET", Path: "/admin/providers", Bearer: bobToken, Want: http.StatusForbidden})
		admin("GET", "/admin/providers/strict", nil, http.StatusOK)
		admin("GET", "/admin/providers/nope", nil, http.StatusNotFound)
		check(call{Method: "GET", Path: "/admin/providers/corp", Want: http.StatusUnauthorized, Invalid: true})
		check(call{Method: "GET", Path: "/admin/providers/corp", Bearer: bobToken, Want: http.StatusForbidden})
		check(call{Method: "GET", Path: "/admin/providers/corp", Bearer: key, Header: badTenant, Want: http.StatusBadRequest, Invalid: true})
	})

	t.Run("id-token", func(t *testing.T) {
		signin := func(body any, want int, invalidReq bool) {
			t.Helper()
			check(call{Method: "POST", Path: "/auth/id-token/signin", JSON: body, Want: want, Invalid: invalidReq})
		}
		now := env.Clock.Now()
		good := idp.Sign(idp.Claims("sub-1", "web-app", now))
		signin(map[string]any{"id_token": good, "provider": "corp"}, http.StatusOK, false)
		signin(map[string]any{"id_token": good, "provider": "corp"}, http.StatusUnauthorized, false) // replay
		signin(map[string]any{"id_token": idp.SignNone(idp.Claims("sub-2", "web-app", now)), "provider": "corp"}, http.StatusUnauthorized, false)
		signin(map[string]any{"id_token": idp.Sign(idp.Claims("sub-2", "web-app", now)), "provider": "nope"}, http.StatusBadRequest, false)
		signin(map[string]any{"provider": "corp"}, http.StatusBadRequest, true)
		check(call{Method: "POST", Path: "/auth/id-token/signin", Raw: []byte("id_token=x"), Header: textPlain, Want: http.StatusUnsupportedMediaType, Invalid: true})
		check(call{Method: "POST", Path: "/auth/id-token/signin", JSON: oversized(map[string]any{"id_token": "x", "provider": "corp"}), Want: http.StatusRequestEntityTooLarge})

		// A disabled user's identity: 403.
		tk := env.Do(servertest.Request{Method: "POST", Path: "/auth/id-token/signin",
			JSON: map[string]any{"id_token": idp.Sign(idp.Claims("sub-3", "web-app", now)), "provider": "corp"}}).JSON(t)
		sub := federationSubject(t, tk["access_token"].(string))
		env.Admin("PATCH", "/admin/users/"+sub, "", map[string]any{"status": "disabled"})
		env.Clock.Advance(time.Second)
		signin(map[string]any{"id_token": idp.Sign(idp.Claims("sub-3", "web-app", env.Clock.Now())), "provider": "corp"}, http.StatusForbidden, false)
	})

	t.Run("delete provider", func(t *testing.T) {
		admin("DELETE", "/admin/providers/corp", nil, http.StatusNoContent)
		admin("DELETE", "/admin/providers/corp", nil, http.StatusNotFound)
		check(call{Method: "DELETE", Path: "/admin/providers/strict", Want: http.StatusUnauthorized, Invalid: true})
		check(call{Method: "DELETE", Path: "/admin/providers/strict", Bearer: bobToken, Want: http.StatusForbidden})
		check(call{Method: "DELETE", Path: "/admin/providers/strict", Bearer: key, Header: badTenant, Want: http.StatusBadRequest, Invalid: true})
	})

	t.Run("unavailable", func(t *testing.T) {
		down, checkDown := startServer(t, servertest.Options{})
		if err := down.Server.Store.Close(); err != nil {
			t.Fatalf("close store: %v", err)
		}
		provider := map[string]any{"name": "corp", "issuer": idp.Issuer, "audiences": []string{"web-app"}}
		for _, c := range []call{
			{Method: "POST", Path: "/admin/tickets", JSON: map[string]any{"user_id": uid}, Bearer: key},
			{Method: "POST", Path: "/admin/providers", JSON: provider, Bearer: key},
			{Method: "GET", Path: "/admin/providers", Bearer: key},
			{Method: "GET", Path: "/admin/providers/corp", Bearer: key},
			{Method: "DELETE", Path: "/admin/providers/corp", Bearer: key},
			{Method: "POST", Path: "/auth/ticket/signin", JSON: map[string]any{"ticket": "x"}},
			{Method: "POST", Path: "/auth/id-token/signin", JSON: map[string]any{"id_token": "x.y.z", "provider": "corp"}},
		} {
			c.Want = http.StatusServiceUnavailable
			checkDown(c)
		}
	})
}

// federationSubject returns the sub claim of an access token, unverified.
func federationSubject(t *testing.T, jwt string) string {
	t.Helper()
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", jwt)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatalf("payload: %v", err)
	}
	var c struct {
		Sub string `json:"sub"`
	}
	if err := json.Unmarshal(b, &c); err != nil || c.Sub == "" {
		t.Fatalf("payload %s: %v", b, err)
	}
	return c.Sub
}
