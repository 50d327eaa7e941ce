package ratelimit_test

import (
	"testing"

	"github.com/psims/psims/internal/ratelimit"
)

// Addresses of one IPv6 /64 share a limit; IPv4 addresses each have their
// own; anything else is kept as it is.
func TestNetworkGroupsIPv6ByTheirSlash64(t *testing.T) {
	for ip, want := range map[string]string{
		"192.0.2.7":              "192.0.2.7",
		"2001:db8:1:2:aaaa::1":   "2001:db8:1:2::/64",
		"2001:db8:1:2:ffff::999": "2001:db8:1:2::/64",
		"2001:db8:1:3::1":        "2001:db8:1:3::/64",
		"":                       "",
		"not an address":         "not an address",
	} {
		if got := ratelimit.Network(ip); got != want {
			t.Errorf("Network(%q) = %q, want %q", ip, got, want)
		}
	}
}
