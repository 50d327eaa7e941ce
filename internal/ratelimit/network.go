package ratelimit

import "net/netip"

// Network is the part of a client address a per-address limit counts by:
// the whole IPv4 address, or the /64 network of an IPv6 one, since one
// household or server is usually given a whole /64 and could otherwise
// step through it. Anything that is not an address is returned as it is.
func Network(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil || a.Is4() {
		return ip
	}
	p, err := a.Prefix(64)
	if err != nil {
		return ip
	}
	return p.String()
}
