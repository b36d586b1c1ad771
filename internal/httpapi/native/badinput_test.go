package native_test

import (
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/server/servertest"
)

// TestBadInput sends hostile and malformed requests to every endpoint of
// the native family: each gets a 4xx in the family's error shape, never a 5xx.
func TestBadInput(t *testing.T) {
	env, tk := newUser(t, servertest.Options{})
	huge := strings.Repeat("A", 10000)
	odd := []string{"' OR 1=1 --", "\"; DROP TABLE users; --", "\u202eevil\u0000", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "%00%ff", huge}
	type tc struct {
		name, method, path, ctype, body, bearer string
		want                                    int
	}
	var cases []tc
	for _, p := range []string{"/auth/login", "/auth/refresh", "/auth/password/change"} {
		bearer := ""
		if p == "/auth/password/change" {
			bearer = tk.AccessToken
		}
		cases = append(cases,
			tc{"wrong content type " + p, "POST", p, "text/plain", `{"a":1}`, bearer, 415},
			tc{"form body " + p, "POST", p, "application/x-www-form-urlencoded", "a=1", bearer, 415},
			tc{"malformed " + p, "POST", p, "application/json", `{"username":`, bearer, 400},
			tc{"array " + p, "POST", p, "application/json", `[1,2]`, bearer, 400},
			tc{"wrong types " + p, "POST", p, "application/json", `{"username":1,"password":true,"refresh_token":[],"old_password":{}}`, bearer, 400},
			tc{"two objects " + p, "POST", p, "application/json", `{}{}`, bearer, 400},
			tc{"empty " + p, "POST", p, "application/json", ``, bearer, 400},
			tc{"oversized " + p, "POST", p, "application/json", `{"username":"` + strings.Repeat("x", 70<<10) + `"}`, bearer, 413},
		)
	}
	cases = append(cases,
		tc{"missing fields", "POST", "/auth/login", "application/json", `{}`, "", 400},
		tc{"missing refresh token", "POST", "/auth/refresh", "application/json", `{}`, "", 400},
		tc{"huge refresh token", "POST", "/auth/refresh", "application/json", `{"refresh_token":"` + huge + `"}`, "", 400},
		tc{"huge bearer", "GET", "/auth/me", "", "", huge, 401},
		tc{"garbage bearer", "GET", "/auth/me", "", "", "a.b.c", 401},
		tc{"no bearer sessions", "GET", "/auth/sessions", "", "", "", 401},
		tc{"wrong method", "GET", "/auth/login", "", "", "", 405},
		tc{"unknown path", "GET", "/auth/nope", "", "", "", 404},
	)
	for _, s := range odd {
		body := `{"username":` + jsonString(s) + `,"password":` + jsonString(s) + `}`
		cases = append(cases, tc{"odd login " + s[:min(len(s), 10)], "POST", "/auth/login", "application/json", body, "", 401})
		cases = append(cases, tc{"odd refresh " + s[:min(len(s), 10)], "POST", "/auth/refresh", "application/json",
			`{"refresh_token":` + jsonString(s) + `}`, "", 400})
		// No session has such an id; a NUL in a path is refused outright.
		sessionWant := 404
		if strings.Contains(s, "\x00") {
			sessionWant = 400
		}
		cases = append(cases, tc{"odd session id", "DELETE", "/auth/sessions/" + urlPath(s), "", "", tk.AccessToken, sessionWant})
		cases = append(cases, tc{"odd tenant", "POST", "/auth/login", "application/json", `{"username":"a","password":"b"}`, "", 400})
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req := servertest.Request{Method: c.method, Path: c.path, Bearer: c.bearer, Header: map[string]string{}}
			if c.ctype != "" {
				req.Header["Content-Type"] = c.ctype
			}
			if c.name == "odd tenant" {
				req.Header["X-Tenant-ID"] = "bad tenant;--"
			}
			if c.method != "GET" && c.method != "DELETE" {
				req.Body = strings.NewReader(c.body)
			}
			r := env.Do(req)
			if r.Status != c.want {
				t.Fatalf("%s %s: got %d, want %d: %.200s", c.method, c.path, r.Status, c.want, r.Body)
			}
			m := r.JSON(t)
			for _, k := range []string{"code", "message", "timestamp", "error"} {
				if _, ok := m[k]; !ok {
					t.Fatalf("error body lacks %q: %s", k, r.Body)
				}
			}
			if int(m["code"].(float64)) != c.want {
				t.Fatalf("code %v != status %d", m["code"], c.want)
			}
		})
	}
	// The user is unharmed by all of it.
	refreshOK(t, env, tk.RefreshToken)
}

func jsonString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20:
			b.WriteString(`\u00`)
			b.WriteByte("0123456789abcdef"[r>>4])
			b.WriteByte("0123456789abcdef"[r&15])
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

func urlPath(s string) string {
	var b strings.Builder
	for _, c := range []byte(s) {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
			b.WriteByte(c)
		} else {
			b.WriteString("%" + strings.ToUpper(string("0123456789abcdef"[c>>4])+string("0123456789abcdef"[c&15])))
		}
	}
	return b.String()
}
