// Package clientip works out which address a request comes from when it may
// have passed through reverse proxies. X-Forwarded-For is written by whoever
// sent the request, so only the entries appended by proxies the operator
// trusts are believed: the header is read from the right, past the trusted
// proxies, to the first address they did not write.
package clientip

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// ParseTrusted parses the --trusted-proxies value: comma-separated CIDR
// prefixes ("10.0.0.0/8") or single addresses ("192.0.2.1", "::1"), spaces
// allowed. Empty items are skipped, so "" trusts no proxy. IPv4-mapped IPv6
// forms are read as IPv4, as request addresses are.
func ParseTrusted(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for item := range strings.SplitSeq(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		p, err := parseItem(item)
		if err != nil {
			return nil, fmt.Errorf("clientip: trusted proxy %q: %w", item, err)
		}
		out = append(out, p)
	}
	return out, nil
}

// parseItem parses one prefix or address.
func parseItem(item string) (netip.Prefix, error) {
	if strings.Contains(item, "/") {
		p, err := netip.ParsePrefix(item)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("not a CIDR prefix: %w", err)
		}
		if p.Addr().Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(item)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("not an IP address or CIDR prefix: %w", err)
	}
	if a.Zone() != "" {
		return netip.Prefix{}, errors.New("has a zone")
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// Resolver finds a request's client address. The zero Resolver trusts no
// proxy and always gives the connection's own address.
type Resolver struct {
	// Trusted are the proxies whose X-Forwarded-For entries are believed.
	Trusted []netip.Prefix
}

// From returns the client address of r. It is the connection's address
// unless that is a trusted proxy; then it is the rightmost X-Forwarded-For
// entry, across every header line, that is not a trusted proxy. An entry
// that is not an address ends the search, and the last address read stands:
// a proxy we trust would not have written it, so nothing to its left can be
// believed. The leftmost entry is never taken on trust, since the client
// wrote it. The answer is an IP address in canonical form (IPv4-mapped IPv6
// as IPv4, no zone), or the RemoteAddr host as it is if that is not one.
func (res Resolver) From(r *http.Request) string {
	host := r.RemoteAddr
	if h, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		host = h
	}
	addr, ok := parseAddr(host)
	if !ok {
		return host
	}
	if !res.trusted(addr) {
		return addr.String()
	}
	lines := r.Header.Values("X-Forwarded-For")
	for i := len(lines) - 1; i >= 0; i-- {
		rest := lines[i]
		for {
			entry := rest
			comma := strings.LastIndexByte(rest, ',')
			if comma >= 0 {
				entry, rest = rest[comma+1:], rest[:comma]
			}
			next, ok := parseEntry(entry)
			if !ok {
				return addr.String()
			}
			addr = next
			if !res.trusted(addr) {
				return addr.String()
			}
			if comma < 0 {
				break
			}
		}
	}
	return addr.String()
}

// trusted reports whether a is one of the trusted proxies.
func (res Resolver) trusted(a netip.Addr) bool {
	for _, p := range res.Trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// parseAddr parses an address in canonical form: IPv4-mapped IPv6 as IPv4
// and without a zone, which only names the local interface it came in on.
func parseAddr(s string) (netip.Addr, bool) {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, false
	}
	return a.Unmap().WithZone(""), true
}

// parseEntry parses one X-Forwarded-For entry: an address, with spaces
// around it, and with a port as some proxies add ("192.0.2.1:443",
// "[2001:db8::1]:443").
func parseEntry(s string) (netip.Addr, bool) {
	s = strings.TrimSpace(s)
	if a, ok := parseAddr(s); ok {
		return a, true
	}
	ap, err := netip.ParseAddrPort(s)
	if err != nil {
		return netip.Addr{}, false
	}
	return ap.Addr().Unmap().WithZone(""), true
}
