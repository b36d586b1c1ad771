package oauth2_test

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/server/servertest"
)

type feedAnswer struct {
	Events []struct {
		Seq int64  `json:"seq"`
		SID string `json:"sid"`
		Exp int64  `json:"exp"`
	} `json:"events"`
	Next int64 `json:"next"`
}

func readFeed(t *testing.T, env *servertest.Env, c servertest.Client, query string) feedAnswer {
	t.Helper()
	r := env.Do(servertest.Request{Method: "GET", Path: "/oauth2/revocations" + query,
		Header: map[string]string{"Authorization": servertest.BasicAuth(c.ID, c.Secret)}})
	if r.Status != http.StatusOK {
		t.Fatalf("feed%s: %d %s", query, r.Status, r.Body)
	}
	checkNoStore(t, r)
	var f feedAnswer
	r.Decode(t, &f)
	return f
}

func sessionOf(t *testing.T, access string) string {
	t.Helper()
	sid, _ := payloadOf(t, access)["sid"].(string)
	return sid
}

// TestFeed_TenantScopedWithCursor: the feed lists the calling client's
// tenant's revoked sessions, in order, from a cursor, each with the time
// after which none of its access tokens can be valid.
func TestFeed_TenantScopedWithCursor(t *testing.T) {
	s := newSetup(t, servertest.Options{Env: map[string]string{"GATEHOUSE_ACCESS_TOKEN_TTL": "10m"}})
	env := s.env
	env.Admin("POST", "/admin/tenants", "", map[string]any{"id": "acme"})
	env.CreateUser("acme", map[string]any{"username": "eve", "password": alicePassword})
	acme := env.CreateOAuthClient("acme", map[string]any{"name": "acme-api"})

	if f := readFeed(t, env, s.client, ""); len(f.Events) != 0 || f.Next != 0 {
		t.Fatalf("empty feed = %+v", f)
	}
	logout := func(tenant, user string) string {
		tk := env.Login(tenant, user, alicePassword)
		h := map[string]string{}
		if tenant != "" {
			h["X-Tenant-ID"] = tenant
		}
		if r := env.Do(servertest.Request{Method: "POST", Path: "/auth/logout", Bearer: tk.AccessToken, Header: h}); r.Status != http.StatusNoContent {
			t.Fatalf("logout: %d", r.Status)
		}
		return sessionOf(t, tk.AccessToken)
	}
	revokedAt := env.Clock.Now()
	a1 := logout("", "alice")
	e1 := logout("acme", "eve")
	a2 := logout("", "alice")

	f := readFeed(t, env, s.client, "")
	if len(f.Events) != 2 || f.Events[0].SID != a1 || f.Events[1].SID != a2 || f.Next != f.Events[1].Seq {
		t.Fatalf("default tenant feed = %+v", f)
	}
	if want := revokedAt.Add(10 * time.Minute).Unix(); f.Events[0].Exp != want {
		t.Errorf("exp = %d, want revocation + access TTL = %d", f.Events[0].Exp, want)
	}
	g := readFeed(t, env, acme, "")
	if len(g.Events) != 1 || g.Events[0].SID != e1 {
		t.Fatalf("acme feed = %+v", g)
	}
	// Paging with limit and the cursor.
	p1 := readFeed(t, env, s.client, "?limit=1")
	if len(p1.Events) != 1 || p1.Events[0].SID != a1 {
		t.Fatalf("page 1 = %+v", p1)
	}
	p2 := readFeed(t, env, s.client, "?limit=1&since="+itoa(p1.Next))
	if len(p2.Events) != 1 || p2.Events[0].SID != a2 {
		t.Fatalf("page 2 = %+v", p2)
	}
	if p3 := readFeed(t, env, s.client, "?since="+itoa(p2.Next)); len(p3.Events) != 0 || p3.Next != p2.Next {
		t.Fatalf("page 3 = %+v", p3)
	}
	// Once every access token of a revoked session has expired, it leaves the feed.
	env.Clock.Advance(11 * time.Minute)
	if f := readFeed(t, env, s.client, ""); len(f.Events) != 0 {
		t.Errorf("expired revocations still listed: %+v", f)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestFeed_Errors(t *testing.T) {
	s := newSetup(t, servertest.Options{})
	env := s.env
	r := env.Do(servertest.Request{Method: "GET", Path: "/oauth2/revocations"})
	wantError(t, r, http.StatusUnauthorized, "invalid_client")
	for _, q := range []string{"?since=-1", "?since=abc", "?since=1&since=2", "?limit=x", "?since=99999999999999999999"} {
		r := env.Do(servertest.Request{Method: "GET", Path: "/oauth2/revocations" + q,
			Header: map[string]string{"Authorization": servertest.BasicAuth(s.client.ID, s.client.Secret)}})
		wantError(t, r, http.StatusBadRequest, "invalid_request")
	}
	pub := env.CreateOAuthClient("", map[string]any{"name": "spa", "public": true})
	r = env.Do(servertest.Request{Method: "GET", Path: "/oauth2/revocations",
		Header: map[string]string{"Authorization": servertest.BasicAuth(pub.ID, "")}})
	wantError(t, r, http.StatusUnauthorized, "invalid_client")
}

// TestFamily_DisabledAnswers404AndLeavesDiscovery: with the family
// switched off, its paths are unknown and discovery names none of them.
func TestFamily_DisabledAnswers404AndLeavesDiscovery(t *testing.T) {
	env := servertest.New(t, servertest.Options{Env: map[string]string{"GATEHOUSE_FAMILIES": "native"}})
	for _, p := range []string{"/oauth2/token", "/oauth2/introspect", "/oauth2/revoke"} {
		if r := env.Do(servertest.Request{Method: "POST", Path: p}); r.Status != http.StatusNotFound {
			t.Errorf("POST %s: %d", p, r.Status)
		}
	}
	for _, p := range []string{"/oauth2/userinfo", "/oauth2/revocations"} {
		if r := env.Do(servertest.Request{Method: "GET", Path: p}); r.Status != http.StatusNotFound {
			t.Errorf("GET %s: %d", p, r.Status)
		}
	}
	d := env.Do(servertest.Request{Method: "GET", Path: "/.well-known/openid-configuration"}).JSON(t)
	if _, ok := d["token_endpoint"]; ok {
		t.Errorf("discovery names the token endpoint of a disabled family: %v", d)
	}
}

// TestFamily_Discovery: the discovery document names every endpoint and
// supported value of the family.
func TestFamily_Discovery(t *testing.T) {
	env := servertest.New(t, servertest.Options{})
	d := env.Do(servertest.Request{Method: "GET", Path: "/.well-known/openid-configuration"}).JSON(t)
	iss := "http://gatehouse.test"
	for k, want := range map[string]string{
		"issuer": iss, "token_endpoint": iss + "/oauth2/token", "introspection_endpoint": iss + "/oauth2/introspect",
		"revocation_endpoint": iss + "/oauth2/revoke", "userinfo_endpoint": iss + "/oauth2/userinfo",
		"revocation_feed_endpoint": iss + "/oauth2/revocations", "jwks_uri": iss + "/.well-known/jwks.json",
	} {
		if d[k] != want {
			t.Errorf("%s = %v, want %s", k, d[k], want)
		}
	}
	for k, want := range map[string][]string{
		"grant_types_supported":                 {"authorization_code", "password", "refresh_token", "client_credentials", "urn:ietf:params:oauth:grant-type:token-exchange"},
		"scopes_supported":                      {"openid", "profile", "email", "phone", "offline_access"},
		"token_endpoint_auth_methods_supported": {"client_secret_basic", "client_secret_post", "none"},
		"id_token_signing_alg_values_supported": {"EdDSA"},
	} {
		got, _ := d[k].([]any)
		if len(got) != len(want) {
			t.Errorf("%s = %v, want %v", k, got, want)
			continue
		}
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("%s = %v, want %v", k, got, want)
			}
		}
	}
}
