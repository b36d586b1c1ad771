package openapi_test

import (
	"net/http"
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/server/servertest"
)

func init() {
	register(family{name: "wellknown", exercise: exerciseWellKnown})
}

// exerciseWellKnown covers /.well-known/*: the key set holds a key of
// every algorithm, so that each key type is checked against the JWK schema.
func exerciseWellKnown(t *testing.T, env *servertest.Env, check checkFunc) {
	for _, alg := range []string{"ES256", "RS256"} {
		check(call{Method: "POST", Path: "/admin/keys/rotate", JSON: map[string]any{"alg": alg}, Bearer: servertest.AdminKey, Want: http.StatusOK})
	}
	r := check(call{Method: "GET", Path: "/.well-known/jwks.json", Want: http.StatusOK})
	var set struct {
		Keys []struct {
			Kty string `json:"kty"`
		} `json:"keys"`
	}
	r.Decode(t, &set)
	kinds := map[string]bool{}
	for _, k := range set.Keys {
		kinds[k.Kty] = true
	}
	if !kinds["OKP"] || !kinds["EC"] || !kinds["RSA"] {
		t.Errorf("the key set lacks a key type: %s", r.Body)
	}
	d := check(call{Method: "GET", Path: "/.well-known/openid-configuration", Want: http.StatusOK}).JSON(t)
	if d["issuer"] != "http://gatehouse.test" {
		t.Errorf("issuer %v", d["issuer"])
	}
}
