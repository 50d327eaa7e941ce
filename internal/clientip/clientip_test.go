package clientip_test

import (
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/psims/psims/internal/clientip"
)

func TestParseTrusted(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"  ", nil},
		{"10.0.0.0/8", []string{"10.0.0.0/8"}},
		{"10.0.0.0/8, 192.0.2.1 ,2001:db8::/32,::1", []string{"10.0.0.0/8", "192.0.2.1/32", "2001:db8::/32", "::1/128"}},
		{"10.1.2.3/8", []string{"10.0.0.0/8"}},
		{"::ffff:192.0.2.1", []string{"192.0.2.1/32"}},
		{"::ffff:10.0.0.0/104", []string{"10.0.0.0/8"}},
		{"192.0.2.1,", []string{"192.0.2.1/32"}},
	} {
		got, err := clientip.ParseTrusted(c.in)
		if err != nil {
			t.Errorf("%q: %v", c.in, err)
			continue
		}
		var gotS []string
		for _, p := range got {
			gotS = append(gotS, p.String())
		}
		if !slices.Equal(gotS, c.want) {
			t.Errorf("%q: got %v, want %v", c.in, gotS, c.want)
		}
	}
	for _, in := range []string{"10.0.0.0/33", "10.0.0.0/8, proxy.internal", "192.0.2.1 192.0.2.2", "fe80::1%eth0", "10.0.0/8", "2001:db8::/129", "-1"} {
		_, err := clientip.ParseTrusted(in)
		if err == nil {
			t.Errorf("%q: no error", in)
			continue
		}
		if !strings.HasPrefix(err.Error(), "clientip: trusted proxy ") {
			t.Errorf("%q: error %q does not name the item", in, err)
		}
	}
	_, err := clientip.ParseTrusted("10.0.0.0/8, proxy.internal")
	if err == nil || !strings.Contains(err.Error(), `"proxy.internal"`) {
		t.Errorf("error %v does not name proxy.internal", err)
	}
}

func request(remote string, xff ...string) *http.Request {
	r := &http.Request{RemoteAddr: remote, Header: http.Header{}}
	for _, v := range xff {
		r.Header.Add("X-Forwarded-For", v)
	}
	return r
}

