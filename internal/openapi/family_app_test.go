package openapi_test

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/server/servertest"
)

func init() {
	register(family{name: "app", exercise: exerciseApp})
}

// exerciseApp covers /api/v1/public/* and /api/v1/app/* with form,
// multipart and JSON bodies, and their failures (answered with HTTP 200).
func exerciseApp(t *testing.T, env *servertest.Env, check checkFunc) {
	env.CreateUser("", map[string]any{"username": "amy", "password": nativePassword, "display_name": "Amy", "groups": []string{"eng"}})
	env.CreateUser("", map[string]any{"id": "legacy.amy-2", "username": "amy2", "password": nativePassword})
	c := env.CreateClient("", "shop")
	other := env.CreateClient("", "other")
	basic := func(cl servertest.Client) string { return servertest.BasicAuth(cl.ID, cl.Secret) }

	type sender func(method, path string, fields map[string]string, invalid bool) map[string]any
	send := func(cl servertest.Client, encode func(map[string]string) (string, []byte)) sender {
		return func(method, path string, fields map[string]string, invalid bool) map[string]any {
			t.Helper()
			ctype, body := encode(fields)
			r := check(call{Method: method, Path: path, Raw: body, Header: map[string]string{"Content-Type": ctype, "Authorization": basic(cl)},
				Want: http.StatusOK, Invalid: invalid})
			return r.JSON(t)
		}
	}
	form := send(c, func(f map[string]string) (string, []byte) {
		v := url.Values{}
		for k, x := range f {
			v.Set(k, x)
		}
		return "application/x-www-form-urlencoded", []byte(v.Encode())
	})
	multi := send(c, func(f map[string]string) (string, []byte) {
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		for k, x := range f {
			_ = mw.WriteField(k, x)
		}
		_ = mw.Close()
		return mw.FormDataContentType(), buf.Bytes()
	})
	jsonBody := send(c, func(f map[string]string) (string, []byte) {
		var parts []string
		for k, x := range f {
			if k == "accessToken" || k == "valid" {
				parts = append(parts, `"`+k+`":`+x)
				continue
			}
			parts = append(parts, `"`+k+`":"`+x+`"`)
		}
		return "application/json", []byte("{" + strings.Join(parts, ",") + "}")
	})
	spy := send(other, func(f map[string]string) (string, []byte) {
		v := url.Values{}
		for k, x := range f {
			v.Set(k, x)
		}
		return "application/x-www-form-urlencoded", []byte(v.Encode())
	})
	data := func(m map[string]any) map[string]any {
		t.Helper()
		d, _ := m["data"].(map[string]any)
		if m["code"] != float64(0) || d == nil {
			t.Fatalf("not a success: %v", m)
		}
		return d
	}
	wantCode := func(m map[string]any, code int) {
		t.Helper()
		if m["code"] != float64(code) {
			t.Errorf("code %v, want %d: %v", m["code"], code, m)
		}
	}

	const (
		login   = "/api/v1/public/login/verify"
		refresh = "/api/v1/app/token/refresh"
		verify  = "/api/v1/app/token/access/verify"
		info    = "/api/v1/app/token/access/user/info"
	)
	user := env.Login("", "amy", nativePassword).AccessToken
	d := data(form(http.MethodPost, login, map[string]string{"token": user, "grantType": "refresh_token", "clientIp": "192.0.2.7", "valid": "864000", "payload": "p1"}, false))
	rt, at := d["refreshToken"].(string), d["accessToken"].(string)
	d2 := data(multi(http.MethodPost, login, map[string]string{"token": env.Login("", "amy2", nativePassword).AccessToken, "grantType": "refresh_token"}, false))
	data(jsonBody(http.MethodPost, verify, map[string]string{"token": d2["accessToken"].(string)}, false)) // a string uid
	wantCode(form(http.MethodPost, login, map[string]string{"token": user, "grantType": "refresh_token", "payload": strings.Repeat("p", 32)}, true), 5)
	wantCode(form(http.MethodPost, login, map[string]string{"token": user, "grantType": "password"}, true), 5)
	wantCode(form(http.MethodPost, login, map[string]string{"token": "not-a-token", "grantType": "refresh_token"}, false), 31)
	noAuth := check(call{Method: http.MethodPost, Path: login, Raw: []byte("token=x&grantType=refresh_token"),
		Header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, Want: http.StatusOK, Invalid: true}).JSON(t)
	wantCode(noAuth, 5)

	data(form(http.MethodPost, refresh, map[string]string{"token": rt}, false))
	data(jsonBody(http.MethodPost, refresh, map[string]string{"token": rt}, false))
	wantCode(spy(http.MethodPost, refresh, map[string]string{"token": rt}, false), 31)
	wantCode(form(http.MethodPost, refresh, map[string]string{}, true), 5)

	p := data(jsonBody(http.MethodPatch, refresh, map[string]string{"token": rt, "payload": "p2", "accessToken": "true"}, false))
	at2 := p["accessToken"].(string)
	data(multi(http.MethodPatch, refresh, map[string]string{"token": rt, "payload": "p3"}, false))
	wantCode(form(http.MethodPatch, refresh, map[string]string{"token": rt, "payload": strings.Repeat("p", 32)}, true), 5)
	wantCode(spy(http.MethodPatch, refresh, map[string]string{"token": rt, "payload": "x"}, false), 31)

	data(form(http.MethodPost, verify, map[string]string{"token": at}, false))
	data(multi(http.MethodPost, verify, map[string]string{"token": at2}, false))
	wantCode(spy(http.MethodPost, verify, map[string]string{"token": at}, false), 31)
	data(form(http.MethodPost, info, map[string]string{"token": at}, false))
	wantCode(spy(http.MethodPost, info, map[string]string{"token": at}, false), 31)
	wantCode(form(http.MethodPost, info, map[string]string{}, true), 5)

	wantCode(spy(http.MethodDelete, refresh, map[string]string{"token": rt}, false), 31)
	del := check(call{Method: http.MethodDelete, Path: refresh + "?token=" + url.QueryEscape(rt), Header: map[string]string{"Authorization": basic(c)}, Want: http.StatusOK}).JSON(t)
	wantCode(del, 0)
	wantCode(form(http.MethodDelete, refresh, map[string]string{"token": rt}, false), 31)
	wantCode(form(http.MethodPost, verify, map[string]string{"token": at}, false), 31)
	wantCode(jsonBody(http.MethodPost, info, map[string]string{"token": at2}, false), 31)
}
