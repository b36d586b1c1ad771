package server_test

import (
	"bufio"
	"bytes"
	"database/sql"
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/federation/fedtest"
	"github.com/gatehouse-auth/gatehouse/internal/server/servertest"
)

// nul is the hostile value: a NUL byte inside an otherwise ordinary string.
const nul = "a\x00b"

const nulPassword = "correct horse battery"

// nulFixture is what the requests of TestNUL need: a user with tokens, a
// confidential client, a provider and the ids of things to address.
type nulFixture struct {
	env     *servertest.Env
	userID  string
	access  string
	refresh string
	client  servertest.Client
	idp     *fedtest.Provider
}

func newNULFixture(t *testing.T, pg bool) *nulFixture {
	env := servertest.New(t, servertest.Options{Postgres: pg})
	f := &nulFixture{env: env, idp: fedtest.New(t)}
	f.userID = env.CreateUser("", map[string]any{"username": "alice", "password": nulPassword})
	tk := env.Login("", "alice", nulPassword)
	f.access, f.refresh = tk.AccessToken, tk.RefreshToken
	f.client = env.CreateOAuthClient("", map[string]any{"name": "shop",
		"grant_types": []string{"password", "refresh_token", "client_credentials", "urn:ietf:params:oauth:grant-type:token-exchange"}})
	env.CreateProvider("", map[string]any{"name": "corp", "issuer": f.idp.Issuer, "audiences": []string{"web"}, "auto_provision": true})
	return f
}

// with returns a copy of body whose field (a dotted path into nested
// objects and lists: "roles.0", "attributes.k") holds the NUL value; the
// key "attributes.<NUL>" puts the NUL into an object key.
func with(body map[string]any, field string) map[string]any {
	out := map[string]any{}
	for k, v := range body {
		out[k] = v
	}
	head, rest, nested := strings.Cut(field, ".")
	switch {
	case !nested:
		out[head] = nul
	case rest == "0":
		out[head] = []any{nul}
	case rest == "<NUL>":
		out[head] = map[string]any{nul: "v"}
	default:
		out[head] = map[string]any{rest: nul}
	}
	return out
}

func form(body map[string]string, field string) url.Values {
	v := url.Values{}
	for k, s := range body {
		v.Set(k, s)
	}
	v.Set(field, nul)
	return v
}

// nulCase is one request with a NUL in one field. want, when not 0, is the
// status both stores must answer (app and legacy answer 200 with an error
// body: their body code is compared instead).
type nulCase struct {
	name string
	want int
	req  func(f *nulFixture) servertest.Request
}

func jsonReq(method, path string, body map[string]any, bearer string) servertest.Request {
	return servertest.Request{Method: method, Path: path, JSON: body, Bearer: bearer}
}

func formReq(method, path string, v url.Values, header map[string]string) servertest.Request {
	h := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
	for k, s := range header {
		h[k] = s
	}
	return servertest.Request{Method: method, Path: path, Body: strings.NewReader(v.Encode()), Header: h}
}

