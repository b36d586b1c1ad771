// Package safeurl applies Gatehouse's rule for URLs that the server itself
// fetches or posts to (provider discovery and keys, webhooks, back-channel
// logout): https only, and no host that is or resolves to a loopback,
// private, link-local, unspecified or otherwise non-public address, unless
// the operator allows insecure URLs for development and tests.
//
// Check refuses a URL up front (when it is configured); Client refuses the
// same addresses when it connects, so that a name that resolved to a public
// address at Check time cannot be pointed at an internal one later (DNS
// rebinding) and redirects cannot lead inside either.
package safeurl

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// ErrRefused is wrapped by every refusal of Check and of Client's dialer.
var ErrRefused = errors.New("safeurl: refused")

// maxRedirects bounds the redirects Client follows.
const maxRedirects = 3

// resolver is the DNS lookup of Check; a variable so that tests can name
// hosts without a DNS server.
var resolver = net.DefaultResolver

// Check reports whether raw is an absolute URL Gatehouse may call: scheme
// https, a host, no user info, and every address its host resolves to a
// public one. With allowInsecure, http is allowed too and addresses are not
// checked (the host must still be present).
func Check(ctx context.Context, raw string, allowInsecure bool) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("%w: not a URL", ErrRefused)
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && allowInsecure:
	default:
		return fmt.Errorf("%w: the scheme must be https", ErrRefused)
	}
	if u.Host == "" || u.Hostname() == "" {
		return fmt.Errorf("%w: the URL has no host", ErrRefused)
	}
	if u.User != nil {
		return fmt.Errorf("%w: the URL must not carry user information", ErrRefused)
	}
	if u.Fragment != "" {
		return fmt.Errorf("%w: the URL must not carry a fragment", ErrRefused)
	}
	if allowInsecure {
		return nil
	}
	host := u.Hostname()
	if ip, err := netip.ParseAddr(host); err == nil {
		return checkAddr(ip)
	}
	if strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
		return fmt.Errorf("%w: %s is a loopback name", ErrRefused, host)
	}
	addrs, err := resolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return fmt.Errorf("%w: %s does not resolve", ErrRefused, host)
	}
	for _, a := range addrs {
		if err := checkAddr(a); err != nil {
			return err
		}
	}
	return nil
}

// checkAddr refuses every address that is not a public unicast one.
func checkAddr(ip netip.Addr) error {
	ip = ip.Unmap()
	switch {
	case !ip.IsValid(), ip.IsUnspecified():
		return fmt.Errorf("%w: %s is an unspecified address", ErrRefused, ip)
	case ip.IsLoopback():
		return fmt.Errorf("%w: %s is a loopback address", ErrRefused, ip)
	case ip.IsPrivate():
		return fmt.Errorf("%w: %s is a private address", ErrRefused, ip)
	case ip.IsLinkLocalUnicast(), ip.IsLinkLocalMulticast():
		return fmt.Errorf("%w: %s is a link-local address", ErrRefused, ip)
	case ip.IsMulticast(), ip.IsInterfaceLocalMulticast():
		return fmt.Errorf("%w: %s is a multicast address", ErrRefused, ip)
	case sharedOrReserved(ip):
		return fmt.Errorf("%w: %s is not a public address", ErrRefused, ip)
	}
	return nil
}

// nonPublic are ranges that netip has no predicate for: "this network",
// carrier-grade NAT, IETF protocol assignments, benchmarking, the reserved
// block with broadcast, and NAT64's well-known prefix (which can embed any
// IPv4 address, an internal one included, so it is refused whole).
var nonPublic = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("240.0.0.0/4"),
	netip.MustParsePrefix("64:ff9b::/96"),
}

func sharedOrReserved(ip netip.Addr) bool {
	for _, p := range nonPublic {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// Client returns an HTTP client for calls to URLs that passed Check: every
// phase has a timeout (timeout bounds the whole request), at most three
// redirects are followed, each to a URL that passes the scheme rule, and
// unless allowInsecure its dialer refuses to connect to a non-public address
// whatever name led there. Proxies from the environment are not used: the
// address rule is about where Gatehouse connects.
func Client(timeout time.Duration, allowInsecure bool) *http.Client {
	dialer := &net.Dialer{Timeout: min(timeout, 5*time.Second), KeepAlive: 30 * time.Second}
	if !allowInsecure {
		dialer.Control = func(_, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return fmt.Errorf("%w: cannot parse %s", ErrRefused, address)
			}
			return checkAddr(ap.Addr())
		}
	}
	return &http.Client{
		Timeout: timeout,
		Transport: &http.Transport{
			DialContext:           dialer.DialContext,
			TLSHandshakeTimeout:   min(timeout, 5*time.Second),
			ResponseHeaderTimeout: timeout,
			MaxIdleConns:          32,
			MaxIdleConnsPerHost:   4,
			IdleConnTimeout:       90 * time.Second,
			ForceAttemptHTTP2:     true,
		},
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= maxRedirects {
				return errors.New("too many redirects")
			}
			if req.URL.Scheme != "https" && !(allowInsecure && req.URL.Scheme == "http") {
				return fmt.Errorf("%w: redirect to a non-https URL", ErrRefused)
			}
			return nil
		},
	}
}
