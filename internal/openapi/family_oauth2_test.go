package openapi_test

import (
	"net/http"
	"net/url"
	"strconv"
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/server/servertest"
)

func init() {
	register(family{name: "oauth2", exercise: exerciseOAuth2})
}

// exerciseOAuth2 covers /oauth2/* (every grant, introspection, revocation,
// userinfo, the revocation feed) with their RFC errors, and
// PATCH /admin/clients/{id}.
func exerciseOAuth2(t *testing.T, env *servertest.Env, check checkFunc) {
	env.CreateUser("", map[string]any{"username": "olga", "password": nativePassword, "email": "olga@example.com", "display_name": "Olga"})
	c := env.CreateOAuthClient("", map[string]any{"name": "portal"})
	pub := env.CreateOAuthClient("", map[string]any{"name": "spa", "public": true})
	basic := servertest.BasicAuth(c.ID, c.Secret)
	formCall := func(path, auth string, form url.Values, want int, invalid bool) *servertest.Response {
		t.Helper()
		h := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
		if auth != "" {
			h["Authorization"] = auth
		}
		return check(call{Method: "POST", Path: path, Raw: []byte(form.Encode()), Header: h, Want: want, Invalid: invalid})
	}
	token := func(form url.Values) map[string]any {
		t.Helper()
		return formCall("/oauth2/token", basic, form, http.StatusOK, false).JSON(t)
	}

	// Grants.
	pw := token(url.Values{"grant_type": {"password"}, "username": {"olga"}, "password": {nativePassword}, "scope": {"openid profile email offline_access"}})
	at, rt := pw["access_token"].(string), pw["refresh_token"].(string)
	ref := token(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}})
	at2 := ref["access_token"].(string)
	token(url.Values{"grant_type": {"client_credentials"}})
	formCall("/oauth2/token", "", url.Values{"grant_type": {"password"}, "username": {"olga"}, "password": {nativePassword},
		"client_id": {c.ID}, "client_secret": {c.Secret}, "scope": {"profile"}}, http.StatusOK, false)
	formCall("/oauth2/token", "", url.Values{"grant_type": {"password"}, "username": {"olga"}, "password": {nativePassword},
		"client_id": {pub.ID}}, http.StatusOK, false)

	// Token errors.
	formCall("/oauth2/token", basic, url.Values{"grant_type": {"password"}, "username": {"olga"}, "password": {"wrong"}}, http.StatusBadRequest, false)
	formCall("/oauth2/token", basic, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, http.StatusBadRequest, false) // reuse: revokes that family
	formCall("/oauth2/token", basic, url.Values{"grant_type": {"implicit"}}, http.StatusBadRequest, false)
	formCall("/oauth2/token", basic, url.Values{"scope": {"openid"}}, http.StatusBadRequest, true)
	formCall("/oauth2/token", basic, url.Values{"grant_type": {"password"}, "username": {"olga"}, "password": {nativePassword}, "scope": {"admin"}}, http.StatusBadRequest, false)
	formCall("/oauth2/token", basic, url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:token-exchange"},
		"subject_token": {"a.b.c"}, "subject_token_type": {"urn:ietf:params:oauth:token-type:id_token"}}, http.StatusBadRequest, false)
	formCall("/oauth2/token", "", url.Values{"grant_type": {"client_credentials"}, "client_id": {pub.ID}}, http.StatusBadRequest, false)
	formCall("/oauth2/token", servertest.BasicAuth(c.ID, "wrong"), url.Values{"grant_type": {"client_credentials"}}, http.StatusUnauthorized, false)
	formCall("/oauth2/token", "", url.Values{"grant_type": {"client_credentials"}}, http.StatusUnauthorized, false)
	check(call{Method: "POST", Path: "/oauth2/token", JSON: map[string]any{"grant_type": "client_credentials"}, Header: map[string]string{"Authorization": basic},
		Want: http.StatusBadRequest, Invalid: true})

	// A fresh pair (the first family was revoked by the reuse above).
	pw = token(url.Values{"grant_type": {"password"}, "username": {"olga"}, "password": {nativePassword}, "scope": {"openid profile email offline_access"}})
	at, rt = pw["access_token"].(string), pw["refresh_token"].(string)
	if m := formCall("/oauth2/introspect", basic, url.Values{"token": {at2}}, http.StatusOK, false).JSON(t); m["active"] != false {
		t.Errorf("token of a family revoked by reuse: %v", m)
	}

	// Introspection.
	formCall("/oauth2/introspect", basic, url.Values{"token": {at}, "token_type_hint": {"access_token"}}, http.StatusOK, false)
	formCall("/oauth2/introspect", basic, url.Values{"token": {rt}}, http.StatusOK, false)
	formCall("/oauth2/introspect", basic, url.Values{"token": {"nothing"}}, http.StatusOK, false)
	formCall("/oauth2/introspect", basic, url.Values{}, http.StatusBadRequest, true)
	formCall("/oauth2/introspect", "", url.Values{"token": {at}, "client_id": {pub.ID}}, http.StatusUnauthorized, false)

	// Userinfo, both methods.
	check(call{Method: "GET", Path: "/oauth2/userinfo", Bearer: at, Want: http.StatusOK})
	check(call{Method: "POST", Path: "/oauth2/userinfo", Bearer: at, Want: http.StatusOK})
	check(call{Method: "GET", Path: "/oauth2/userinfo", Want: http.StatusUnauthorized, Invalid: true})
	check(call{Method: "GET", Path: "/oauth2/userinfo", Bearer: "garbage", Want: http.StatusUnauthorized})
	check(call{Method: "POST", Path: "/oauth2/userinfo", Bearer: "garbage", Want: http.StatusUnauthorized})
	noOpenID := token(url.Values{"grant_type": {"password"}, "username": {"olga"}, "password": {nativePassword}, "scope": {"profile"}})
	check(call{Method: "GET", Path: "/oauth2/userinfo", Bearer: noOpenID["access_token"].(string), Want: http.StatusForbidden})
	check(call{Method: "POST", Path: "/oauth2/userinfo", Bearer: noOpenID["access_token"].(string), Want: http.StatusForbidden})

	// Revocation, then the feed that reports it.
	feed := func(query, auth string, want int, invalid bool) *servertest.Response {
		t.Helper()
		h := map[string]string{}
		if auth != "" {
			h["Authorization"] = auth
		}
		return check(call{Method: "GET", Path: "/oauth2/revocations" + query, Header: h, Want: want, Invalid: invalid})
	}
	first := feed("", basic, http.StatusOK, false)
	formCall("/oauth2/revoke", basic, url.Values{"token": {rt}, "token_type_hint": {"refresh_token"}}, http.StatusOK, false)
	formCall("/oauth2/revoke", basic, url.Values{"token": {"unknown"}}, http.StatusOK, false)
	formCall("/oauth2/revoke", basic, url.Values{}, http.StatusBadRequest, true)
	formCall("/oauth2/revoke", servertest.BasicAuth("nobody", "x"), url.Values{"token": {rt}}, http.StatusUnauthorized, false)
	var f struct {
		Next int64 `json:"next"`
	}
	first.Decode(t, &f)
	r := feed("?since="+strconv.FormatInt(f.Next, 10)+"&limit=10", basic, http.StatusOK, false)
	if len(r.JSON(t)["events"].([]any)) != 1 {
		t.Errorf("feed after one revocation: %s", r.Body)
	}
	feed("?since=-1", basic, http.StatusBadRequest, true)
	feed("", "", http.StatusUnauthorized, true)
	feed("", servertest.BasicAuth(pub.ID, ""), http.StatusUnauthorized, false)

	// PATCH /admin/clients/{id}.
	admin := func(path string, body any, want int, invalid bool) {
		t.Helper()
		check(call{Method: "PATCH", Path: path, JSON: body, Bearer: servertest.AdminKey, Want: want, Invalid: invalid})
	}
	admin("/admin/clients/"+c.ID, map[string]any{"grant_types": []string{"password", "refresh_token"}, "scopes": []string{"openid", "offline_access"}}, http.StatusOK, false)
	admin("/admin/clients/"+c.ID, map[string]any{"name": "Portal", "scopes": nil}, http.StatusOK, false)
	admin("/admin/clients/"+c.ID, map[string]any{"grant_types": []string{"implicit"}}, http.StatusBadRequest, true)
	admin("/admin/clients/nope", map[string]any{"name": "x"}, http.StatusNotFound, false)
	check(call{Method: "PATCH", Path: "/admin/clients/" + c.ID, Raw: []byte("name=x"), Header: map[string]string{"Content-Type": "text/plain"},
		Bearer: servertest.AdminKey, Want: http.StatusUnsupportedMediaType, Invalid: true})
	check(call{Method: "PATCH", Path: "/admin/clients/" + c.ID, JSON: map[string]any{"name": "x"}, Bearer: "wrong", Want: http.StatusUnauthorized})
}