func TestFrom(t *testing.T) {
	trusted, err := clientip.ParseTrusted("10.0.0.0/8, 192.0.2.10, 2001:db8:ffff::/48")
	if err != nil {
		t.Fatal(err)
	}
	withProxies := clientip.Resolver{Trusted: trusted}
	for _, c := range []struct {
		name   string
		res    clientip.Resolver
		remote string
		xff    []string
		want   string
	}{
		{"no proxies: XFF ignored", clientip.Resolver{}, "203.0.113.7:5000", []string{"198.51.100.1"}, "203.0.113.7"},
		{"no proxies: IPv6", clientip.Resolver{}, "[2001:db8::7]:5000", nil, "2001:db8::7"},
		{"no proxies: mapped", clientip.Resolver{}, "[::ffff:203.0.113.7]:5000", nil, "203.0.113.7"},
		{"no proxies: zone dropped", clientip.Resolver{}, "[fe80::1%eth0]:5000", nil, "fe80::1"},
		{"no port", clientip.Resolver{}, "203.0.113.7", nil, "203.0.113.7"},
		{"not an address", withProxies, "@", []string{"198.51.100.1"}, "@"},
		{"empty", withProxies, "", []string{"198.51.100.1"}, ""},
		{"untrusted connection: XFF ignored", withProxies, "203.0.113.7:5000", []string{"198.51.100.1"}, "203.0.113.7"},
		{"one proxy", withProxies, "10.0.0.1:5000", []string{"198.51.100.1"}, "198.51.100.1"},
		{"one proxy, no header", withProxies, "10.0.0.1:5000", nil, "10.0.0.1"},
		{"client's own entry not believed", withProxies, "10.0.0.1:5000", []string{"1.1.1.1, 198.51.100.1"}, "198.51.100.1"},
		{"chain of proxies", withProxies, "10.0.0.1:5000", []string{"1.1.1.1, 198.51.100.1, 192.0.2.10, 10.9.9.9"}, "198.51.100.1"},
		{"several lines", withProxies, "10.0.0.1:5000", []string{"1.1.1.1", "198.51.100.1, 10.0.0.2", "10.0.0.3"}, "198.51.100.1"},
		{"all trusted", withProxies, "10.0.0.1:5000", []string{"10.0.0.2, 10.0.0.3"}, "10.0.0.2"},
		{"malformed stops the walk", withProxies, "10.0.0.1:5000", []string{"1.1.1.1, bogus, 10.0.0.2"}, "10.0.0.2"},
		{"malformed right after connection", withProxies, "10.0.0.1:5000", []string{"1.1.1.1, bogus"}, "10.0.0.1"},
		{"empty entry stops the walk", withProxies, "10.0.0.1:5000", []string{"1.1.1.1,, 10.0.0.2"}, "10.0.0.2"},
		{"empty line stops the walk", withProxies, "10.0.0.1:5000", []string{"1.1.1.1", ""}, "10.0.0.1"},
		{"spaces", withProxies, "10.0.0.1:5000", []string{"  198.51.100.1 ,10.0.0.2  "}, "198.51.100.1"},
		{"entry with port", withProxies, "10.0.0.1:5000", []string{"198.51.100.1:4711"}, "198.51.100.1"},
		{"IPv6 entry with port", withProxies, "10.0.0.1:5000", []string{"[2001:db8::5]:4711"}, "2001:db8::5"},
		{"mapped entry", withProxies, "10.0.0.1:5000", []string{"::ffff:198.51.100.1"}, "198.51.100.1"},
		{"mapped proxy", withProxies, "[::ffff:10.0.0.1]:5000", []string{"198.51.100.1"}, "198.51.100.1"},
		{"mapped trusted entry skipped", withProxies, "10.0.0.1:5000", []string{"198.51.100.1, ::ffff:10.0.0.2"}, "198.51.100.1"},
		{"IPv6 proxy", withProxies, "[2001:db8:ffff::1]:443", []string{"2001:db8::5"}, "2001:db8::5"},
		{"single trusted address", withProxies, "192.0.2.10:443", []string{"198.51.100.1"}, "198.51.100.1"},
		{"neighbour of trusted address", withProxies, "192.0.2.11:443", []string{"198.51.100.1"}, "192.0.2.11"},
		{"leading zeros refused", withProxies, "10.0.0.1:5000", []string{"1.1.1.1, 010.0.0.1"}, "10.0.0.1"},
	} {
		if got := c.res.From(request(c.remote, c.xff...)); got != c.want {
			t.Errorf("%s: got %q, want %q", c.name, got, c.want)
		}
	}
}

func FuzzFrom(f *testing.F) {
	f.Add("10.0.0.1:5000", "1.1.1.1, 198.51.100.1, 10.0.0.2")
	f.Add("[::ffff:10.0.0.1]:1", "[2001:db8::5]:4711\n::ffff:10.0.0.2")
	f.Add("203.0.113.7:5000", "198.51.100.1")
	f.Add("@", "")
	f.Add("[fe80::1%eth0]:5000", "fe80::2%25eth1, ,")
	trusted, err := clientip.ParseTrusted("10.0.0.0/8, ::ffff:0:0/96, 2001:db8::/32, fe80::/10, 0.0.0.0/32")
	if err != nil {
		f.Fatal(err)
	}
	res := clientip.Resolver{Trusted: trusted}
	f.Fuzz(func(t *testing.T, remote, xff string) {
		// Each line of xff is one header line.
		r := request(remote, strings.Split(xff, "\n")...)
		got := res.From(r)
		host := remote
		if h, _, err := net.SplitHostPort(remote); err == nil {
			host = h
		}
		a, err := netip.ParseAddr(got)
		if got == host {
			return
		}
		if err != nil {
			t.Fatalf("From(%q, %q) = %q: neither the host %q nor an address", remote, xff, got, host)
		}
		if a.Zone() != "" || a.Is4In6() || a.String() != got {
			t.Fatalf("From(%q, %q) = %q: not canonical", remote, xff, got)
		}
		// Without a trusted connection the header must not matter.
		if ra, err := netip.ParseAddr(host); err == nil {
			if got2 := (clientip.Resolver{}).From(r); got2 != ra.Unmap().WithZone("").String() {
				t.Fatalf("no proxies: From(%q) = %q", remote, got2)
			}
		}
	})
}
