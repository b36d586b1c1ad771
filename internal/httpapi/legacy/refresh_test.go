package legacy_test

import (
	"encoding/json"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/server/servertest"
)

// newUser creates the platform user of the tests and signs her in natively.
func newUser(t *testing.T, env *servertest.Env) (string, servertest.Tokens) {
	t.Helper()
	id := env.CreateUser("", map[string]any{"username": "alice", "password": pw, "display_name": "Alice A.",
		"roles": []string{"editor", "viewer"},
		"attributes": map[string]any{"depId": []any{"d1", 7}, "areaCode": "0571", "jobId": []any{}, "sysId": []any{"s1"},
			"developer": 1, "nested": map[string]any{"innerKey": 1}}})
	return id, env.Login("", "alice", pw)
}

func keys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func TestLegacy_CamelCase(t *testing.T) {
	env := servertest.New(t, servertest.Options{})
	id, tk := newUser(t, env)
	for _, nodejs := range []string{"", "common-data"} {
		r := refresh(env, "default", tk.RefreshToken, nodejs)
		m := body(t, r)
		if got := strings.Join(keys(m), ","); got != "cacheDate,cacheType,code,data,success" {
			t.Fatalf("top-level keys %s", got)
		}
		if m["cacheType"] != "sqlite" || m["cacheDate"] != "2030-01-01T00:00:00Z" {
			t.Fatalf("cache fields: %v %v", m["cacheType"], m["cacheDate"])
		}
		d := success(t, r)
		if got := strings.Join(keys(d), ","); got != "accessToken,clientId,expires,expiresIn,refreshToken,timeStamp,tokenType,tokenUser" {
			t.Fatalf("data keys %s", got)
		}
		u := d["tokenUser"].(map[string]any)
		if got := strings.Join(keys(u), ","); got != "areaCode,clientId,depId,developer,jobId,mergeUserId,pushName,roleId,sysId,userId,userName" {
			t.Fatalf("tokenUser keys %s", got)
		}
		want := map[string]string{
			"tokenType": `"Bearer"`, "clientId": `"gatehouse"`, "expires": `"2030-01-01T00:15:00"`, "expiresIn": "900",
			"timeStamp": "1893456000000",
		}
		for k, v := range want {
			if got := jsonOf(d[k]); got != v {
				t.Errorf("data.%s = %s, want %s", k, got, v)
			}
		}
		wantUser := map[string]string{
			"clientId": `"gatehouse"`, "userId": `"` + id + `"`, "userName": `"alice"`, "pushName": `"Alice A."`,
			"roleId": `["editor","viewer"]`, "depId": `["d1",7]`, "areaCode": `["0571"]`, "jobId": `[]`,
			"sysId": `["s1"]`, "mergeUserId": `[]`, "developer": "1",
		}
		for k, v := range wantUser {
			if got := jsonOf(u[k]); got != v {
				t.Errorf("tokenUser.%s = %s, want %s", k, got, v)
			}
		}
		tk.RefreshToken = d["refreshToken"].(string)
		if me := env.Me("", d["accessToken"].(string)); me.Status != http.StatusOK {
			t.Fatalf("the legacy access token does not work natively: %d %s", me.Status, me.Body)
		}
	}
}

func TestLegacy_SnakeCase(t *testing.T) {
	env := servertest.New(t, servertest.Options{})
	id, tk := newUser(t, env)
	r := refresh(env, "default", tk.RefreshToken, "common-data-under")
	m := body(t, r)
	if got := strings.Join(keys(m), ","); got != "cacheDate,cacheType,code,data,success" {
		t.Fatalf("top-level keys stay as they are, got %s", got)
	}
	d := success(t, r)
	if got := strings.Join(keys(d), ","); got != "access_token,client_id,expires,expires_in,refresh_token,time_stamp,token_type,token_user" {
		t.Fatalf("data keys %s", got)
	}
	u := d["token_user"].(map[string]any)
	if got := strings.Join(keys(u), ","); got != "area_code,client_id,dep_id,developer,job_id,merge_user_id,push_name,role_id,sys_id,user_id,user_name" {
		t.Fatalf("token_user keys %s", got)
	}
	for k, v := range map[string]string{"user_id": `"` + id + `"`, "push_name": `"Alice A."`, "role_id": `["editor","viewer"]`,
		"dep_id": `["d1",7]`, "developer": "1", "user_name": `"alice"`} {
		if got := jsonOf(u[k]); got != v {
			t.Errorf("token_user.%s = %s, want %s", k, got, v)
		}
	}
	if d["token_type"] != "Bearer" || d["expires_in"] != json.Number("900") || d["expires"] != "2030-01-01T00:15:00" {
		t.Fatalf("data: %v", d)
	}
}

