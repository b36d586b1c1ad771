package openapi_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/server/servertest"
)

func init() {
	register(family{name: "legacy", exercise: exerciseLegacy})
}

// exerciseLegacy covers /bo/api/v3/auth/token/refresh: both casings, the
// platform headers, and the failures (answered with HTTP 200).
func exerciseLegacy(t *testing.T, env *servertest.Env, check checkFunc) {
	env.CreateUser("", map[string]any{"username": "lena", "password": nativePassword, "display_name": "Lena",
		"roles": []string{"editor"}, "attributes": map[string]any{"depId": []any{"d1"}, "areaCode": "0571", "developer": true}})
	refresh := env.Login("", "lena", nativePassword).RefreshToken
	path := func(q url.Values) string { return "/bo/api/v3/auth/token/refresh?" + q.Encode() }
	owner := map[string]string{"XownerId": "default"}
	get := func(q url.Values, header map[string]string, invalid bool) map[string]any {
		t.Helper()
		return check(call{Method: "GET", Path: path(q), Header: header, Want: http.StatusOK, Invalid: invalid}).JSON(t)
	}
	next := func(m map[string]any, key string) string {
		t.Helper()
		d, _ := m["data"].(map[string]any)
		s, _ := d[key].(string)
		if s == "" {
			t.Fatalf("no %s in %v", key, m)
		}
		return s
	}

	m := get(url.Values{"refreshToken": {refresh}}, owner, false)
	rotated := refresh
	refresh = next(m, "refreshToken")
	m = get(url.Values{"refreshToken": {refresh}, "_nodejs": {"common-data"}}, map[string]string{
		"XownerId": "default", "XsysId": "sys", "XverifyApi": "1", "XuserFromFirstShareId": "a",
		"XuserFromSecondShareId": "b", "XfilterAreaCode": "0571"}, false)
	refresh = next(m, "refreshToken")
	m = get(url.Values{"refreshToken": {refresh}, "_nodejs": {"common-data-under"}}, owner, false)
	refresh = next(m, "refresh_token")

	// Failures, all HTTP 200.
	get(url.Values{"refreshToken": {"unknown"}}, owner, false)
	get(url.Values{"refreshToken": {refresh}}, map[string]string{"XownerId": "no-such-tenant"}, false)
	get(url.Values{"refreshToken": {refresh}}, nil, true)
	get(url.Values{"refreshToken": {refresh}, "_nodejs": {"other"}}, owner, true)
	get(url.Values{}, owner, true)
	if f := get(url.Values{"refreshToken": {rotated}}, owner, false); f["code"] != float64(400) {
		t.Errorf("reuse: %v", f)
	}

	// The store down: code 503.
	down, checkDown := startServer(t, servertest.Options{})
	if err := down.Server.Store.Close(); err != nil {
		t.Fatal(err)
	}
	if f := checkDown(call{Method: "GET", Path: path(url.Values{"refreshToken": {"x"}}), Header: owner, Want: http.StatusOK}).JSON(t); f["code"] != float64(503) {
		t.Errorf("store down: %v", f)
	}
}
