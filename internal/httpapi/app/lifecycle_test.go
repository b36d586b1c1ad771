package app_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/server/servertest"
)

func TestApp_Lifecycle(t *testing.T) {
	for _, pg := range []bool{false, true} {
		name := "sqlite"
		if pg {
			name = "postgres"
		}
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, servertest.Options{Postgres: pg})
			c := f.client

			lr := f.loginResponse(t, url.Values{"clientIp": {"203.0.113.5"}, "payload": {"cart=1"}})
			d := ok(t, lr)
			// A generated user id is a decimal integer below 2^53: a JSON number.
			if got := string(rawData(t, lr)["id"]); got != f.userID {
				t.Fatalf("id is %s, want the number %s", got, f.userID)
			}
			if d["name"] != "Alice A." || d["avatarUrl"] != "https://example.com/a.png" {
				t.Fatalf("login data: %v", d)
			}
			if g, _ := d["groups"].([]any); len(g) != 2 || g[0] != "eng" {
				t.Fatalf("groups: %v", d["groups"])
			}
			refresh, _ := d["refreshToken"].(string)
			access, _ := d["accessToken"].(string)
			if refresh == "" || access == "" {
				t.Fatalf("login answered no tokens: %v", d)
			}

			for i := range 2 {
				f.Clock.Advance(time.Minute)
				r := ok(t, f.App("POST", pathRefresh, c, url.Values{"token": {refresh}}))
				if r["payload"] != "cart=1" || r["expiresIn"] != float64(900) || r["accessToken"] == access {
					t.Fatalf("refresh %d: %v", i, r)
				}
				if r["uid"] != d["id"] {
					t.Fatalf("refresh %d uid %v, want %v", i, r["uid"], d["id"])
				}
				access = r["accessToken"].(string)
			}

			p := ok(t, f.App("PATCH", pathRefresh, c, url.Values{"token": {refresh}, "payload": {"cart=2"}, "accessToken": {"true"}}))
			if p["refreshToken"] != refresh || p["accessToken"] == nil || p["accessToken"] == access {
				t.Fatalf("patch: %v", p)
			}
			newAccess := p["accessToken"].(string)
			if p2 := ok(t, f.App("PATCH", pathRefresh, c, url.Values{"token": {refresh}, "payload": {"cart=3"}})); p2["accessToken"] != nil || p2["refreshToken"] != refresh {
				t.Fatalf("patch without accessToken: %v", p2)
			}

			v := ok(t, f.App("POST", pathVerify, c, url.Values{"token": {newAccess}}))
			if v["payload"] != "cart=2" || v["uid"] != d["id"] {
				t.Fatalf("verify: %v", v)
			}
			if r := ok(t, f.App("POST", pathRefresh, c, url.Values{"token": {refresh}})); r["payload"] != "cart=3" {
				t.Fatalf("refresh after the second patch: %v", r)
			}
			u := ok(t, f.App("POST", pathUserInfo, c, url.Values{"token": {newAccess}}))
			if u["userID"] != d["id"] || u["name"] != "Alice A." || u["avatarUrl"] != "https://example.com/a.png" {
				t.Fatalf("user info: %v", u)
			}

			del := f.App("DELETE", pathRefresh, c, url.Values{"token": {refresh}})
			if ok(t, del) != nil || strings.TrimSpace(string(del.Body)) != `{"code":0}` {
				t.Fatalf("destroy: %s", del.Body)
			}
			for _, at := range []string{access, newAccess} {
				wantCode(t, "verify after destroy", f.App("POST", pathVerify, c, url.Values{"token": {at}}), 31)
				wantCode(t, "user info after destroy", f.App("POST", pathUserInfo, c, url.Values{"token": {at}}), 31)
			}
			wantCode(t, "refresh after destroy", f.App("POST", pathRefresh, c, url.Values{"token": {refresh}}), 31)
			wantCode(t, "patch after destroy", f.App("PATCH", pathRefresh, c, url.Values{"token": {refresh}, "payload": {"x"}}), 31)
			wantCode(t, "destroy after destroy", f.App("DELETE", pathRefresh, c, url.Values{"token": {refresh}}), 31)
		})
	}
}

// TestApp_AccessTokenIsAGatehouseJWT: app access tokens are Gatehouse
// JWTs whose claims name the app's client, with that client alone as the
// audience, and carry the payload; Gatehouse's own endpoints refuse them.
func TestApp_AccessTokenIsAGatehouseJWT(t *testing.T) {
	f := newFixture(t, servertest.Options{})
	d := f.login(t, url.Values{"payload": {"p=1"}})
	access := d["accessToken"].(string)
	if r := f.Me("", access); r.Status != 401 {
		t.Fatalf("/auth/me with an app access token: %d %s, want 401", r.Status, r.Body)
	}
	parts := strings.Split(access, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWS: %q", access)
	}
	claims := decodeSegment(t, parts[1])
	if claims["client_id"] != f.client.ID || claims["payload"] != "p=1" || claims["sub"] != f.userID {
		t.Fatalf("claims: %v", claims)
	}
	if aud, _ := claims["aud"].([]any); len(aud) != 1 || aud[0] != f.client.ID {
		if claims["aud"] != f.client.ID {
			t.Fatalf("aud = %v, want the app's client alone", claims["aud"])
		}
	}
}