func nulCases() []nulCase {
	var cs []nulCase
	add := func(name string, want int, req func(f *nulFixture) servertest.Request) {
		cs = append(cs, nulCase{name, want, req})
	}
	esc := url.PathEscape(nul)
	q := url.QueryEscape(nul)

	// Native.
	for _, field := range []string{"username", "password", "client_id"} {
		want := http.StatusUnauthorized
		if field == "client_id" {
			want = 0
		}
		add("native login "+field, want, func(f *nulFixture) servertest.Request {
			return jsonReq("POST", "/auth/login", with(map[string]any{"username": "alice", "password": nulPassword}, field), "")
		})
	}
	add("native refresh refresh_token", http.StatusBadRequest, func(f *nulFixture) servertest.Request {
		return jsonReq("POST", "/auth/refresh", with(nil, "refresh_token"), "")
	})
	add("native ticket", http.StatusBadRequest, func(f *nulFixture) servertest.Request {
		return jsonReq("POST", "/auth/ticket/signin", with(nil, "ticket"), "")
	})
	for _, field := range []string{"id_token", "provider"} {
		add("native id-token "+field, 0, func(f *nulFixture) servertest.Request {
			tok := f.idp.Sign(f.idp.Claims("sub-nul", "web", f.env.Clock.Now()))
			return jsonReq("POST", "/auth/id-token/signin", with(map[string]any{"id_token": tok, "provider": "corp"}, field), "")
		})
	}
	for _, field := range []string{"challenge_token", "method", "code"} {
		add("native mfa verify "+field, 0, func(f *nulFixture) servertest.Request {
			return jsonReq("POST", "/auth/mfa/verify", with(map[string]any{"challenge_token": "x", "method": "totp", "code": "123456"}, field), "")
		})
	}
	add("native totp confirm code", 0, func(f *nulFixture) servertest.Request {
		return jsonReq("POST", "/auth/mfa/totp/confirm", with(nil, "code"), f.access)
	})
	for _, field := range []string{"old_password", "new_password"} {
		add("native password change "+field, 0, func(f *nulFixture) servertest.Request {
			return jsonReq("POST", "/auth/password/change", with(map[string]any{"old_password": nulPassword, "new_password": "another long password"}, field), f.access)
		})
	}
	add("native delete session id", http.StatusBadRequest, func(f *nulFixture) servertest.Request {
		return servertest.Request{Method: "DELETE", Path: "/auth/sessions/" + esc, Bearer: f.access}
	})

	// Legacy.
	for _, p := range []string{"refreshToken", "_nodejs"} {
		add("legacy query "+p, 0, func(f *nulFixture) servertest.Request {
			v := url.Values{"refreshToken": {f.refresh}, "_nodejs": {"common-data"}}
			v.Set(p, nul)
			return servertest.Request{Method: "GET", Path: "/bo/api/v3/auth/token/refresh?" + v.Encode(), Header: map[string]string{"XownerId": "default"}}
		})
	}

	// App family.
	appReq := func(f *nulFixture, method, path string, v url.Values) servertest.Request {
		return formReq(method, path, v, map[string]string{"Authorization": servertest.BasicAuth(f.client.ID, f.client.Secret)})
	}
	for _, field := range []string{"token", "grantType", "clientIp", "valid", "payload"} {
		add("app login/verify "+field, 0, func(f *nulFixture) servertest.Request {
			return appReq(f, "POST", "/api/v1/public/login/verify", form(map[string]string{"token": f.access, "grantType": "refresh_token"}, field))
		})
	}
	for _, field := range []string{"token", "payload", "accessToken"} {
		add("app set payload "+field, 0, func(f *nulFixture) servertest.Request {
			return appReq(f, "PATCH", "/api/v1/app/token/refresh", form(map[string]string{"token": "x", "payload": "p"}, field))
		})
	}
	for _, rt := range []struct{ method, path string }{
		{"DELETE", "/api/v1/app/token/refresh"}, {"POST", "/api/v1/app/token/refresh"},
		{"POST", "/api/v1/app/token/access/verify"}, {"POST", "/api/v1/app/token/access/user/info"},
	} {
		add("app "+rt.method+" "+rt.path+" token", 0, func(f *nulFixture) servertest.Request {
			return appReq(f, rt.method, rt.path, form(nil, "token"))
		})
	}
	add("app basic client id", 0, func(f *nulFixture) servertest.Request {
		return formReq("POST", "/api/v1/app/token/access/verify", url.Values{"token": {"x"}},
			map[string]string{"Authorization": servertest.BasicAuth(nul, "secret")})
	})

	// OAuth 2.0.
	tokenForm := map[string]string{"grant_type": "password", "username": "alice", "password": nulPassword}
	for _, field := range []string{"grant_type", "scope", "username", "password", "refresh_token", "subject_token",
		"subject_token_type", "requested_token_type", "actor_token", "audience", "provider"} {
		add("oauth2 token "+field, 0, func(f *nulFixture) servertest.Request {
			v := form(tokenForm, field)
			if field == "refresh_token" {
				v.Set("grant_type", "refresh_token")
			}
			if strings.HasPrefix(field, "subject") || field == "requested_token_type" || field == "actor_token" || field == "provider" || field == "audience" {
				v.Set("grant_type", "urn:ietf:params:oauth:grant-type:token-exchange")
			}
			return formReq("POST", "/oauth2/token", v, map[string]string{"Authorization": servertest.BasicAuth(f.client.ID, f.client.Secret)})
		})
	}
	for _, field := range []string{"client_id", "client_secret"} {
		add("oauth2 token post auth "+field, http.StatusUnauthorized, func(f *nulFixture) servertest.Request {
			v := form(map[string]string{"grant_type": "client_credentials", "client_id": f.client.ID, "client_secret": f.client.Secret}, field)
			return formReq("POST", "/oauth2/token", v, nil)
		})
	}
	for _, p := range []string{"/oauth2/introspect", "/oauth2/revoke"} {
		add("oauth2 "+p+" token", 0, func(f *nulFixture) servertest.Request {
			return formReq("POST", p, form(nil, "token"), map[string]string{"Authorization": servertest.BasicAuth(f.client.ID, f.client.Secret)})
		})
	}
	add("oauth2 revocations since", 0, func(f *nulFixture) servertest.Request {
		return servertest.Request{Method: "GET", Path: "/oauth2/revocations?since=" + q,
			Header: map[string]string{"Authorization": servertest.BasicAuth(f.client.ID, f.client.Secret)}}
	})

	// Admin bodies.
	add("admin tenant id", http.StatusBadRequest, func(f *nulFixture) servertest.Request {
		return jsonReq("POST", "/admin/tenants", with(map[string]any{"id": "t2"}, "id"), servertest.AdminKey)
	})
	add("admin tenant name", http.StatusBadRequest, func(f *nulFixture) servertest.Request {
		return jsonReq("POST", "/admin/tenants", with(map[string]any{"id": "t3"}, "name"), servertest.AdminKey)
	})
	userFields := []string{"id", "username", "email", "phone", "display_name", "avatar_url", "password", "password_hash",
		"status", "groups.0", "roles.0", "attributes.k", "attributes.<NUL>"}
	for _, field := range userFields {
		add("admin create user "+field, http.StatusBadRequest, func(f *nulFixture) servertest.Request {
			return jsonReq("POST", "/admin/users", with(map[string]any{"username": "nul-user"}, field), servertest.AdminKey)
		})
		if field == "id" || field == "password_hash" {
			continue
		}
		add("admin patch user "+field, http.StatusBadRequest, func(f *nulFixture) servertest.Request {
			return jsonReq("PATCH", "/admin/users/"+f.userID, with(nil, field), servertest.AdminKey)
		})
	}
	add("admin patch user password_changed_at", http.StatusBadRequest, func(f *nulFixture) servertest.Request {
		return jsonReq("PATCH", "/admin/users/"+f.userID, with(nil, "password_changed_at"), servertest.AdminKey)
	})
	for _, field := range []string{"user_id", "purpose"} {
		add("admin ticket "+field, 0, func(f *nulFixture) servertest.Request {
			return jsonReq("POST", "/admin/tickets", with(map[string]any{"user_id": f.userID}, field), servertest.AdminKey)
		})
	}
	for _, field := range []string{"name", "issuer", "audiences.0", "jwks_uri", "algorithms.0"} {
		add("admin provider "+field, http.StatusBadRequest, func(f *nulFixture) servertest.Request {
			return jsonReq("POST", "/admin/providers", with(map[string]any{"name": "p2", "issuer": "https://idp2.example", "audiences": []string{"a"}}, field), servertest.AdminKey)
		})
	}
	for _, field := range []string{"name", "grant_types.0", "scopes.0"} {
		add("admin create client "+field, http.StatusBadRequest, func(f *nulFixture) servertest.Request {
			return jsonReq("POST", "/admin/clients", with(map[string]any{"name": "c2"}, field), servertest.AdminKey)
		})
		add("admin patch client "+field, http.StatusBadRequest, func(f *nulFixture) servertest.Request {
			return jsonReq("PATCH", "/admin/clients/"+f.client.ID, with(nil, field), servertest.AdminKey)
		})
	}
	add("admin rotate keys alg", http.StatusBadRequest, func(f *nulFixture) servertest.Request {
		return jsonReq("POST", "/admin/keys/rotate", with(nil, "alg"), servertest.AdminKey)
	})

	// Admin paths and query parameters.
	for _, rt := range []struct{ method, path string }{
		{"GET", "/admin/users/" + esc}, {"PATCH", "/admin/users/" + esc}, {"DELETE", "/admin/users/" + esc},
		{"GET", "/admin/users/" + esc + "/sessions"}, {"DELETE", "/admin/users/" + esc + "/sessions"},
		{"DELETE", "/admin/users/" + esc + "/mfa"}, {"DELETE", "/admin/sessions/" + esc},
		{"GET", "/admin/providers/" + esc}, {"DELETE", "/admin/providers/" + esc},
		{"GET", "/admin/clients/" + esc}, {"PATCH", "/admin/clients/" + esc}, {"DELETE", "/admin/clients/" + esc},
		{"POST", "/admin/clients/" + esc + "/secret"},
		{"GET", "/admin/users?after=" + q}, {"GET", "/admin/users?limit=" + q},
		{"GET", "/admin/audit?user_id=" + q}, {"GET", "/admin/audit?type=" + q}, {"GET", "/admin/audit?limit=" + q},
	} {
		add("admin "+rt.method+" "+rt.path, http.StatusBadRequest, func(f *nulFixture) servertest.Request {
			var body any
			if rt.method == "PATCH" {
				body = map[string]any{"display_name": "x"}
			}
			return servertest.Request{Method: rt.method, Path: rt.path, JSON: body, Bearer: servertest.AdminKey}
		})
	}
	return cs
}

