package sdk_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/sdk"
)

// fakeAppAPI answers the app-backend API for one client and one session,
// checking the method, the credentials and the form of every call.
func fakeAppAPI(t *testing.T) *httptest.Server {
	t.Helper()
	answer := func(w http.ResponseWriter, v any) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(v)
	}
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, secret, _ := r.BasicAuth()
		if id != "app-1" || secret != "app-secret" {
			answer(w, map[string]any{"code": 5, "msg": "invalid client"})
			return
		}
		if r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
			t.Errorf("%s %s: Content-Type %q", r.Method, r.URL.Path, r.Header.Get("Content-Type"))
		}
		if err := r.ParseForm(); err != nil {
			t.Errorf("parse form: %v", err)
		}
		tok := r.PostForm.Get("token")
		if tok == "dead" {
			answer(w, map[string]any{"code": 31, "msg": "token invalid or expired"})
			return
		}
		switch r.Method + " " + r.URL.Path {
		case "POST /api/v1/public/login/verify":
			want := url.Values{"token": {"user-at"}, "grantType": {"refresh_token"}, "clientIp": {"203.0.113.9"}, "valid": {"864000"}, "payload": {"p1"}}
			if r.PostForm.Encode() != want.Encode() {
				t.Errorf("login/verify form %v", r.PostForm)
			}
			answer(w, map[string]any{"code": 0, "data": map[string]any{"id": 1234567890123, "name": "Ada", "avatarUrl": "https://a/1.png",
				"groups": []string{"g1"}, "refreshToken": "app-rt", "accessToken": "app-at"}})
		case "POST /api/v1/app/token/refresh":
			answer(w, map[string]any{"code": 0, "data": map[string]any{"uid": "u-9", "payload": "p1", "accessToken": "app-at2", "expiresIn": 900}})
		case "PATCH /api/v1/app/token/refresh":
			if r.PostForm.Get("payload") != "p2" || r.PostForm.Get("accessToken") != "true" {
				t.Errorf("patch form %v", r.PostForm)
			}
			answer(w, map[string]any{"code": 0, "data": map[string]any{"refreshToken": tok, "accessToken": "app-at3"}})
		case "DELETE /api/v1/app/token/refresh":
			answer(w, map[string]any{"code": 0})
		case "POST /api/v1/app/token/access/verify":
			answer(w, map[string]any{"code": 0, "data": map[string]any{"uid": 1234567890123, "payload": "p2"}})
		case "POST /api/v1/app/token/access/user/info":
			answer(w, map[string]any{"code": 0, "data": map[string]any{"userID": 1234567890123, "name": "Ada", "avatarUrl": "", "groups": []string{}}})
		default:
			t.Errorf("unexpected %s %s", r.Method, r.URL.Path)
			answer(w, map[string]any{"code": 5, "msg": "no such call"})
		}
	}))
}

func TestAppClient_Lifecycle(t *testing.T) {
	srv := fakeAppAPI(t)
	defer srv.Close()
	ctx := context.Background()
	c := sdk.NewAppClient(srv.URL+"/", "app-1", "app-secret", nil)

	login, err := c.VerifyLogin(ctx, sdk.LoginVerifyParams{Token: "user-at", ClientIP: "203.0.113.9", Valid: 10 * 24 * time.Hour, Payload: "p1"})
	if err != nil {
		t.Fatalf("VerifyLogin: %v", err)
	}
	if login.UserID != "1234567890123" || login.Name != "Ada" || login.RefreshToken != "app-rt" || login.AccessToken != "app-at" ||
		!slices.Equal(login.Groups, []string{"g1"}) {
		t.Errorf("login = %+v", login)
	}
	at, err := c.Refresh(ctx, login.RefreshToken)
	if err != nil || at.UserID != "u-9" || at.AccessToken != "app-at2" || at.ExpiresIn != 15*time.Minute {
		t.Errorf("Refresh = %+v, %v", at, err)
	}
	newAT, err := c.SetPayload(ctx, login.RefreshToken, "p2", true)
	if err != nil || newAT != "app-at3" {
		t.Errorf("SetPayload = %q, %v", newAT, err)
	}
	info, err := c.VerifyAccess(ctx, newAT)
	if err != nil || info.UserID != "1234567890123" || info.Payload != "p2" {
		t.Errorf("VerifyAccess = %+v, %v", info, err)
	}
	u, err := c.UserInfo(ctx, newAT)
	if err != nil || u.UserID != "1234567890123" || u.Name != "Ada" {
		t.Errorf("UserInfo = %+v, %v", u, err)
	}
	if err := c.Destroy(ctx, login.RefreshToken); err != nil {
		t.Errorf("Destroy: %v", err)
	}
}

func TestAppClient_Errors(t *testing.T) {
	srv := fakeAppAPI(t)
	defer srv.Close()
	ctx := context.Background()
	_, err := sdk.NewAppClient(srv.URL, "app-1", "app-secret", nil).VerifyAccess(ctx, "dead")
	var ae *sdk.AppError
	if !errors.Is(err, sdk.ErrAppTokenInvalid) || !errors.As(err, &ae) || ae.Code != 31 {
		t.Errorf("dead token: %v", err)
	}
	_, err = sdk.NewAppClient(srv.URL, "app-1", "wrong", nil).VerifyAccess(ctx, "x")
	if !errors.As(err, &ae) || ae.Code != 5 || errors.Is(err, sdk.ErrAppTokenInvalid) {
		t.Errorf("bad client: %v", err)
	}
	notApp := httptest.NewServer(http.NotFoundHandler())
	defer notApp.Close()
	if _, err := sdk.NewAppClient(notApp.URL, "a", "b", nil).Refresh(ctx, "x"); err == nil || errors.As(err, &ae) {
		t.Errorf("not an app API: %v", err)
	}
}
