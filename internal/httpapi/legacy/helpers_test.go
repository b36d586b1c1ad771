package legacy_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/server/servertest"
)

const (
	pw          = "correct horse battery"
	pathRefresh = "/bo/api/v3/auth/token/refresh"
)

// get calls the legacy refresh with the given query and headers.
func get(env *servertest.Env, query url.Values, header map[string]string) *servertest.Response {
	env.T.Helper()
	return env.Do(servertest.Request{Method: "GET", Path: pathRefresh + "?" + query.Encode(), Header: header})
}

// refresh calls the legacy refresh of tenant with a refresh token.
func refresh(env *servertest.Env, tenant, token, nodejs string) *servertest.Response {
	env.T.Helper()
	q := url.Values{"refreshToken": {token}}
	if nodejs != "" {
		q.Set("_nodejs", nodejs)
	}
	return get(env, q, map[string]string{"XownerId": tenant})
}

// body decodes a legacy answer after checking its fixed parts.
func body(t *testing.T, r *servertest.Response) map[string]any {
	t.Helper()
	if r.Status != http.StatusOK {
		t.Fatalf("HTTP status %d, want 200 always: %s", r.Status, r.Body)
	}
	if r.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("Cache-Control %q, want no-store", r.Header.Get("Cache-Control"))
	}
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(r.Body))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("not JSON: %q", r.Body)
	}
	return m
}

// success decodes a successful refresh and returns data.
func success(t *testing.T, r *servertest.Response) map[string]any {
	t.Helper()
	m := body(t, r)
	if m["success"] != true || m["code"] != json.Number("0") {
		t.Fatalf("not a success: %s", r.Body)
	}
	d, ok := m["data"].(map[string]any)
	if !ok {
		t.Fatalf("no data: %s", r.Body)
	}
	return d
}

// failure checks a failure's shape and code and returns its errorCode.
func failure(t *testing.T, what string, r *servertest.Response, code int) string {
	t.Helper()
	m := body(t, r)
	e, _ := m["error"].(map[string]any)
	if m["success"] != false || m["code"] != json.Number(itoa(code)) || m["message"] == "" || e == nil ||
		e["errorCode"] == "" || e["errorText"] == "" || len(m) != 4 || len(e) != 2 {
		t.Fatalf("%s: want a failure with code %d, got %s", what, code, r.Body)
	}
	return e["errorCode"].(string)
}

func itoa(n int) string { return strconv.Itoa(n) }