// answer is what a request got, as compared between the stores.
type answer struct {
	status int
	code   any // the body's code (app and legacy answer 200 with an error body)
	body   string
}

func (f *nulFixture) send(t *testing.T, c nulCase) answer {
	r := f.env.Do(c.req(f))
	a := answer{status: r.Status, body: string(r.Body)}
	var m map[string]any
	if json.Unmarshal(r.Body, &m) == nil {
		a.code = m["code"]
		if a.code == nil {
			a.code = m["error"]
		}
	}
	return a
}

// TestNUL_SameRefusalOnBothStores sends a NUL byte in every string field of
// every family, on SQLite and PostgreSQL: both answer alike, never a 5xx,
// and no row holds a NUL afterwards.
func TestNUL_SameRefusalOnBothStores(t *testing.T) {
	lite, pg := newNULFixture(t, false), newNULFixture(t, true)
	for _, c := range nulCases() {
		t.Run(c.name, func(t *testing.T) {
			a, b := lite.send(t, c), pg.send(t, c)
			if a.status >= 500 || b.status >= 500 {
				t.Fatalf("sqlite %d %.200s / postgres %d %.200s", a.status, a.body, b.status, b.body)
			}
			if a.status != b.status || a.code != b.code {
				t.Fatalf("stores differ: sqlite %d %.200s / postgres %d %.200s", a.status, a.body, b.status, b.body)
			}
			if c.want != 0 && a.status != c.want {
				t.Fatalf("status %d, want %d: %.200s", a.status, c.want, a.body)
			}
			if a.status == http.StatusOK && strings.HasPrefix(c.name, "app") && a.code == float64(0) {
				t.Fatalf("app accepted a NUL: %.200s", a.body)
			}
		})
	}
	for _, f := range []*nulFixture{lite, pg} {
		if n := nulRows(t, f.env); n != "" {
			t.Errorf("%s stored a NUL: %s", f.env.DB[:6], n)
		}
		for _, line := range strings.Split(f.env.Logs.String(), "\n") {
			if strings.Contains(line, "audit event not written") || strings.Contains(line, `"request failed"`) {
				t.Errorf("%s logged: %.300s", f.env.DB[:6], line)
			}
		}
	}
}

