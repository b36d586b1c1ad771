package app_test

import (
	"bytes"
	"mime/multipart"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/server/servertest"
)

// call sends a raw request of the family with the fixture's client.
func (f *fixture) call(t *testing.T, method, path, ctype string, body []byte) *servertest.Response {
	t.Helper()
	h := map[string]string{"Authorization": servertest.BasicAuth(f.client.ID, f.client.Secret)}
	if ctype != "" {
		h["Content-Type"] = ctype
	}
	return f.Do(servertest.Request{Method: method, Path: path, Body: bytes.NewReader(body), Header: h})
}

func multipartBody(t *testing.T, fields map[string]string) (string, []byte) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range fields {
		if err := mw.WriteField(k, v); err != nil {
			t.Fatal(err)
		}
	}
	fw, err := mw.CreateFormFile("attachment", "a.txt")
	if err != nil {
		t.Fatal(err)
	}
	_, _ = fw.Write([]byte("ignored"))
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return mw.FormDataContentType(), buf.Bytes()
}

func TestApp_BodyFormsAndTrailingSlash(t *testing.T) {
	f := newFixture(t, servertest.Options{})

	ctype, body := multipartBody(t, map[string]string{"token": f.access, "grantType": "refresh_token", "payload": "mp"})
	d := ok(t, f.call(t, "POST", pathLogin+"/", ctype, body))
	refresh, access := d["refreshToken"].(string), d["accessToken"].(string)

	j := ok(t, f.call(t, "POST", pathRefresh, "application/json; charset=utf-8", []byte(`{"token":"`+refresh+`"}`)))
	if j["payload"] != "mp" {
		t.Fatalf("JSON refresh: %v", j)
	}
	ok(t, f.call(t, "PATCH", pathRefresh+"/", "application/json", []byte(`{"token":"`+refresh+`","payload":"js","accessToken":true}`)))
	ctype, body = multipartBody(t, map[string]string{"token": access})
	if v := ok(t, f.call(t, "POST", pathVerify+"/", ctype, body)); v["payload"] != "mp" {
		t.Fatalf("multipart verify: %v", v)
	}
	ok(t, f.call(t, "POST", pathUserInfo+"/", "application/x-www-form-urlencoded", []byte(url.Values{"token": {access}}.Encode())))
	// A DELETE without a body may name the token in the query string.
	del := f.Do(servertest.Request{Method: "DELETE", Path: pathRefresh + "/?token=" + url.QueryEscape(refresh),
		Header: map[string]string{"Authorization": servertest.BasicAuth(f.client.ID, f.client.Secret)}})
	ok(t, del)
	wantCode(t, "verify after destroy", f.call(t, "POST", pathVerify, "application/json", []byte(`{"token":"`+access+`"}`)), 31)
	if f.LogsContain(refresh) || f.LogsContain(access) {
		t.Fatal("a token appears in the logs")
	}
}

func TestApp_ValidClamped(t *testing.T) {
	f := newFixture(t, servertest.Options{})
	day := 24 * time.Hour
	for _, tc := range []struct {
		valid string
		life  time.Duration
	}{
		{"", 7 * day}, {"60", 7 * day}, {"-5", 7 * day}, {"864000", 10 * day}, {"2592000", 30 * day},
		{"99999999", 30 * day}, {"99999999999999999999999", 30 * day},
	} {
		d := f.login(t, url.Values{"valid": {tc.valid}})
		got := sessionLifetime(t, f, d["accessToken"].(string))
		if got != tc.life {
			t.Errorf("valid %q: session lifetime %v, want %v", tc.valid, got, tc.life)
		}
	}
	for _, bad := range []string{"abc", "1.5", "7d", "0x10"} {
		wantCode(t, "valid "+bad, f.loginResponse(t, url.Values{"valid": {bad}}), 5)
	}
}

// sessionLifetime reads, through the admin API, how long the session of an
// access token lives.
func sessionLifetime(t *testing.T, f *fixture, access string) time.Duration {
	t.Helper()
	sid := decodeSegment(t, strings.Split(access, ".")[1])["sid"]
	r := f.Admin("GET", "/admin/users/"+f.userID+"/sessions", "", nil)
	for _, s := range r.JSON(t)["sessions"].([]any) {
		m := s.(map[string]any)
		if m["id"] != sid {
			continue
		}
		created, err1 := time.Parse(time.RFC3339, m["created_at"].(string))
		expires, err2 := time.Parse(time.RFC3339, m["expires_at"].(string))
		if err1 != nil || err2 != nil {
			t.Fatalf("session times: %v", m)
		}
		return expires.Sub(created)
	}
	t.Fatalf("session %v not listed: %s", sid, r.Body)
	return 0
}

func TestApp_PayloadLength(t *testing.T) {
	f := newFixture(t, servertest.Options{})
	d := f.login(t, url.Values{"payload": {strings.Repeat("ü", 31)}})
	refresh := d["refreshToken"].(string)
	wantCode(t, "login payload of 32", f.loginResponse(t, url.Values{"payload": {strings.Repeat("p", 32)}}), 5)
	wantCode(t, "patch payload of 32", f.App("PATCH", pathRefresh, f.client, url.Values{"token": {refresh}, "payload": {strings.Repeat("p", 32)}}), 5)
	wantCode(t, "patch without payload", f.App("PATCH", pathRefresh, f.client, url.Values{"token": {refresh}}), 5)
	wantCode(t, "patch with a bad accessToken flag", f.App("PATCH", pathRefresh, f.client, url.Values{"token": {refresh}, "payload": {"x"}, "accessToken": {"maybe"}}), 5)
	if r := ok(t, f.App("POST", pathRefresh, f.client, url.Values{"token": {refresh}})); r["payload"] != strings.Repeat("ü", 31) {
		t.Fatalf("payload after the refused patches: %v", r["payload"])
	}
}

func TestApp_LoginParameters(t *testing.T) {
	f := newFixture(t, servertest.Options{})
	for name, form := range map[string]url.Values{
		"no grantType":    {"token": {f.access}},
		"other grantType": {"token": {f.access}, "grantType": {"password"}},
		"no token":        {"grantType": {"refresh_token"}},
		"empty token":     {"token": {""}, "grantType": {"refresh_token"}},
		"bad clientIp":    {"token": {f.access}, "grantType": {"refresh_token"}, "clientIp": {"999.1.1.1"}},
	} {
		wantCode(t, name, f.App("POST", pathLogin, f.client, form), 5)
	}
	for name, tok := range map[string]string{
		"tampered":    f.access[:len(f.access)-4] + "AAAA",
		"10k chars":   strings.Repeat("a", 10000),
		"sql":         "x' OR '1'='1",
		"odd unicode": "\u202e\u0000\U0001F600",
	} {
		wantCode(t, "token "+name, f.App("POST", pathLogin, f.client, url.Values{"token": {tok}, "grantType": {"refresh_token"}}), 31)
	}
}
