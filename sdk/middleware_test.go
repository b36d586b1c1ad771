package sdk_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/sdk"
)

func TestMiddleware_StatusCodesAndChallenges(t *testing.T) {
	f := newFakeIssuer()
	defer f.Close()
	v := newVerifier(t, f, sdk.Config{})
	var seen *sdk.Claims
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, found := sdk.ClaimsFromContext(r.Context())
		if !found {
			t.Error("no claims in the context")
		}
		seen = c
		w.WriteHeader(http.StatusNoContent)
	})
	open := v.Middleware(sdk.MiddlewareOptions{Realm: "shop"})(ok)
	admin := v.Require("admin")(ok)

	reader := f.Token(f.Claims("7"))
	adminClaims := f.Claims("8")
	adminClaims["roles"] = []string{"admin"}
	adminTok := f.Token(adminClaims)
	expiredClaims := f.Claims("9")
	expiredClaims["exp"] = time.Now().Add(-time.Hour).Unix()
	expired := f.Token(expiredClaims)

	cases := []struct {
		name      string
		h         http.Handler
		auth      []string
		status    int
		challenge string // WWW-Authenticate, "" = absent
		errCode   string
	}{
		{"valid token", open, []string{"Bearer " + reader}, 204, "", ""},
		{"lower-case scheme", open, []string{"bearer " + reader}, 204, "", ""},
		{"no header", open, nil, 401, `Bearer realm="shop"`, "unauthorized"},
		{"basic credentials", open, []string{"Basic dXNlcjpwdw=="}, 401, `Bearer realm="shop"`, "unauthorized"},
		{"empty bearer", open, []string{"Bearer "}, 400, `Bearer realm="shop", error="invalid_request", error_description="the Authorization header is malformed"`, "invalid_request"},
		{"two headers", open, []string{"Bearer " + reader, "Bearer " + reader}, 400, `Bearer realm="shop", error="invalid_request", error_description="the Authorization header is malformed"`, "invalid_request"},
		{"garbage token", open, []string{"Bearer abc.def.ghi"}, 401, `Bearer realm="shop", error="invalid_token", error_description="the access token is invalid"`, "invalid_token"},
		{"expired token", open, []string{"Bearer " + expired}, 401, `Bearer realm="shop", error="invalid_token", error_description="the access token expired"`, "invalid_token"},
		{"missing role", admin, []string{"Bearer " + reader}, 403, `Bearer realm="api", error="insufficient_scope", error_description="the role admin is required"`, "insufficient_scope"},
		{"role present", admin, []string{"Bearer " + adminTok}, 204, "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			seen = nil
			r := httptest.NewRequest("GET", "/orders", nil)
			for _, a := range tc.auth {
				r.Header.Add("Authorization", a)
			}
			w := httptest.NewRecorder()
			tc.h.ServeHTTP(w, r)
			if w.Code != tc.status {
				t.Fatalf("status %d, want %d (%s)", w.Code, tc.status, w.Body)
			}
			if got := w.Header().Get("WWW-Authenticate"); got != tc.challenge {
				t.Errorf("WWW-Authenticate %q, want %q", got, tc.challenge)
			}
			if tc.status == 204 {
				if seen == nil || seen.Subject == "" {
					t.Errorf("handler saw claims %+v", seen)
				}
				return
			}
			if seen != nil {
				t.Error("the handler ran for a refused request")
			}
			var body map[string]string
			if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || body["error"] != tc.errCode {
				t.Errorf("body %s, want error %q", w.Body, tc.errCode)
			}
			if !strings.HasPrefix(w.Header().Get("Content-Type"), "application/json") {
				t.Errorf("Content-Type %q", w.Header().Get("Content-Type"))
			}
		})
	}
}

func TestMiddleware_KeysUnavailableIs503(t *testing.T) {
	f := newFakeIssuer()
	defer f.Close()
	v := newVerifier(t, f, sdk.Config{})
	f.Down.Store(true)
	var errs []error
	h := v.Middleware(sdk.MiddlewareOptions{OnError: func(_ *http.Request, err error) { errs = append(errs, err) }})(
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { t.Error("handler ran") }))
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Authorization", "Bearer "+f.Token(f.Claims("1")))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusServiceUnavailable || w.Header().Get("WWW-Authenticate") != "" {
		t.Errorf("status %d, challenge %q", w.Code, w.Header().Get("WWW-Authenticate"))
	}
	if len(errs) != 1 {
		t.Errorf("OnError called %d times", len(errs))
	}
}