// nulRows returns the first row of the tables written by requests that
// holds a NUL byte in any column, or "".
func nulRows(t *testing.T, env *servertest.Env) string {
	db := env.SQL()
	for _, table := range []string{"tenants", "users", "clients", "providers", "identities", "audit_events", "sessions", "tickets"} {
		if found := scanForNUL(t, db, table); found != "" {
			return found
		}
	}
	return ""
}

func scanForNUL(t *testing.T, db *sql.DB, table string) string {
	rows, err := db.Query("SELECT * FROM " + table)
	if err != nil {
		t.Fatalf("read %s: %v", table, err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	vals := make([]sql.RawBytes, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatalf("scan %s: %v", table, err)
		}
		for i, v := range vals {
			if bytes.IndexByte(v, 0) >= 0 || bytes.Contains(v, []byte(`\u0000`)) {
				return table + "." + cols[i]
			}
		}
	}
	return ""
}

// TestNUL_InHeadersRefusedByHTTPServer: header values (X-Tenant-ID,
// XownerId, Authorization) cannot carry a NUL to a handler: net/http
// answers 400 itself. Sent over a raw connection, as clients refuse to.
func TestNUL_InHeadersRefusedByHTTPServer(t *testing.T) {
	env := servertest.New(t, servertest.Options{})
	for _, h := range []string{"X-Tenant-ID: a\x00b", "XownerId: a\x00b", "Authorization: Bearer a\x00b"} {
		conn, err := net.Dial("tcp", env.HTTP.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		_, _ = conn.Write([]byte("GET /auth/me HTTP/1.1\r\nHost: gatehouse.test\r\n" + h + "\r\nConnection: close\r\n\r\n"))
		line, err := bufio.NewReader(conn).ReadString('\n')
		conn.Close()
		if err != nil || !strings.HasPrefix(line, "HTTP/1.1 400") {
			t.Errorf("%q: %q, %v; want 400", h, line, err)
		}
	}
}
