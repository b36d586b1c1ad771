package app_test

import (
	"encoding/base64"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/server/servertest"
)

// TestApp_ClientIsolation: every operation with another client's
// credentials on this client's session answers 31 and changes nothing.
func TestApp_ClientIsolation(t *testing.T) {
	f := newFixture(t, servertest.Options{})
	spy := f.CreateClient("", "spy")
	d := f.login(t, url.Values{"payload": {"mine"}})
	refresh, access := d["refreshToken"].(string), d["accessToken"].(string)

	for _, tc := range []struct {
		name, method, path string
		form               url.Values
	}{
		{"refresh", "POST", pathRefresh, url.Values{"token": {refresh}}},
		{"patch", "PATCH", pathRefresh, url.Values{"token": {refresh}, "payload": {"theirs"}, "accessToken": {"true"}}},
		{"destroy", "DELETE", pathRefresh, url.Values{"token": {refresh}}},
		{"verify", "POST", pathVerify, url.Values{"token": {access}}},
		{"user info", "POST", pathUserInfo, url.Values{"token": {access}}},
	} {
		wantCode(t, tc.name+" by another client", f.App(tc.method, tc.path, spy, tc.form), 31)
	}
	if v := ok(t, f.App("POST", pathVerify, f.client, url.Values{"token": {access}})); v["payload"] != "mine" {
		t.Fatalf("owner's verify after the attempts: %v", v)
	}
	if r := ok(t, f.App("POST", pathRefresh, f.client, url.Values{"token": {refresh}})); r["payload"] != "mine" {
		t.Fatalf("owner's refresh after the attempts: %v", r)
	}

	// A client of another tenant cannot open a session with this tenant's token.
	if r := f.Admin("POST", "/admin/tenants", "", map[string]any{"id": "acme", "name": "Acme"}); r.Status != 201 {
		t.Fatalf("tenant: %d %s", r.Status, r.Body)
	}
	foreign := f.CreateClient("acme", "foreign")
	wantCode(t, "login with another tenant's client", f.App("POST", pathLogin, foreign,
		url.Values{"token": {f.access}, "grantType": {"refresh_token"}}), 31)
}

func TestApp_BadClientCredentials(t *testing.T) {
	f := newFixture(t, servertest.Options{})
	form := url.Values{"token": {f.access}, "grantType": {"refresh_token"}}
	for name, auth := range map[string]string{
		"none":         "",
		"bearer":       "Bearer " + f.access,
		"wrong secret": servertest.BasicAuth(f.client.ID, f.client.Secret[:40]+"abc"),
		"unknown id":   servertest.BasicAuth("nosuchclient", f.client.Secret),
		"empty secret": servertest.BasicAuth(f.client.ID, ""),
		"no colon":     "Basic " + base64.StdEncoding.EncodeToString([]byte(f.client.ID)),
		"not base64":   "Basic %%%",
		"huge":         servertest.BasicAuth(strings.Repeat("i", 10000), strings.Repeat("s", 10000)),
		"sql":          servertest.BasicAuth("' OR 1=1 --", "x"),
		"odd unicode":  servertest.BasicAuth("\u202e\u0000ü", "\uffff"),
	} {
		h := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
		if auth != "" {
			h["Authorization"] = auth
		}
		r := f.Do(servertest.Request{Method: "POST", Path: pathLogin, Body: strings.NewReader(form.Encode()), Header: h})
		wantCode(t, name, r, 5)
	}
	// The RFC 6749 §2.3.1 form (each part form-encoded) works unchanged.
	enc := servertest.Client{ID: url.QueryEscape(f.client.ID), Secret: url.QueryEscape(f.client.Secret)}
	ok(t, f.App("POST", pathLogin, enc, form))
	if f.LogsContain(f.client.Secret) {
		t.Fatal("the client secret appears in the logs")
	}
}

func TestApp_ClientFailuresThrottled(t *testing.T) {
	f := newFixture(t, servertest.Options{Env: map[string]string{"GATEHOUSE_LOGIN_MAX_FAILURES": "3"}})
	bad := servertest.Client{ID: f.client.ID, Secret: "guess"}
	form := url.Values{"token": {f.access}, "grantType": {"refresh_token"}}
	for range 3 {
		wantCode(t, "wrong secret", f.App("POST", pathLogin, bad, form), 5)
	}
	a := decode(t, f.App("POST", pathLogin, f.client, form))
	if a.Code != 5 || !strings.Contains(a.Msg, "too many") {
		t.Fatalf("the right secret while locked: %+v", a)
	}
	f.Clock.Advance(16 * time.Minute)
	form.Set("token", f.Login("", "alice", pw).AccessToken)
	ok(t, f.App("POST", pathLogin, f.client, form))
}

func TestApp_DeletedAndRotatedClients(t *testing.T) {
	f := newFixture(t, servertest.Options{})
	form := url.Values{"token": {f.access}, "grantType": {"refresh_token"}}
	d := f.login(t, nil)

	r := f.Admin("POST", "/admin/clients/"+f.client.ID+"/secret", "", nil)
	if r.Status != 200 {
		t.Fatalf("rotate: %d %s", r.Status, r.Body)
	}
	rotated := servertest.Client{ID: f.client.ID, Secret: r.JSON(t)["client_secret"].(string)}
	wantCode(t, "old secret", f.App("POST", pathLogin, f.client, form), 5)
	if v := ok(t, f.App("POST", pathVerify, rotated, url.Values{"token": {d["accessToken"].(string)}})); v["uid"] == nil {
		t.Fatalf("sessions survive a rotation: %v", v)
	}

	if r := f.Admin("DELETE", "/admin/clients/"+f.client.ID, "", nil); r.Status != 204 {
		t.Fatalf("delete: %d %s", r.Status, r.Body)
	}
	wantCode(t, "deleted client", f.App("POST", pathVerify, rotated, url.Values{"token": {d["accessToken"].(string)}}), 5)
}
