package openapi_test

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"testing"

	"github.com/getkin/kin-openapi/openapi3filter"

	"github.com/gatehouse-auth/gatehouse/internal/server/servertest"
)

func init() {
	// The hosted pages answer HTML and CSS: validated as strings.
	openapi3filter.RegisterBodyDecoder("text/html", openapi3filter.PlainBodyDecoder)
	openapi3filter.RegisterBodyDecoder("text/css", openapi3filter.PlainBodyDecoder)
	register(family{name: "browser", exercise: exerciseBrowser})
}

// exerciseBrowser covers the authorization endpoint, PAR, the hosted pages
// (without a browser: their forms answer 403 without a CSRF cookie),
// logout and the admin consent routes. The test client follows redirects,
// so an authorization that needs a sign-in ends at the sign-in page (200).
func exerciseBrowser(t *testing.T, env *servertest.Env, check checkFunc) {
	userID := env.CreateUser("", map[string]any{"username": "bea", "password": nativePassword})
	c := env.CreateOAuthClient("", map[string]any{"name": "web", "redirect_uris": []string{"https://rp.example/cb"}})
	sum := sha256.Sum256([]byte("a-verifier-of-at-least-forty-three-characters-long"))
	params := url.Values{"client_id": {c.ID}, "redirect_uri": {"https://rp.example/cb"}, "response_type": {"code"},
		"scope": {"openid"}, "state": {"s"}, "code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])},
		"code_challenge_method": {"S256"}}
	form := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
	// The browser's own random cookie, which the pending request is bound
	// to (the client forwards it when it follows the redirect to /login).
	browser := map[string]string{"Cookie": "gh_csrf=Zm9yLXRoZS1vcGVuYXBpLWV4ZXJjaXNlLW9ubHkxMjM0"}
	browserForm := map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Cookie": browser["Cookie"]}
	basic := map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Authorization": servertest.BasicAuth(c.ID, c.Secret)}

	check(call{Method: "GET", Path: "/oauth2/authorize?" + params.Encode(), Header: browser, Want: http.StatusOK})
	check(call{Method: "GET", Path: "/oauth2/authorize?client_id=nope&redirect_uri=https%3A%2F%2Frp.example%2Fcb", Want: http.StatusBadRequest})
	check(call{Method: "POST", Path: "/oauth2/authorize", Raw: []byte(params.Encode()), Header: browserForm, Want: http.StatusOK})
	check(call{Method: "POST", Path: "/oauth2/authorize", Raw: []byte("client_id=" + c.ID + "&redirect_uri=https%3A%2F%2Fevil.example%2F"), Header: form, Want: http.StatusBadRequest})

	push := url.Values{}
	for k, v := range params {
		if k != "client_id" {
			push[k] = v
		}
	}
	r := check(call{Method: "POST", Path: "/oauth2/par", Raw: []byte(push.Encode()), Header: basic, Want: http.StatusCreated})
	uri, _ := r.JSON(t)["request_uri"].(string)
	check(call{Method: "GET", Path: "/oauth2/authorize?" + url.Values{"client_id": {c.ID}, "request_uri": {uri}}.Encode(), Header: browser, Want: http.StatusOK})
	check(call{Method: "GET", Path: "/oauth2/authorize?" + url.Values{"client_id": {c.ID}, "request_uri": {uri}}.Encode(), Want: http.StatusBadRequest})
	check(call{Method: "POST", Path: "/oauth2/par", Raw: []byte("redirect_uri=https%3A%2F%2Fevil.example%2F&response_type=code"), Header: basic, Want: http.StatusBadRequest})
	check(call{Method: "POST", Path: "/oauth2/par", Raw: []byte(push.Encode()), Header: form, Want: http.StatusUnauthorized})

	check(call{Method: "GET", Path: "/login?req=unknown", Want: http.StatusBadRequest})
	pages := map[string]url.Values{
		"/login":          {"req": {"x"}, "csrf": {"y"}, "username": {"bea"}, "password": {nativePassword}},
		"/login/mfa":      {"req": {"x"}, "csrf": {"y"}, "code": {"123456"}},
		"/login/password": {"req": {"x"}, "csrf": {"y"}, "new_password": {"a new passphrase"}},
		"/login/consent":  {"req": {"x"}, "csrf": {"y"}, "decision": {"allow"}},
	}
	for path, f := range pages {
		check(call{Method: "POST", Path: path, Raw: []byte(f.Encode()), Header: form, Want: http.StatusForbidden})
	}
	check(call{Method: "GET", Path: "/assets/gatehouse.css", Want: http.StatusOK})

	check(call{Method: "GET", Path: "/oauth2/logout?client_id=" + c.ID + "&post_logout_redirect_uri=https%3A%2F%2Fevil.example%2F", Want: http.StatusOK})
	check(call{Method: "POST", Path: "/oauth2/logout", Raw: []byte("state=x"), Header: form, Want: http.StatusOK})
	check(call{Method: "GET", Path: "/oauth2/logout?state=a&state=b", Want: http.StatusBadRequest})

	check(call{Method: "GET", Path: "/admin/users/" + userID + "/consents", Bearer: servertest.AdminKey, Want: http.StatusOK})
	check(call{Method: "GET", Path: "/admin/users/nobody/consents", Bearer: servertest.AdminKey, Want: http.StatusNotFound})
	check(call{Method: "GET", Path: "/admin/users/" + userID + "/consents", Want: http.StatusUnauthorized, Invalid: true})
	check(call{Method: "DELETE", Path: "/admin/users/" + userID + "/consents/" + c.ID, Bearer: servertest.AdminKey, Want: http.StatusNotFound})
}
