package usage

import "net/netip"

// TruncateIP cuts an address to its network, as usage events keep it once
// the full address's retention period is over (P4): an IPv4 address to
// its /24 ("192.0.2.77" becomes "192.0.2.0"), an IPv6 address to its /48.
// An IPv4 address written in IPv6 form counts as IPv4, and a zone is
// dropped. Anything that is not an address gives "".
func TruncateIP(addr string) string {
	a, err := netip.ParseAddr(addr)
	if err != nil {
		return ""
	}
	a = a.Unmap().WithZone("")
	bits := 48
	if a.Is4() {
		bits = 24
	}
	p, err := a.Prefix(bits)
	if err != nil {
		return ""
	}
	return p.Addr().String()
}
