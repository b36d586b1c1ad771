package openapi_test

import (
	"net/http"
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/server/servertest"
)

func init() {
	register(family{name: "admin", exercise: exerciseAdmin})
}

// exerciseAdmin covers /admin/*.
func exerciseAdmin(t *testing.T, env *servertest.Env, check checkFunc) {
	const key = servertest.AdminKey
	admin := func(method, path string, body any, want int) *servertest.Response {
		t.Helper()
		return check(call{Method: method, Path: path, JSON: body, Bearer: key, Want: want})
	}
	invalid := func(method, path string, body any, want int) {
		t.Helper()
		check(call{Method: method, Path: path, JSON: body, Bearer: key, Want: want, Invalid: true})
	}

	// A user administrator of the default tenant, and a user without the role.
	env.CreateUser("", map[string]any{"username": "root", "password": nativePassword, "roles": []string{"admin"}})
	rootToken := env.Login("", "root", nativePassword).AccessToken
	env.CreateUser("", map[string]any{"username": "bob", "password": nativePassword})
	bobToken := env.Login("", "bob", nativePassword).AccessToken

	t.Run("tenants", func(t *testing.T) {
		admin("POST", "/admin/tenants", map[string]any{"id": "acme", "name": "Acme"}, http.StatusCreated)
		admin("POST", "/admin/tenants", map[string]any{"id": "acme"}, http.StatusConflict)
		invalid("POST", "/admin/tenants", map[string]any{"name": "no id"}, http.StatusBadRequest)
		invalid("POST", "/admin/tenants", map[string]any{"id": "not valid!"}, http.StatusBadRequest)
		check(call{Method: "POST", Path: "/admin/tenants", JSON: map[string]any{"id": "mine"}, Bearer: rootToken, Want: http.StatusForbidden})
		check(call{Method: "POST", Path: "/admin/tenants", JSON: oversized(map[string]any{"id": "big"}), Bearer: key, Want: http.StatusRequestEntityTooLarge})
		admin("GET", "/admin/tenants", nil, http.StatusOK)
		check(call{Method: "GET", Path: "/admin/tenants", Bearer: rootToken, Want: http.StatusForbidden})
	})

	var userID string
	t.Run("users", func(t *testing.T) {
		r := admin("POST", "/admin/users", map[string]any{
			"id": "u-1", "username": "carol", "email": "carol@example.com", "phone": "+15550111",
			"display_name": "Carol", "avatar_url": "https://example.com/carol.png", "groups": []string{"staff"},
			"roles": []string{"editor"}, "attributes": map[string]any{"depId": []any{7}}, "password": nativePassword,
			"must_change_password": false, "status": "active",
		}, http.StatusCreated)
		userID = r.JSON(t)["id"].(string)
		admin("POST", "/admin/users", map[string]any{"username": "nopassword"}, http.StatusCreated)
		check(call{Method: "POST", Path: "/admin/users", JSON: map[string]any{"username": "dave"}, Bearer: rootToken, Want: http.StatusCreated})
		admin("POST", "/admin/users", map[string]any{"username": "CAROL"}, http.StatusConflict)
		admin("POST", "/admin/users", map[string]any{"username": "erin", "password": "short"}, http.StatusBadRequest)
		invalid("POST", "/admin/users", map[string]any{"username": "erin", "password": nativePassword, "password_hash": "$2b$10$x"}, http.StatusBadRequest)
		invalid("POST", "/admin/users", map[string]any{"email": "no-username@example.com"}, http.StatusBadRequest)
		check(call{Method: "POST", Path: "/admin/users", JSON: map[string]any{"username": "erin"}, Bearer: key,
			Header: map[string]string{"X-Tenant-ID": "no-such-tenant"}, Want: http.StatusNotFound})
		check(call{Method: "POST", Path: "/admin/users", JSON: oversized(map[string]any{"username": "erin"}), Bearer: key, Want: http.StatusRequestEntityTooLarge})

		r = admin("GET", "/admin/users?limit=1", nil, http.StatusOK)
		next, _ := r.JSON(t)["next"].(string)
		if next == "" {
			t.Fatalf("a full page has no next: %s", r.Body)
		}
		admin("GET", "/admin/users?limit=1000&after="+next, nil, http.StatusOK)
		invalid("GET", "/admin/users?limit=0", nil, http.StatusBadRequest)
		invalid("GET", "/admin/users?limit=many", nil, http.StatusBadRequest)

		admin("GET", "/admin/users/"+userID, nil, http.StatusOK)
		admin("GET", "/admin/users/no-such-user", nil, http.StatusNotFound)

		path := "/admin/users/" + userID
		admin("PATCH", path, map[string]any{
			"display_name": "Carol C.", "roles": []string{"editor", "viewer"}, "groups": []string{}, "attributes": map[string]any{},
			"must_change_password": false, "password_changed_at": "2029-12-01T00:00:00Z", "password": "another fine password",
		}, http.StatusOK)
		admin("PATCH", path, map[string]any{"status": "locked"}, http.StatusOK)
		admin("PATCH", path, map[string]any{"status": "active"}, http.StatusOK)
		admin("PATCH", path, map[string]any{"username": "bob"}, http.StatusConflict)
		admin("PATCH", "/admin/users/no-such-user", map[string]any{"display_name": "x"}, http.StatusNotFound)
		admin("PATCH", path, map[string]any{"email": "not an address"}, http.StatusBadRequest)
		invalid("PATCH", path, map[string]any{"password_changed_at": "yesterday"}, http.StatusBadRequest)
		admin("PATCH", path, map[string]any{"password_hash": "$scrypt$ln=8,r=8,p=1$WKs1xljLudd6z9kbY0wpJQ$yCR4iDZYDKv+iEJj6yHY0lv/epnfB6f/w1EbXrsJOuQ"}, http.StatusOK)
		admin("PATCH", path, map[string]any{"password_hash": "$argon2id$v=19$m=1048576,t=64,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc"}, http.StatusBadRequest)
		invalid("PATCH", path, map[string]any{"password": "another fine password", "password_hash": "$2b$10$x"}, http.StatusBadRequest)
		admin("PATCH", path, map[string]any{"password": "another fine password"}, http.StatusOK)
		invalid("PATCH", path, map[string]any{"status": "asleep"}, http.StatusBadRequest)
		check(call{Method: "PATCH", Path: path, JSON: oversized(map[string]any{"display_name": "x"}), Bearer: key, Want: http.StatusRequestEntityTooLarge})
	})

	t.Run("sessions", func(t *testing.T) {
		env.Login("", "carol", "another fine password")
		env.Login("", "carol", "another fine password")
		r := admin("GET", "/admin/users/"+userID+"/sessions", nil, http.StatusOK)
		var list struct {
			Sessions []struct {
				ID string `json:"id"`
			} `json:"sessions"`
		}
		r.Decode(t, &list)
		if len(list.Sessions) != 2 {
			t.Fatalf("sessions: %s", r.Body)
		}
		admin("GET", "/admin/users/no-such-user/sessions", nil, http.StatusNotFound)
		admin("DELETE", "/admin/sessions/"+list.Sessions[0].ID, nil, http.StatusNoContent)
		admin("DELETE", "/admin/sessions/no-such-session", nil, http.StatusNotFound)
		admin("DELETE", "/admin/users/"+userID+"/sessions", nil, http.StatusNoContent)
		admin("DELETE", "/admin/users/no-such-user/sessions", nil, http.StatusNotFound)
	})

	t.Run("keys", func(t *testing.T) {
		admin("POST", "/admin/keys/rotate", nil, http.StatusOK)
		admin("POST", "/admin/keys/rotate", map[string]any{"alg": "ES256"}, http.StatusOK)
		invalid("POST", "/admin/keys/rotate", map[string]any{"alg": "HS256"}, http.StatusBadRequest)
		check(call{Method: "POST", Path: "/admin/keys/rotate", Bearer: rootToken, Want: http.StatusForbidden})
		check(call{Method: "POST", Path: "/admin/keys/rotate", JSON: oversized(nil), Bearer: key, Want: http.StatusRequestEntityTooLarge})
	})

	t.Run("audit", func(t *testing.T) {
		r := admin("GET", "/admin/audit", nil, http.StatusOK)
		if n := len(r.JSON(t)["events"].([]any)); n == 0 {
			t.Fatal("no audit events")
		}
		admin("GET", "/admin/audit?user_id="+userID+"&type=user_updated&limit=5", nil, http.StatusOK)
		invalid("GET", "/admin/audit?limit=5000", nil, http.StatusBadRequest)
	})

	t.Run("username collisions", func(t *testing.T) {
		admin("GET", "/admin/username-collisions", nil, http.StatusOK)
	})

	t.Run("delete", func(t *testing.T) {
		admin("DELETE", "/admin/users/"+userID, nil, http.StatusNoContent)
		admin("DELETE", "/admin/users/"+userID, nil, http.StatusNotFound)
	})

	// The failures every admin operation shares.
	ops := []struct {
		method, path string
		body         any
	}{
		{"POST", "/admin/tenants", map[string]any{"id": "t2"}},
		{"GET", "/admin/tenants", nil},
		{"POST", "/admin/users", map[string]any{"username": "frank"}},
		{"GET", "/admin/users", nil},
		{"GET", "/admin/users/u-1", nil},
		{"PATCH", "/admin/users/u-1", map[string]any{"display_name": "x"}},
		{"DELETE", "/admin/users/u-1", nil},
		{"GET", "/admin/users/u-1/sessions", nil},
		{"DELETE", "/admin/users/u-1/sessions", nil},
		{"DELETE", "/admin/sessions/s-1", nil},
		{"POST", "/admin/keys/rotate", map[string]any{}},
		{"GET", "/admin/audit", nil},
		{"GET", "/admin/username-collisions", nil},
	}
	t.Run("authorization", func(t *testing.T) {
		for _, op := range ops {
			check(call{Method: op.method, Path: op.path, JSON: op.body, Want: http.StatusUnauthorized, Invalid: true})
			check(call{Method: op.method, Path: op.path, JSON: op.body, Bearer: "not-the-admin-key", Want: http.StatusUnauthorized})
			check(call{Method: op.method, Path: op.path, JSON: op.body, Bearer: bobToken, Want: http.StatusForbidden})
			check(call{Method: op.method, Path: op.path, JSON: op.body, Bearer: key, Header: badTenant, Want: http.StatusBadRequest, Invalid: true})
			if op.body != nil {
				check(call{Method: op.method, Path: op.path, Raw: []byte("x"), Header: textPlain, Bearer: key, Want: http.StatusUnsupportedMediaType, Invalid: true})
			}
		}
	})

	t.Run("unavailable", func(t *testing.T) {
		down, checkDown := startServer(t, servertest.Options{})
		if err := down.Server.Store.Close(); err != nil {
			t.Fatalf("close store: %v", err)
		}
		for _, op := range ops {
			checkDown(call{Method: op.method, Path: op.path, JSON: op.body, Bearer: key, Want: http.StatusServiceUnavailable})
		}
	})
}