func jsonOf(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return "!" + err.Error()
	}
	return string(b)
}

// TestLegacy_CrossFamilyRotation: one session, rotated legacy → native →
// legacy; every answer's token works on the other path.
func TestLegacy_CrossFamilyRotation(t *testing.T) {
	for _, pg := range []bool{false, true} {
		name := map[bool]string{false: "sqlite", true: "postgres"}[pg]
		t.Run(name, func(t *testing.T) {
			env := servertest.New(t, servertest.Options{Postgres: pg})
			_, tk := newUser(t, env)
			r := refresh(env, "default", tk.RefreshToken, "")
			if body(t, r)["cacheType"] != name {
				t.Fatalf("cacheType: %s", r.Body)
			}
			d1 := success(t, r)
			n := env.Refresh("", d1["refreshToken"].(string))
			if n.Status != http.StatusOK {
				t.Fatalf("native refresh of a legacy token: %d %s", n.Status, n.Body)
			}
			d2 := success(t, refresh(env, "default", n.JSON(t)["refresh_token"].(string), "common-data-under"))
			if d2["refresh_token"] == "" {
				t.Fatalf("legacy refresh of a native token: %v", d2)
			}
			// Every session is the same one.
			sessions := env.Do(servertest.Request{Method: "GET", Path: "/auth/sessions", Bearer: d2["access_token"].(string)}).JSON(t)["sessions"].([]any)
			if len(sessions) != 1 {
				t.Fatalf("%d sessions, want the one family: %v", len(sessions), sessions)
			}
		})
	}
}

// TestLegacy_ReuseRevokesFamilyEverywhere: a rotated token presented again
// on the legacy path revokes the family; the native path and the access
// tokens stop working, and the audit event carries the platform's ids.
func TestLegacy_ReuseRevokesFamilyEverywhere(t *testing.T) {
	env := servertest.New(t, servertest.Options{})
	id, tk := newUser(t, env)
	d := success(t, refresh(env, "default", tk.RefreshToken, ""))
	next, access := d["refreshToken"].(string), d["accessToken"].(string)

	r := get(env, map[string][]string{"refreshToken": {tk.RefreshToken}}, map[string]string{
		"XownerId": "default", "XsysId": "sys-9", "XuserFromFirstShareId": "share-1", "XuserFromSecondShareId": "share-2",
		"XverifyApi": "1", "XfilterAreaCode": "0571", "Content-Type": "application/json"})
	if code := failure(t, "reuse", r, 400); code != "invalid_grant" {
		t.Fatalf("reuse errorCode %s", code)
	}
	if n := env.Refresh("", next); n.Status != http.StatusBadRequest {
		t.Fatalf("native refresh of the successor after reuse: %d %s", n.Status, n.Body)
	}
	failure(t, "legacy refresh of the successor after reuse", refresh(env, "default", next, ""), 400)
	if me := env.Me("", access); me.Status != http.StatusUnauthorized {
		t.Fatalf("access token after reuse: %d", me.Status)
	}
	ev := env.Admin("GET", "/admin/audit?type=refresh_token_reused&user_id="+id, "", nil).JSON(t)["events"].([]any)
	if len(ev) != 1 {
		t.Fatalf("%d reuse events, want 1", len(ev))
	}
	det := ev[0].(map[string]any)["details"].(map[string]any)
	if det["XsysId"] != "sys-9" || det["XuserFromFirstShareId"] != "share-1" || det["XuserFromSecondShareId"] != "share-2" {
		t.Fatalf("reuse details %v", det)
	}
}

