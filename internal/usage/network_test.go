package usage

import (
	"net/netip"
	"testing"
)

// P4: an address kept past its retention period names a network, not a
// device.
func TestTruncateIPKeepsTheNetworkOnly(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ in, want string }{
		{"192.0.2.77", "192.0.2.0"},
		{"192.0.2.0", "192.0.2.0"},
		{"::ffff:198.51.100.9", "198.51.100.0"},
		{"2001:db8:1234:5678:9abc::1", "2001:db8:1234::"},
		{"fe80::1%eth0", "fe80::"},
		{"::1", "::"},
		{"", ""},
		{"not an address", ""},
		{"192.0.2.77:443", ""},
		{"192.0.2.0/24", ""},
	} {
		if got := TruncateIP(c.in); got != c.want {
			t.Errorf("TruncateIP(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// Whatever is given, the result is "" or the network address of a /24 or
// /48 holding the input, and truncating it again changes nothing.
func FuzzTruncateIP(f *testing.F) {
	for _, seed := range []string{"192.0.2.77", "::ffff:10.1.2.3", "2001:db8::1", "fe80::1%eth0", "", "1.2.3", "::"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out := TruncateIP(in)
		if out == "" {
			return
		}
		a, err := netip.ParseAddr(in)
		if err != nil {
			t.Fatalf("TruncateIP(%q) = %q for a string that is not an address", in, out)
		}
		n, err := netip.ParseAddr(out)
		if err != nil {
			t.Fatalf("TruncateIP(%q) = %q, not an address", in, out)
		}
		bits := 48
		if n.Is4() {
			bits = 24
		}
		if !netip.PrefixFrom(n, bits).Contains(a.Unmap().WithZone("")) {
			t.Fatalf("TruncateIP(%q) = %q, whose /%d does not hold it", in, out, bits)
		}
		if again := TruncateIP(out); again != out {
			t.Fatalf("TruncateIP(%q) = %q, then %q", in, out, again)
		}
	})
}
