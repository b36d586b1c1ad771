package safeurl

import (
	"context"
	"errors"
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
		{"https://93.184.215.14/hook", false, true},
		{"https://[2606:4700::1111]/hook", false, true},
		{"http://93.184.215.14/hook", false, false},
		{"ftp://93.184.215.14/hook", false, false},
		{"https://127.0.0.1/hook", false, false},
		{"https://[::1]/hook", false, false},
		{"https://10.1.2.3/hook", false, false},
		{"https://172.16.0.1/hook", false, false},
		{"https://192.168.1.1/hook", false, false},
		{"https://169.254.169.254/latest/meta-data", false, false},
		{"https://[fe80::1]/hook", false, false},
		{"https://[fc00::1]/hook", false, false},
		{"https://0.0.0.0/hook", false, false},
		{"https://[::]/hook", false, false},
		{"https://100.64.0.1/hook", false, false},
		{"https://[::ffff:127.0.0.1]/hook", false, false},
		{"https://localhost/hook", false, false},
		{"https://api.localhost/hook", false, false},
		{"https://user:pw@93.184.215.14/hook", false, false},
		{"https:///nohost", false, false},
		{"not a url\x7f", false, false},
		{"/relative", false, false},
		{"http://127.0.0.1:8080/hook", true, true},
		{"https://localhost/hook", true, true},
		{"ftp://127.0.0.1/hook", true, false},
		{"http:///nohost", true, false},
	}
	for _, c := range cases {
		err := Check(ctx, c.url, c.insecure)
		if (err == nil) != c.ok {
			t.Errorf("Check(%q, %v) = %v, want ok=%v", c.url, c.insecure, err, c.ok)
		}
		if err != nil && !errors.Is(err, ErrRefused) {
			t.Errorf("Check(%q) error %v does not wrap ErrRefused", c.url, err)
		}
	}
}

// TestClient_RefusesLoopbackAtConnect: a URL that reaches a loopback
// server (as a name that resolves there would) is refused by the dialer
// unless insecure URLs are allowed.
func TestClient_RefusesLoopbackAtConnect(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
	defer srv.Close()

	resp, err := Client(2*time.Second, false).Get(srv.URL)
	if err == nil {
		resp.Body.Close()
		t.Fatal("the strict client connected to a loopback address")
	}
	if !errors.Is(err, ErrRefused) {
		t.Fatalf("error %v does not wrap ErrRefused", err)
	}
	resp, err = Client(2*time.Second, true).Get(srv.URL)
	if err != nil {
		t.Fatalf("the insecure client: %v", err)
	}
	resp.Body.Close()
}

// TestClient_RedirectMustKeepScheme: a redirect to plain http is not followed.
func TestClient_RedirectMustKeepScheme(t *testing.T) {
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
	defer target.Close()
	tls := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL, http.StatusFound)
	}))
	defer tls.Close()
	c := Client(2*time.Second, false)
	// Trust the test server's certificate but keep the dialer rule off the
	// table: this test is about the redirect rule, checked before dialling.
	c.Transport = tls.Client().Transport
	_, err := c.Get(tls.URL)
	if !errors.Is(err, ErrRefused) {
		t.Fatalf("redirect to http: %v, want ErrRefused", err)
	}
}
