package core

import (
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"

	"github.com/gatehouse-auth/gatehouse/internal/store"
)

// Limits of the redirection settings of a client.
const (
	maxRedirectURIs   = 20
	maxRedirectURILen = 2000
)

// clientIsFirstParty reports whether c is the operator's own application
// (the built-in client, or a client created with first_party): it is never
// asked for consent. It is the one place that decides.
func clientIsFirstParty(c store.Client) bool {
	return c.ID == DefaultClientID || c.FirstParty
}

// BrowserClientSettings are the settings of a client for the browser
// flows; nil fields of a patch stay as they are.
type BrowserClientSettings struct {
	RedirectURIs           *[]string
	PostLogoutRedirectURIs *[]string
	BackchannelLogoutURI   *string
	RequirePAR             *bool
}

// apply checks the settings and writes them into c.
func (b BrowserClientSettings) apply(c *store.Client) ([]string, error) {
	var changed []string
	if b.RedirectURIs != nil {
		l, err := normaliseRedirectURIs("redirect_uris", *b.RedirectURIs)
		if err != nil {
			return nil, err
		}
		c.RedirectURIs = l
		changed = append(changed, "redirect_uris")
	}
	if b.PostLogoutRedirectURIs != nil {
		l, err := normaliseRedirectURIs("post_logout_redirect_uris", *b.PostLogoutRedirectURIs)
		if err != nil {
			return nil, err
		}
		c.PostLogoutRedirectURIs = l
		changed = append(changed, "post_logout_redirect_uris")
	}
	if b.BackchannelLogoutURI != nil {
		u := strings.TrimSpace(*b.BackchannelLogoutURI)
		if u != "" {
			if err := checkRedirectURI("backchannel_logout_uri", u, false); err != nil {
				return nil, err
			}
		}
		c.BackchannelLogoutURI = u
		changed = append(changed, "backchannel_logout_uri")
	}
	if b.RequirePAR != nil {
		c.RequirePAR = *b.RequirePAR
		changed = append(changed, "require_par")
	}
	return changed, nil
}

// normaliseRedirectURIs checks and de-duplicates a list of redirect URIs.
func normaliseRedirectURIs(field string, in []string) ([]string, error) {
	if len(in) > maxRedirectURIs {
		return nil, invalid(fmt.Sprintf("%s: at most %d URIs", field, maxRedirectURIs))
	}
	out := []string{}
	for _, u := range in {
		if err := checkRedirectURI(field, u, true); err != nil {
			return nil, err
		}
		if !slices.Contains(out, u) {
			out = append(out, u)
		}
	}
	return out, nil
}

// checkRedirectURI accepts an absolute URI without fragment: https; http
// only on a loopback host (development and native apps, RFC 8252 §7.3);
// and, when private is true, a private-use scheme with a dot in it
// (RFC 8252 §7.1, "com.example.app:/callback").
func checkRedirectURI(field, raw string, private bool) error {
	bad := func(why string) error { return invalid(fmt.Sprintf("%s: %q %s", field, raw, why)) }
	if raw == "" || len(raw) > maxRedirectURILen || strings.ContainsAny(raw, " \t\r\n\x00") {
		return bad("is not a valid URI")
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() {
		return bad("must be an absolute URI")
	}
	if u.Fragment != "" || strings.Contains(raw, "#") {
		return bad("must not contain a fragment")
	}
	switch {
	case u.Scheme == "https":
		if u.Host == "" {
			return bad("must name a host")
		}
	case u.Scheme == "http":
		if !isLoopbackHost(u.Hostname()) {
			return bad("may use http only on a loopback address (127.0.0.1, [::1] or localhost)")
		}
	case private && strings.Contains(u.Scheme, "."):
	default:
		return bad("must use https (or http on loopback)")
	}
	return nil
}

func isLoopbackHost(h string) bool {
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// MatchRedirectURI reports whether given equals one of the registered URIs
// exactly (RFC 9700 §4.1.3), or, for a registered http URI on a loopback
// IP literal without a port, equals it but for the port (RFC 8252 §7.3).
func MatchRedirectURI(registered []string, given string) bool {
	if given == "" {
		return false
	}
	for _, r := range registered {
		if r == given {
			return true
		}
		if loopbackAnyPort(r, given) {
			return true
		}
	}
	return false
}

func loopbackAnyPort(registered, given string) bool {
	r, err := url.Parse(registered)
	if err != nil || r.Scheme != "http" || r.Port() != "" {
		return false
	}
	if ip := net.ParseIP(r.Hostname()); ip == nil || !ip.IsLoopback() {
		return false
	}
	g, err := url.Parse(given)
	if err != nil || g.Scheme != "http" || g.Hostname() != r.Hostname() || g.Port() == "" || g.User != nil {
		return false
	}
	return g.Path == r.Path && g.RawQuery == r.RawQuery && g.Fragment == "" && !strings.Contains(given, "#") &&
		"http://"+hostPort(r.Hostname(), g.Port())+g.EscapedPath()+query(g.RawQuery) == given
}

func hostPort(host, port string) string { return net.JoinHostPort(host, port) }

func query(q string) string {
	if q == "" {
		return ""
	}
	return "?" + q
}
