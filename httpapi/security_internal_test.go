package httpapi

import (
	"net/http"
	"net/netip"
	"testing"
)

func TestClientIP(t *testing.T) {
	trusted := []netip.Prefix{
		netip.MustParsePrefix("10.0.0.0/8"),
		netip.MustParsePrefix("127.0.0.1/32"),
		netip.MustParsePrefix("2001:db8:ffff::/48"),
	}
	cases := []struct {
		name   string
		remote string
		xff    []string
		want   string
	}{
		{"NoHeader", "192.0.2.1:4711", nil, "192.0.2.1"},
		{"UntrustedPeerHeaderIgnored", "192.0.2.1:4711", []string{"203.0.113.5"}, "192.0.2.1"},
		{"TrustedPeer", "10.0.0.2:4711", []string{"203.0.113.5"}, "203.0.113.5"},
		{"TrustedPeerNoHeader", "10.0.0.2:4711", nil, "10.0.0.2"},
		{"RightmostUntrusted", "10.0.0.2:4711", []string{"198.51.100.1, 203.0.113.5"}, "203.0.113.5"},
		{"TrustedHopsSkipped", "127.0.0.1:4711", []string{"198.51.100.1, 203.0.113.5, 10.9.9.9, 10.0.0.1"}, "203.0.113.5"},
		{"SeveralHeaders", "10.0.0.2:4711", []string{"198.51.100.1", "203.0.113.5, 10.0.0.3"}, "203.0.113.5"},
		{"AllTrusted", "10.0.0.2:4711", []string{"10.0.0.7, 10.0.0.8"}, "10.0.0.7"},
		{"Ports", "10.0.0.2:4711", []string{"203.0.113.5:5555"}, "203.0.113.5"},
		{"IPv6WithPort", "10.0.0.2:4711", []string{"[2001:db8::5]:5555"}, "2001:db8::5"},
		{"IPv6Bracketed", "10.0.0.2:4711", []string{"[2001:db8::5]"}, "2001:db8::5"},
		{"IPv6Peer", "[2001:db8:ffff::1]:4711", []string{"2001:db8::5"}, "2001:db8::5"},
		{"MappedPeer", "[::ffff:10.0.0.2]:4711", []string{"203.0.113.5"}, "203.0.113.5"},
		{"MappedHop", "10.0.0.2:4711", []string{"::ffff:203.0.113.5"}, "203.0.113.5"},
		{"EmptyElements", "10.0.0.2:4711", []string{"203.0.113.5, , "}, "203.0.113.5"},
		{"GarbageFromTrustedHop", "10.0.0.2:4711", []string{"203.0.113.5, unknown"}, "10.0.0.2"},
		{"GarbageBehindTrustedHop", "10.0.0.2:4711", []string{"garbage, 10.0.0.9"}, "10.0.0.9"},
		{"GarbageLeftOfClient", "10.0.0.2:4711", []string{"garbage, 203.0.113.5"}, "203.0.113.5"},
		{"RemoteAddrWithoutPort", "192.0.2.1", nil, "192.0.2.1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := &http.Request{RemoteAddr: c.remote, Header: http.Header{}}
			for _, v := range c.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if got := clientIP(r, trusted); got != c.want {
				t.Errorf("clientIP = %q, want %q", got, c.want)
			}
		})
	}
}
