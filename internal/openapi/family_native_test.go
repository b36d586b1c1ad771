package openapi_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/server/servertest"
)

func init() {
	// Passwords expire, so that the optional password fields appear.
	register(family{
		name:     "native",
		opts:     servertest.Options{Env: map[string]string{"GATEHOUSE_PASSWORD_MAX_AGE": "90d"}},
		exercise: exerciseNative,
	})
}

const nativePassword = "correct horse battery"

// oversized is a JSON body over the 64 KiB limit that the document accepts.
func oversized(fields map[string]any) map[string]any {
	out := map[string]any{"padding": strings.Repeat("x", 70<<10)}
	for k, v := range fields {
		out[k] = v
	}
	return out
}

var (
	badTenant = map[string]string{"X-Tenant-ID": "no such tenant!"}
	textPlain = map[string]string{"Content-Type": "text/plain"}
	jsonType  = map[string]string{"Content-Type": "application/json"}
)

// exerciseNative covers /auth/*.
func exerciseNative(t *testing.T, env *servertest.Env, check checkFunc) {
	env.CreateUser("", map[string]any{"username": "alice", "email": "alice@example.com", "phone": "+15550100", "password": nativePassword})
	login := func(user string, want int) map[string]any {
		t.Helper()
		r := check(call{Method: "POST", Path: "/auth/login", JSON: map[string]any{"username": user, "password": nativePassword, "client_id": "gatehouse"}, Want: want})
		return r.JSON(t)
	}
	alice := login("alice", http.StatusOK)
	if _, ok := alice["password_expires_in"]; !ok {
		t.Errorf("password_expires_in missing although passwords expire: %v", alice)
	}
	access, refresh := alice["access_token"].(string), alice["refresh_token"].(string)
	other := login("alice@example.com", http.StatusOK)

	t.Run("login", func(t *testing.T) {
		path := "/auth/login"
		check(call{Method: "POST", Path: path, JSON: map[string]any{"username": "+15550100", "password": nativePassword},
			Header: map[string]string{"X-Tenant-ID": "default"}, Want: http.StatusOK})
		check(call{Method: "POST", Path: path, JSON: map[string]any{"username": "alice", "password": "wrong password 1"}, Want: http.StatusUnauthorized})
		check(call{Method: "POST", Path: path, JSON: map[string]any{"username": "alice"}, Want: http.StatusBadRequest, Invalid: true})
		check(call{Method: "POST", Path: path, Raw: []byte(`{"username": "alice",`), Header: jsonType, Want: http.StatusBadRequest, Invalid: true})
		check(call{Method: "POST", Path: path, JSON: map[string]any{"username": "alice", "password": nativePassword}, Header: badTenant,
			Want: http.StatusBadRequest, Invalid: true})
		check(call{Method: "POST", Path: path, Raw: []byte("username=alice"), Header: textPlain, Want: http.StatusUnsupportedMediaType, Invalid: true})
		check(call{Method: "POST", Path: path, JSON: oversized(map[string]any{"username": "alice", "password": nativePassword}),
			Want: http.StatusRequestEntityTooLarge})

		// client_id must name a client of the tenant; a confidential one
		// authenticates (body or HTTP Basic).
		check(call{Method: "POST", Path: path, JSON: map[string]any{"username": "alice", "password": nativePassword, "client_id": "no-such-client"},
			Want: http.StatusBadRequest})
		conf := env.CreateClient("", "native-app")
		check(call{Method: "POST", Path: path, JSON: map[string]any{"username": "alice", "password": nativePassword, "client_id": conf.ID},
			Want: http.StatusUnauthorized})
		check(call{Method: "POST", Path: path, JSON: map[string]any{"username": "alice", "password": nativePassword, "client_id": conf.ID,
			"client_secret": conf.Secret}, Want: http.StatusOK})
		check(call{Method: "POST", Path: path, JSON: map[string]any{"username": "alice", "password": nativePassword},
			Header: map[string]string{"Authorization": servertest.BasicAuth(conf.ID, conf.Secret)}, Want: http.StatusOK})

		env.CreateUser("", map[string]any{"username": "dora", "password": nativePassword, "status": "disabled"})
		login("dora", http.StatusForbidden)

		for i := 0; i < 5; i++ { // the default limit of failures per username
			check(call{Method: "POST", Path: path, JSON: map[string]any{"username": "nobody", "password": "wrong password 1"}, Want: http.StatusUnauthorized})
		}
		r := check(call{Method: "POST", Path: path, JSON: map[string]any{"username": "nobody", "password": "wrong password 1"}, Want: http.StatusTooManyRequests})
		if r.Header.Get("Retry-After") == "" {
			t.Errorf("429 without Retry-After")
		}
	})

	t.Run("refresh", func(t *testing.T) {
		path := "/auth/refresh"
		r := check(call{Method: "POST", Path: path, JSON: map[string]any{"refresh_token": refresh}, Want: http.StatusOK})
		access = r.JSON(t)["access_token"].(string)
		check(call{Method: "POST", Path: path, JSON: map[string]any{"refresh_token": "not-a-refresh-token"}, Want: http.StatusBadRequest})
		check(call{Method: "POST", Path: path, JSON: map[string]any{}, Want: http.StatusBadRequest, Invalid: true})
		check(call{Method: "POST", Path: path, JSON: map[string]any{"refresh_token": refresh}, Header: badTenant, Want: http.StatusBadRequest, Invalid: true})
		check(call{Method: "POST", Path: path, Raw: []byte("refresh_token=x"), Header: textPlain, Want: http.StatusUnsupportedMediaType, Invalid: true})
		check(call{Method: "POST", Path: path, JSON: oversized(map[string]any{"refresh_token": "x"}), Want: http.StatusRequestEntityTooLarge})
	})

	// An administrator's must_change_password restricts the tokens to a
	// password change.
	env.CreateUser("", map[string]any{"username": "rita", "password": nativePassword, "must_change_password": true})
	rita := login("rita", http.StatusOK)
	if rita["must_change_password"] != true || rita["password_warning"] != "expired" {
		t.Errorf("restricted sign-in: %v", rita)
	}
	restricted := rita["access_token"].(string)

	// The failures every bearer operation shares.
	bearerOps := []struct {
		method, path string
		body         any
		restrictedOK bool
	}{
		{"POST", "/auth/logout", nil, false},
		{"GET", "/auth/me", nil, false},
		{"GET", "/auth/sessions", nil, false},
		{"DELETE", "/auth/sessions/no-such-session", nil, false},
		{"POST", "/auth/password/change", map[string]any{"old_password": "a", "new_password": "b"}, true},
	}
	t.Run("bearer", func(t *testing.T) {
		for _, op := range bearerOps {
			check(call{Method: op.method, Path: op.path, JSON: op.body, Want: http.StatusUnauthorized, Invalid: true})
			check(call{Method: op.method, Path: op.path, JSON: op.body, Bearer: "not.a.token", Want: http.StatusUnauthorized})
			check(call{Method: op.method, Path: op.path, JSON: op.body, Bearer: access, Header: badTenant, Want: http.StatusBadRequest, Invalid: true})
			if !op.restrictedOK {
				check(call{Method: op.method, Path: op.path, JSON: op.body, Bearer: restricted, Want: http.StatusForbidden})
			}
		}
	})

	t.Run("me and sessions", func(t *testing.T) {
		check(call{Method: "GET", Path: "/auth/me", Bearer: access, Want: http.StatusOK})
		// The session of the other sign-in, as its own token sees it.
		r := check(call{Method: "GET", Path: "/auth/sessions", Bearer: other["access_token"].(string), Header: map[string]string{"X-Tenant-ID": "default"},
			Want: http.StatusOK})
		var list struct {
			Sessions []struct {
				ID      string `json:"id"`
				Current bool   `json:"current"`
			} `json:"sessions"`
		}
		r.Decode(t, &list)
		var victim string
		for _, s := range list.Sessions {
			if s.Current {
				victim = s.ID
			}
		}
		if victim == "" {
			t.Fatalf("no current session: %s", r.Body)
		}
		check(call{Method: "DELETE", Path: "/auth/sessions/" + victim, Bearer: access, Want: http.StatusNoContent})
		check(call{Method: "DELETE", Path: "/auth/sessions/" + victim + "x", Bearer: access, Want: http.StatusNotFound})
		check(call{Method: "GET", Path: "/auth/me", Bearer: other["access_token"].(string), Want: http.StatusUnauthorized})
	})

	t.Run("password change", func(t *testing.T) {
		path := "/auth/password/change"
		check(call{Method: "POST", Path: path, Bearer: restricted, JSON: map[string]any{"old_password": "wrong password 1", "new_password": "a brand new password"},
			Want: http.StatusUnauthorized})
		check(call{Method: "POST", Path: path, Bearer: restricted, JSON: map[string]any{"old_password": nativePassword, "new_password": "short"},
			Want: http.StatusBadRequest})
		check(call{Method: "POST", Path: path, Bearer: restricted, JSON: map[string]any{"old_password": nativePassword}, Want: http.StatusBadRequest, Invalid: true})
		check(call{Method: "POST", Path: path, Bearer: restricted, Raw: []byte("x"), Header: textPlain, Want: http.StatusUnsupportedMediaType, Invalid: true})
		check(call{Method: "POST", Path: path, Bearer: restricted, JSON: oversized(map[string]any{"old_password": nativePassword, "new_password": "a brand new password"}),
			Want: http.StatusRequestEntityTooLarge})
		check(call{Method: "POST", Path: path, Bearer: restricted, JSON: map[string]any{"old_password": nativePassword, "new_password": "a brand new password"},
			Want: http.StatusNoContent})
	})

	t.Run("logout", func(t *testing.T) {
		check(call{Method: "POST", Path: "/auth/logout", Bearer: access, Want: http.StatusNoContent})
		check(call{Method: "POST", Path: "/auth/logout", Bearer: access, Want: http.StatusUnauthorized})
	})

	t.Run("password expiry", func(t *testing.T) {
		env.Clock.Advance(80 * 24 * time.Hour) // within the 14-day warning window
		r := login("alice", http.StatusOK)
		if r["password_warning"] != "expiring" {
			t.Errorf("password_warning %v, want expiring", r["password_warning"])
		}
		me := check(call{Method: "GET", Path: "/auth/me", Bearer: r["access_token"].(string), Want: http.StatusOK}).JSON(t)
		if me["password_warning"] != "expiring" {
			t.Errorf("UserInfo password_warning %v, want expiring", me["password_warning"])
		}
		env.Clock.Advance(15 * 24 * time.Hour) // expired, within the grace period
		if r := login("alice", http.StatusOK); r["password_warning"] != "expired_grace" {
			t.Errorf("password_warning %v, want expired_grace", r["password_warning"])
		}
	})

	t.Run("unavailable", func(t *testing.T) {
		down, checkDown := startServer(t, servertest.Options{})
		down.CreateUser("", map[string]any{"username": "alice", "password": nativePassword})
		tk := down.Login("", "alice", nativePassword)
		if err := down.Server.Store.Close(); err != nil {
			t.Fatalf("close store: %v", err)
		}
		checkDown(call{Method: "POST", Path: "/auth/login", JSON: map[string]any{"username": "alice", "password": nativePassword}, Want: http.StatusServiceUnavailable})
		checkDown(call{Method: "POST", Path: "/auth/refresh", JSON: map[string]any{"refresh_token": tk.RefreshToken}, Want: http.StatusServiceUnavailable})
		for _, op := range bearerOps {
			body := op.body
			if op.path == "/auth/password/change" {
				body = map[string]any{"old_password": nativePassword, "new_password": "a brand new password"}
			}
			checkDown(call{Method: op.method, Path: op.path, JSON: body, Bearer: tk.AccessToken, Want: http.StatusServiceUnavailable})
		}
	})
}
