package openapi_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/server/servertest"
)

func init() {
	register(family{name: "clients", exercise: exerciseClients})
}

// exerciseClients covers /admin/clients*.
func exerciseClients(t *testing.T, env *servertest.Env, check checkFunc) {
	const key = servertest.AdminKey
	admin := func(method, path string, body any, want int) *servertest.Response {
		t.Helper()
		return check(call{Method: method, Path: path, JSON: body, Bearer: key, Want: want})
	}
	r := admin("POST", "/admin/clients", map[string]any{"name": "shop", "grant_types": []string{"refresh_token", "password"}, "scopes": []string{"openid"}}, http.StatusCreated)
	id := r.JSON(t)["client_id"].(string)
	admin("POST", "/admin/clients", map[string]any{"name": "spa", "public": true}, http.StatusCreated)
	check(call{Method: "POST", Path: "/admin/clients", JSON: map[string]any{}, Bearer: key, Want: http.StatusBadRequest, Invalid: true})
	check(call{Method: "POST", Path: "/admin/clients", JSON: map[string]any{"name": "x", "grant_types": []string{"implicit"}}, Bearer: key, Want: http.StatusBadRequest, Invalid: true})
	check(call{Method: "POST", Path: "/admin/clients", JSON: map[string]any{"name": "x", "public": true, "grant_types": []string{"client_credentials"}}, Bearer: key, Want: http.StatusBadRequest})
	check(call{Method: "POST", Path: "/admin/clients", Raw: []byte("name=x"), Header: map[string]string{"Content-Type": "text/plain"}, Bearer: key, Want: http.StatusUnsupportedMediaType, Invalid: true})
	check(call{Method: "POST", Path: "/admin/clients", JSON: map[string]any{"name": "big", "padding": strings.Repeat("x", 70<<10)}, Bearer: key, Want: http.StatusRequestEntityTooLarge})
	check(call{Method: "POST", Path: "/admin/clients", JSON: map[string]any{"name": "x"}, Header: map[string]string{"X-Tenant-ID": "no-such-tenant"}, Bearer: key, Want: http.StatusNotFound})
	check(call{Method: "GET", Path: "/admin/clients", Bearer: "wrong", Want: http.StatusUnauthorized})
	check(call{Method: "GET", Path: "/admin/clients", Bearer: key, Header: map[string]string{"X-Tenant-ID": "bad tenant!"}, Want: http.StatusBadRequest, Invalid: true})

	admin("GET", "/admin/clients", nil, http.StatusOK)
	admin("GET", "/admin/clients/"+id, nil, http.StatusOK)
	admin("GET", "/admin/clients/nope", nil, http.StatusNotFound)
	admin("POST", "/admin/clients/"+id+"/secret", nil, http.StatusOK)
	admin("POST", "/admin/clients/nope/secret", nil, http.StatusNotFound)
	admin("DELETE", "/admin/clients/"+id, nil, http.StatusNoContent)
	admin("DELETE", "/admin/clients/"+id, nil, http.StatusNotFound)

	// A user without the admin role.
	env.CreateUser("", map[string]any{"username": "clara", "password": nativePassword})
	check(call{Method: "GET", Path: "/admin/clients", Bearer: env.Login("", "clara", nativePassword).AccessToken, Want: http.StatusForbidden})
}
