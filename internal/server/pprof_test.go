package server_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/server/servertest"
)

func TestPprof_OnlyForTheAdminKey(t *testing.T) {
	env := servertest.New(t, servertest.Options{})
	env.CreateUser("", map[string]any{"username": "root", "password": "correct horse battery", "roles": []string{"admin"}})
	userAdmin := env.Login("", "root", "correct horse battery").AccessToken

	for _, tc := range []struct {
		name   string
		bearer string
		want   int
	}{
		{"anonymous", "", http.StatusUnauthorized},
		{"wrong key", "not-the-admin-key", http.StatusUnauthorized},
		{"tenant administrator", userAdmin, http.StatusForbidden},
	} {
		for _, path := range []string{"/debug/pprof/", "/debug/pprof/heap", "/debug/pprof/profile?seconds=1", "/debug/pprof/goroutine?debug=2"} {
			r := env.Do(servertest.Request{Method: "GET", Path: path, Bearer: tc.bearer})
			if r.Status != tc.want {
				t.Errorf("%s: GET %s = %d, want %d", tc.name, path, r.Status, tc.want)
			}
			if bytes.Contains(r.Body, []byte("goroutine")) {
				t.Errorf("%s: GET %s leaked profile data: %.100s", tc.name, path, r.Body)
			}
		}
	}

	r := env.Do(servertest.Request{Method: "GET", Path: "/debug/pprof/", Bearer: servertest.AdminKey})
	if r.Status != http.StatusOK || !bytes.Contains(r.Body, []byte("heap")) {
		t.Fatalf("index: %d %.200s", r.Status, r.Body)
	}
	// A real CPU profile and heap profile, in the pprof format (gzipped protobuf).
	for _, path := range []string{"/debug/pprof/profile?seconds=1", "/debug/pprof/heap"} {
		r = env.Do(servertest.Request{Method: "GET", Path: path, Bearer: servertest.AdminKey})
		if r.Status != http.StatusOK {
			t.Fatalf("GET %s: %d %.200s", path, r.Status, r.Body)
		}
		zr, err := gzip.NewReader(bytes.NewReader(r.Body))
		if err != nil {
			t.Fatalf("GET %s is not a gzipped profile: %v", path, err)
		}
		if b, err := io.ReadAll(zr); err != nil || len(b) == 0 {
			t.Fatalf("GET %s: profile %d bytes, %v", path, len(b), err)
		}
	}
	// The command line is not served (it is not a runtime profile).
	r = env.Do(servertest.Request{Method: "GET", Path: "/debug/pprof/cmdline", Bearer: servertest.AdminKey})
	if r.Status != http.StatusNotFound {
		t.Fatalf("cmdline: %d, want 404", r.Status)
	}
}
