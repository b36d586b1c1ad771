package servertest

import (
	"maps"
	"net"
	"net/http/httptest"
	"testing"
)

// NewAtIssuer starts a server, like New, whose issuer (GATEHOUSE_ISSUER) is
// its own URL, as clients that check the discovery document against the URL
// they fetched it from (OpenID Connect Discovery §4.3) require. It listens
// first and configures the issuer from the address it got.
func NewAtIssuer(t testing.TB, opts Options) *Env {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	url := "http://" + ln.Addr().String()
	env := maps.Clone(opts.Env)
	if env == nil {
		env = map[string]string{}
	}
	env["GATEHOUSE_ISSUER"] = url
	opts.Env = env
	e := New(t, opts)
	hs := httptest.NewUnstartedServer(e.Server.Handler)
	_ = hs.Listener.Close()
	hs.Listener = ln
	hs.Start()
	t.Cleanup(hs.Close) // runs before New's cleanup closes the server
	if hs.URL != url {
		t.Fatalf("listening at %s, issuer %s", hs.URL, url)
	}
	e.HTTP, e.URL = hs, hs.URL
	return e
}
