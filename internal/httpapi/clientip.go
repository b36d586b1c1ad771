package httpapi

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// ClientIP resolves the client's address: the connection's peer, or, when
// the peer is a trusted proxy, the right-most address of X-Forwarded-For that
// is not itself a trusted proxy.
type ClientIP struct {
	Trusted []netip.Prefix
}

// Of returns the client IP of r as a string ("" when unknown).
func (c ClientIP) Of(r *http.Request) string {
	peer := parseAddr(r.RemoteAddr)
	if !peer.IsValid() {
		return ""
	}
	if !c.trusted(peer) {
		return peer.String()
	}
	hops := r.Header.Values("X-Forwarded-For")
	var all []string
	for _, h := range hops {
		all = append(all, strings.Split(h, ",")...)
	}
	for i := len(all) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(all[i]))
		if err != nil {
			break // a malformed hop: stop believing the chain
		}
		a = a.Unmap()
		if !c.trusted(a) {
			return a.String()
		}
		peer = a
	}
	return peer.String()
}

func (c ClientIP) trusted(a netip.Addr) bool {
	for _, p := range c.Trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

func parseAddr(remote string) netip.Addr {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	return a.Unmap()
}
