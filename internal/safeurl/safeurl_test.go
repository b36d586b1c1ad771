package safeurl

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func TestCheck(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		url      string
		insecure bool
		ok       bool
	}{
		{"https://8.8.8.8/", false, true},
		{"https://[2001:4860:4860::8888]/keys", false, true},
		{"http://8.8.8.8/", false, false},
		{"ftp://8.8.8.8/", false, false},
		{"https://", false, false},
		{"", false, false},
		{"https://user:pw@8.8.8.8/", false, false},
		{"https://127.0.0.1/", false, false},
		{"https://127.1.2.3:8443/", false, false},
		{"https://[::1]/", false, false},
		{"https://10.1.2.3/", false, false},
		{"https://172.16.0.1/", false, false},
		{"https://192.168.1.1/", false, false},
		{"https://169.254.169.254/latest/meta-data", false, false},
		{"https://[fe80::1]/", false, false},
		{"https://[fc00::1]/", false, false},
		{"https://0.0.0.0/", false, false},
		{"https://[::]/", false, false},
		{"https://224.0.0.1/", false, false},
		{"https://100.64.0.1/", false, false},
		{"https://[::ffff:127.0.0.1]/", false, false},
		{"https://[64:ff9b::a00:1]/", false, false},
		{"https://localhost/", false, false},
		{"https://no-such-host.invalid/", false, false},
		{"http://127.0.0.1:8080/", true, true},
		{"https://localhost/", true, true},
		{"ftp://127.0.0.1/", true, false},
	}
	for _, c := range cases {
		err := Check(ctx, c.url, c.insecure)
		if (err == nil) != c.ok {
			t.Errorf("Check(%q, insecure=%v) = %v, want ok=%v", c.url, c.insecure, err, c.ok)
		}
		if err != nil && !IsRefused(err) {
			t.Errorf("Check(%q): %v is not a refusal", c.url, err)
		}
	}
}

// TestClient_RefusesAtConnectTime dials a loopback server by IP and by a
// name that resolves to it: the check runs on the dialled address, so a
// name whose DNS answer turns private after registration is refused too.
func TestClient_RefusesAtConnectTime(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(200) }))
	defer srv.Close()
	port := srv.Listener.Addr().String()[len("127.0.0.1:"):]
	for _, u := range []string{srv.URL, "http://localhost:" + port + "/"} {
		resp, err := Client(2*time.Second, false).Get(u)
		if err == nil {
			resp.Body.Close()
			t.Fatalf("GET %s: connected, want refused", u)
		}
		if !IsRefused(err) {
			t.Fatalf("GET %s: %v, want a refusal", u, err)
		}
	}
	resp, err := Client(2*time.Second, true).Get(srv.URL)
	if err != nil {
		t.Fatalf("insecure client: %v", err)
	}
	resp.Body.Close()
}

// TestClient_RefusesRedirects follows a redirect only to a URL Check's shape
// rule accepts, and dials it through the same guarded dialer.
func TestClient_RefusesRedirects(t *testing.T) {
	target := "ftp://example.com/"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target, http.StatusFound)
	}))
	defer srv.Close()
	if _, err := Client(2*time.Second, true).Get(srv.URL); err == nil || !IsRefused(err) {
		t.Fatalf("redirect to %s: %v, want refused", target, err)
	}
}

func TestControl(t *testing.T) {
	for addr, ok := range map[string]bool{
		"127.0.0.1:443": false, "[::1]:443": false, "10.0.0.1:443": false,
		"169.254.169.254:80": false, "8.8.8.8:443": true, "[2001:4860:4860::8888]:443": true, "junk": false,
	} {
		if err := control("tcp", addr, nil); (err == nil) != ok {
			t.Errorf("control(%s) = %v, want ok=%v", addr, err, ok)
		}
	}
}
