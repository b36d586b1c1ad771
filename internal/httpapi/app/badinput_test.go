package app_test

import (
	"bytes"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/server/servertest"
)

// TestApp_BadInput: hostile and malformed requests get code 5 or 31 in the
// family's shape, never a 500 or a panic.
func TestApp_BadInput(t *testing.T) {
	f := newFixture(t, servertest.Options{})
	form := "application/x-www-form-urlencoded"
	big := bytes.Repeat([]byte("a"), 70<<10)
	for _, tc := range []struct {
		name, method, path, ctype string
		body                      []byte
		code                      int
	}{
		{"body over 64 KiB", "POST", pathLogin, form, append([]byte("token="), big...), 5},
		{"JSON over 64 KiB", "POST", pathVerify, "application/json", append(append([]byte(`{"token":"`), big...), '"', '}'), 5},
		{"multipart over 64 KiB", "POST", pathVerify, "multipart/form-data; boundary=xx", append([]byte("--xx\r\nContent-Disposition: form-data; name=\"token\"\r\n\r\n"), big...), 5},
		{"malformed JSON", "POST", pathVerify, "application/json", []byte(`{"token":`), 5},
		{"JSON array", "POST", pathVerify, "application/json", []byte(`["token"]`), 5},
		{"JSON object value", "POST", pathVerify, "application/json", []byte(`{"token":{"a":1}}`), 5},
		{"two JSON objects", "POST", pathVerify, "application/json", []byte(`{} {}`), 5},
		{"malformed form", "POST", pathVerify, form, []byte("token=%zz"), 5},
		{"multipart without boundary", "POST", pathVerify, "multipart/form-data", []byte("x"), 5},
		{"broken multipart", "POST", pathVerify, "multipart/form-data; boundary=xx", []byte("garbage"), 5},
		{"text body", "POST", pathVerify, "text/plain", []byte("token=x"), 5},
		{"bad content type", "POST", pathVerify, "a/b/c;;", []byte("token=x"), 5},
		{"body without content type", "POST", pathVerify, "", []byte("token=x"), 5},
		{"missing token", "POST", pathVerify, form, nil, 5},
		{"empty token", "POST", pathVerify, form, []byte("token="), 5},
		{"10k token", "POST", pathVerify, form, []byte("token=" + strings.Repeat("x", 10000)), 31},
		{"10k refresh token", "POST", pathRefresh, form, []byte("token=" + strings.Repeat("x", 10000)), 31},
		{"sql token", "POST", pathUserInfo, form, []byte(url.Values{"token": {"' OR 1=1; DROP TABLE users; --"}}.Encode()), 31},
		{"unicode token", "DELETE", pathRefresh, form, []byte(url.Values{"token": {"\u202e\ufffd\U0001F4A9\u0000"}}.Encode()), 31},
		{"JSON null token", "POST", pathVerify, "application/json", []byte(`{"token":null}`), 5},
		{"JSON number token", "POST", pathVerify, "application/json", []byte(`{"token":12345678901234567890}`), 31},
		{"wrong method", "GET", pathVerify, "", nil, 5},
		{"wrong method on refresh", "PUT", pathRefresh, form, []byte("token=x"), 5},
		{"unknown path", "POST", "/api/v1/app/token/nope", form, nil, 5},
		{"unknown public path", "GET", "/api/v1/public/", "", nil, 5},
		{"nested trailing path", "POST", pathVerify + "/extra", form, nil, 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := f.call(t, tc.method, tc.path, tc.ctype, tc.body)
			wantCode(t, tc.name, r, tc.code)
		})
	}
	if f.LogsContain("panic") {
		t.Fatalf("a request panicked: %s", f.Logs.String())
	}
}

// TestApp_FamilyDisabled: left out of GATEHOUSE_FAMILIES, the family
// answers a plain 404 on all its paths.
func TestApp_FamilyDisabled(t *testing.T) {
	env := servertest.New(t, servertest.Options{Env: map[string]string{"GATEHOUSE_FAMILIES": "native,legacy"}})
	c := env.CreateClient("", "shop")
	for _, p := range []string{pathLogin, pathRefresh, pathVerify, pathUserInfo, pathVerify + "/", "/api/v1/anything"} {
		r := env.App("POST", p, c, url.Values{"token": {"x"}})
		if r.Status != 404 || r.JSON(t)["error"] != "not_found" {
			t.Errorf("POST %s with the family off: %d %s", p, r.Status, r.Body)
		}
	}
}
