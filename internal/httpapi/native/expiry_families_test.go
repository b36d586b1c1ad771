package native_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/server/servertest"
)

// TestPasswordExpiry_OtherFamiliesRefuseRestrictedTokens presents a token
// issued after the password expired (beyond the grace) to the access-token
// endpoints of the other families: each refuses it in its own style. The
// legacy family takes only refresh tokens: what it issues stays restricted.
func TestPasswordExpiry_OtherFamiliesRefuseRestrictedTokens(t *testing.T) {
	env, _ := expiryEnv(t)
	env.Clock.Advance(100 * day)
	lr := login(env, "", "alice", pw, nil).JSON(t)
	access, refresh := lr["access_token"].(string), lr["refresh_token"].(string)
	if lr["password_warning"] != "expired" {
		t.Fatalf("not expired: %v", lr)
	}

	t.Run("app", func(t *testing.T) {
		c := env.CreateClient("", "shop")
		r := env.App("POST", "/api/v1/public/login/verify", c, url.Values{"token": {access}, "grantType": {"refresh_token"}})
		if r.Status != http.StatusOK || r.JSON(t)["code"] != float64(31) {
			t.Fatalf("app login/verify with a restricted token: %d %s", r.Status, r.Body)
		}
	})

	t.Run("oauth2", func(t *testing.T) {
		r := env.Do(servertest.Request{Method: "GET", Path: "/oauth2/userinfo", Bearer: access})
		if r.Status != http.StatusForbidden || !strings.Contains(r.Header.Get("WWW-Authenticate"), "insufficient_scope") {
			t.Fatalf("userinfo with a restricted token: %d %v %s", r.Status, r.Header, r.Body)
		}
	})

	t.Run("admin", func(t *testing.T) {
		r := env.Do(servertest.Request{Method: "GET", Path: "/admin/users", Bearer: access})
		wantError(t, r, http.StatusForbidden, "password_change_required")
	})

	t.Run("legacy", func(t *testing.T) {
		q := url.Values{"refreshToken": {refresh}, "_nodejs": {"common-data"}}
		r := env.Do(servertest.Request{Method: "GET", Path: "/bo/api/v3/auth/token/refresh?" + q.Encode(),
			Header: map[string]string{"XownerId": "default"}})
		m := r.JSON(t)
		if r.Status != http.StatusOK || m["success"] != true {
			t.Fatalf("legacy refresh: %d %s", r.Status, r.Body)
		}
		next := m["data"].(map[string]any)["accessToken"].(string)
		_, claims, _ := segments(t, next)
		if claims["pwd_change_required"] != true {
			t.Fatalf("the legacy family issued an unrestricted token: %v", claims)
		}
		wantError(t, env.Me("", next), http.StatusForbidden, "password_change_required")
	})
}
