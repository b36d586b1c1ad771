// Package safeurl checks URLs that Gatehouse fetches on an operator's or
// tenant administrator's behalf (provider discovery and keys, webhooks), so
// that registering a URL cannot turn the server into a client of its own
// loopback, private network or cloud metadata endpoint.
//
// The rule is checked twice: by Check when the URL is registered, and by
// the dialer of Client at every connection, after name resolution, so a
// host whose DNS answer changes later (DNS rebinding) is still refused.
package safeurl

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"syscall"
	"time"
)

// ErrRefused is wrapped by every error that refuses a URL or an address.
var ErrRefused = errors.New("refused outbound address")

// Bounds of Check and Client.
const (
	maxRedirects  = 3               // redirects Client follows
	lookupTimeout = 5 * time.Second // name resolution in Check
)

// resolver is the resolver Check uses; a variable so tests of the package
// could swap it, but nothing outside does.
var resolver = net.DefaultResolver

// Check validates raw as an outbound URL: https, a host, and (unless
// allowInsecure) no address of the host loopback/private/link-local/
// unspecified/multicast. It resolves the host. With allowInsecure, http is
// also accepted and no address is refused (development and tests).
func Check(ctx context.Context, raw string, allowInsecure bool) error {
	u, err := parse(raw, allowInsecure)
	if err != nil {
		return err
	}
	if allowInsecure {
		return nil
	}
	host := u.Hostname()
	if ip, err := netip.ParseAddr(host); err == nil {
		return checkAddr(ip)
	}
	ctx, cancel := context.WithTimeout(ctx, lookupTimeout)
	defer cancel()
	addrs, err := resolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return fmt.Errorf("%w: host %q does not resolve", ErrRefused, host)
	}
	if len(addrs) == 0 {
		return fmt.Errorf("%w: host %q has no address", ErrRefused, host)
	}
	for _, a := range addrs {
		if err := checkAddr(a); err != nil {
			return err
		}
	}
	return nil
}

// parse checks the shape of raw: an absolute URL with a host, https (or
// http when insecure URLs are allowed), without user information.
func parse(raw string, allowInsecure bool) (*url.URL, error) {
	u, err := url.Parse(raw)
	switch {
	case raw == "":
		return nil, fmt.Errorf("%w: the URL is empty", ErrRefused)
	case err != nil:
		return nil, fmt.Errorf("%w: not a URL", ErrRefused)
	case u.Scheme != "https" && !(allowInsecure && u.Scheme == "http"):
		return nil, fmt.Errorf("%w: the URL must be https", ErrRefused)
	case u.Hostname() == "":
		return nil, fmt.Errorf("%w: the URL has no host", ErrRefused)
	case u.User != nil:
		return nil, fmt.Errorf("%w: the URL must not carry user information", ErrRefused)
	}
	return u, nil
}

// checkAddr refuses the addresses no outbound request may reach.
func checkAddr(ip netip.Addr) error {
	ip = ip.Unmap()
	switch {
	case ip.IsLoopback(), ip.IsPrivate(), ip.IsLinkLocalUnicast(), ip.IsLinkLocalMulticast(),
		ip.IsInterfaceLocalMulticast(), ip.IsMulticast(), ip.IsUnspecified(), !ip.IsValid():
		return fmt.Errorf("%w: %s is not a public address", ErrRefused, ip)
	case sharedOrReserved(ip):
		return fmt.Errorf("%w: %s is not a public address", ErrRefused, ip)
	}
	return nil
}

// Ranges that net/netip does not classify but that are never a public
// server: carrier-grade NAT (RFC 6598), "this network" (RFC 1122), IPv4
// broadcast and the IPv6 NAT64 prefix with an embedded address (checked by
// its IPv4 part).
var reserved = []netip.Prefix{
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("255.255.255.255/32"),
}

func sharedOrReserved(ip netip.Addr) bool {
	for _, p := range reserved {
		if p.Contains(ip) {
			return true
		}
	}
	if nat64 := netip.MustParsePrefix("64:ff9b::/96"); nat64.Contains(ip) {
		b := ip.As16()
		v4 := netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]})
		return checkAddr(v4) != nil
	}
	return false
}

// control refuses, at connect time, every address Check would refuse: it
// runs after name resolution, on the address actually dialled.
func control(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: cannot parse %q", ErrRefused, address)
	}
	return checkAddr(ap.Addr())
}

// Client returns an *http.Client with the given timeout whose dialer
// refuses, at connect time, every address that Check would refuse (unless
// allowInsecure); no redirects to such addresses either (every redirect is
// dialled through the same dialer, and a redirect away from https is
// refused). Proxies from the environment are not used: a proxy would dial
// for us and hide the address from the check.
func Client(timeout time.Duration, allowInsecure bool) *http.Client {
	dialer := &net.Dialer{Timeout: min(timeout, 5*time.Second), KeepAlive: 30 * time.Second}
	if !allowInsecure {
		dialer.Control = control
	}
	return &http.Client{
		Timeout: timeout,
		Transport: &http.Transport{
			DialContext:           dialer.DialContext,
			TLSHandshakeTimeout:   min(timeout, 5*time.Second),
			ResponseHeaderTimeout: min(timeout, 5*time.Second),
			MaxIdleConns:          16,
			IdleConnTimeout:       90 * time.Second,
			ForceAttemptHTTP2:     true,
		},
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= maxRedirects {
				return errors.New("too many redirects")
			}
			if _, err := parse(req.URL.String(), allowInsecure); err != nil {
				return fmt.Errorf("redirect: %w", err)
			}
			return nil
		},
	}
}

// IsRefused reports whether err (from Check or from a request of Client)
// is a refusal of this package rather than a network failure.
func IsRefused(err error) bool { return errors.Is(err, ErrRefused) }