func TestLegacy_TenantSelection(t *testing.T) {
	env := servertest.New(t, servertest.Options{})
	_, tk := newUser(t, env)
	if r := env.Admin("POST", "/admin/tenants", "", map[string]any{"id": "acme", "name": "Acme"}); r.Status != http.StatusCreated {
		t.Fatalf("tenant: %d", r.Status)
	}
	for name, h := range map[string]map[string]string{
		"missing XownerId": {},
		"empty XownerId":   {"XownerId": ""},
		"invalid XownerId": {"XownerId": "no such/tenant"},
	} {
		code := failure(t, name, get(env, map[string][]string{"refreshToken": {tk.RefreshToken}}, h), 400)
		if code != "invalid_request" {
			t.Errorf("%s: errorCode %s", name, code)
		}
	}
	failure(t, "unknown tenant", refresh(env, "nosuchtenant", tk.RefreshToken, ""), 400)
	failure(t, "other tenant", refresh(env, "acme", tk.RefreshToken, ""), 400)
	// None of this touched the token: it still rotates in its own tenant.
	success(t, refresh(env, "default", tk.RefreshToken, ""))
}

// TestLegacy_QueryStringNeverLogged: the refresh token travels in the URL;
// neither it nor anything else of the query string reaches the logs.
func TestLegacy_QueryStringNeverLogged(t *testing.T) {
	env := servertest.New(t, servertest.Options{})
	_, tk := newUser(t, env)
	d := success(t, refresh(env, "default", tk.RefreshToken, "common-data"))
	failure(t, "reuse", refresh(env, "default", tk.RefreshToken, "common-data"), 400)
	failure(t, "bad casing", get(env, map[string][]string{"refreshToken": {"secret-looking-value"}, "_nodejs": {"bogus-mode"}},
		map[string]string{"XownerId": "default"}), 400)
	logs := env.Logs.String()
	for _, s := range []string{tk.RefreshToken, d["refreshToken"].(string), d["accessToken"].(string), "refreshToken=", "_nodejs", "common-data", "secret-looking-value", "bogus-mode"} {
		if strings.Contains(logs, s) {
			t.Errorf("the logs contain %q", s)
		}
	}
	if !strings.Contains(logs, `"path":"/bo/api/v3/auth/token/refresh"`) {
		t.Errorf("the access log does not record the path: %s", logs)
	}
}

func TestLegacy_BadCasing(t *testing.T) {
	env := servertest.New(t, servertest.Options{})
	_, tk := newUser(t, env)
	for _, v := range []string{"common", "COMMON-DATA", "snake", "common-data-under "} {
		failure(t, "_nodejs="+v, refresh(env, "default", tk.RefreshToken, v), 400)
	}
	success(t, refresh(env, "default", tk.RefreshToken, "common-data-under"))
}

func TestLegacy_StoreDown(t *testing.T) {
	env := servertest.New(t, servertest.Options{})
	_, tk := newUser(t, env)
	if err := env.Server.Store.Close(); err != nil {
		t.Fatal(err)
	}
	if code := failure(t, "store down", refresh(env, "default", tk.RefreshToken, ""), 503); code != "unavailable" {
		t.Fatalf("errorCode %s", code)
	}
}

func TestLegacy_ExpiredToken(t *testing.T) {
	env := servertest.New(t, servertest.Options{})
	_, tk := newUser(t, env)
	env.Clock.Advance(8 * 24 * time.Hour)
	failure(t, "expired", refresh(env, "default", tk.RefreshToken, ""), 400)
}

// TestLegacy_SuccessRecordedWithoutSecrets: a successful refresh is logged
// at debug level with the platform's ids, never with a token.
func TestLegacy_SuccessRecordedWithoutSecrets(t *testing.T) {
	env := servertest.New(t, servertest.Options{})
	_, tk := newUser(t, env)
	d := success(t, get(env, map[string][]string{"refreshToken": {tk.RefreshToken}}, map[string]string{
		"XownerId": "default", "XsysId": "crm-7", "XuserFromFirstShareId": "share-x"}))
	var line string
	for _, l := range strings.Split(env.Logs.String(), "\n") {
		if strings.Contains(l, `"msg":"legacy refresh"`) {
			line = l
		}
	}
	if line == "" || !strings.Contains(line, `"level":"DEBUG"`) || !strings.Contains(line, "crm-7") || !strings.Contains(line, "share-x") {
		t.Fatalf("no debug record of the refresh with the platform ids: %q", line)
	}
	for _, secret := range []string{tk.RefreshToken, d["refreshToken"].(string), d["accessToken"].(string)} {
		if strings.Contains(env.Logs.String(), secret) {
			t.Fatal("a token appears in the logs")
		}
	}
}
