package app_test

import (
	"net/url"
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/server/servertest"
)

// TestApp_SessionsListedAndRevokedLikeOthers: app sessions show in the
// user's sessions (native and admin) with their client and kind, and the
// admin actions that revoke a user's sessions revoke them too.
func TestApp_SessionsListedAndRevokedLikeOthers(t *testing.T) {
	f := newFixture(t, servertest.Options{})
	d := f.login(t, nil)
	access := d["accessToken"].(string)
	sid := decodeSegment(t, splitJWT(access)[1])["sid"]

	find := func(list []any) map[string]any {
		for _, s := range list {
			if m := s.(map[string]any); m["id"] == sid {
				return m
			}
		}
		return nil
	}
	native := f.Do(servertest.Request{Method: "GET", Path: "/auth/sessions", Bearer: f.access})
	if m := find(native.JSON(t)["sessions"].([]any)); m == nil || m["client_id"] != f.client.ID {
		t.Fatalf("native sessions lack the app session of %s: %s", f.client.ID, native.Body)
	}
	admin := f.Admin("GET", "/admin/users/"+f.userID+"/sessions", "", nil)
	if m := find(admin.JSON(t)["sessions"].([]any)); m == nil || m["client_id"] != f.client.ID || m["kind"] != "app" {
		t.Fatalf("admin sessions lack the app session: %s", admin.Body)
	}

	if r := f.Admin("DELETE", "/admin/users/"+f.userID+"/sessions", "", nil); r.Status != 204 {
		t.Fatalf("revoke all: %d %s", r.Status, r.Body)
	}
	wantCode(t, "verify after revoke-all", f.App("POST", pathVerify, f.client, url.Values{"token": {access}}), 31)
	wantCode(t, "refresh after revoke-all", f.App("POST", pathRefresh, f.client, url.Values{"token": {d["refreshToken"].(string)}}), 31)

	// One session revoked by the user from the native family.
	f.access = f.Login("", "alice", pw).AccessToken
	d = f.login(t, nil)
	sid = decodeSegment(t, splitJWT(d["accessToken"].(string))[1])["sid"]
	if r := f.Do(servertest.Request{Method: "DELETE", Path: "/auth/sessions/" + sid.(string), Bearer: f.access}); r.Status != 204 {
		t.Fatalf("native revoke: %d %s", r.Status, r.Body)
	}
	wantCode(t, "verify after native revoke", f.App("POST", pathVerify, f.client, url.Values{"token": {d["accessToken"].(string)}}), 31)
}

func TestApp_DisabledUser(t *testing.T) {
	f := newFixture(t, servertest.Options{})
	d := f.login(t, nil)
	access, refresh := d["accessToken"].(string), d["refreshToken"].(string)
	ok(t, f.App("POST", pathVerify, f.client, url.Values{"token": {access}}))
	if r := f.Admin("PATCH", "/admin/users/"+f.userID, "", map[string]any{"status": "disabled"}); r.Status != 200 {
		t.Fatalf("disable: %d %s", r.Status, r.Body)
	}
	wantCode(t, "verify", f.App("POST", pathVerify, f.client, url.Values{"token": {access}}), 31)
	wantCode(t, "user info", f.App("POST", pathUserInfo, f.client, url.Values{"token": {access}}), 31)
	wantCode(t, "refresh", f.App("POST", pathRefresh, f.client, url.Values{"token": {refresh}}), 31)
	wantCode(t, "login", f.loginResponse(t, nil), 31)
}

// TestApp_RestrictedTokenRefused: a user who must change the password
// holds tokens that only allow that; the family refuses them.
func TestApp_RestrictedTokenRefused(t *testing.T) {
	f := newFixture(t, servertest.Options{})
	if r := f.Admin("PATCH", "/admin/users/"+f.userID, "", map[string]any{"must_change_password": true}); r.Status != 200 {
		t.Fatalf("patch: %d %s", r.Status, r.Body)
	}
	f.access = f.Login("", "alice", pw).AccessToken
	wantCode(t, "login with a restricted token", f.loginResponse(t, nil), 31)
}

// TestApp_UserIDs: ids are JSON numbers when decimal integers below 2^53,
// strings otherwise.
func TestApp_UserIDs(t *testing.T) {
	env := servertest.New(t, servertest.Options{})
	c := env.CreateClient("", "shop")
	for id, want := range map[string]string{
		"9007199254740991": "9007199254740991",   // 2^53 - 1: a number
		"9007199254740992": `"9007199254740992"`, // 2^53: a string
		"0":                "0",
		"007":              `"007"`,
		"legacy.user-42":   `"legacy.user-42"`,
	} {
		env.CreateUser("", map[string]any{"id": id, "username": "u" + id, "password": pw})
		access := env.Login("", "u"+id, pw).AccessToken
		r := env.App("POST", pathLogin, c, url.Values{"token": {access}, "grantType": {"refresh_token"}})
		if got := string(rawData(t, r)["id"]); got != want {
			t.Errorf("id %s written as %s, want %s", id, got, want)
		}
		d := ok(t, r)
		v := env.App("POST", pathVerify, c, url.Values{"token": {d["accessToken"].(string)}})
		if got := string(rawData(t, v)["uid"]); got != want {
			t.Errorf("verify uid %s written as %s, want %s", id, got, want)
		}
		u := env.App("POST", pathUserInfo, c, url.Values{"token": {d["accessToken"].(string)}})
		if got := string(rawData(t, u)["userID"]); got != want {
			t.Errorf("user info userID %s written as %s, want %s", id, got, want)
		}
		rf := env.App("POST", pathRefresh, c, url.Values{"token": {d["refreshToken"].(string)}})
		if got := string(rawData(t, rf)["uid"]); got != want {
			t.Errorf("refresh uid %s written as %s, want %s", id, got, want)
		}
	}
}
