package httpapi

import (
	"context"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// Headers every answer of the API carries. The API answers JSON to
// programs: nothing is to be sniffed, framed, cached (tokens: RFC 6749
// section 5.1), referred to, or loaded by it.
//
// Pragma: no-cache, which HTTP leaves undefined in answers (RFC 9111
// section 5.4) and RFC 6749 asks for beside Cache-Control: no-store only on
// answers carrying tokens, is sent by the token endpoints alone
// (pragmaNoCache): every other answer then stays within eight headers,
// which net/http copies in one small map.
var securityHeaderValues = [][2]string{
	{"X-Content-Type-Options", "nosniff"},
	{"Cache-Control", "no-store"},
	{"Referrer-Policy", "no-referrer"},
	{"X-Frame-Options", "DENY"},
	{"Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'"},
}

// hsts is sent on answers to requests that came over TLS: browsers then
// use HTTPS only for this host for a year. It is not sent over plain
// HTTP, where it means nothing (RFC 6797 section 7.2), nor for
// subdomains, which the operator may serve otherwise.
const hsts = "max-age=31536000"

// securityHeaders holds securityHeaderValues as header values, made once:
// setting them is then a map assignment per header, not a canonicalisation
// and an allocation (net/http never modifies a header's value slice).
var securityHeaders = func() [][2]any {
	out := make([][2]any, len(securityHeaderValues))
	for i, kv := range securityHeaderValues {
		out[i] = [2]any{http.CanonicalHeaderKey(kv[0]), []string{kv[1]}}
	}
	return out
}()

var hstsValue = []string{hsts}

var pragmaNoCache = []string{"no-cache"}

// setSecurityHeaders sets the headers of securityHeaderValues on h, and
// Strict-Transport-Security when r came over TLS (r may be nil).
func setSecurityHeaders(h http.Header, r *http.Request) {
	for _, kv := range securityHeaders {
		h[kv[0].(string)] = kv[1].([]string)
	}
	if r != nil && r.TLS != nil {
		h["Strict-Transport-Security"] = hstsValue
	}
}

const clientIPKey ctxKey = 1

// withClientIP records in r's context the client address that clientInfo
// reports (and the login rate limit counts), when it is not simply the
// peer of the connection.
func (h *Handler) withClientIP(r *http.Request) *http.Request {
	if len(h.trusted) == 0 {
		return r
	}
	ip := clientIP(r, h.trusted)
	return r.WithContext(context.WithValue(r.Context(), clientIPKey, ip))
}

// peerAddr is the address of the connection's peer, without the port.
func peerAddr(remote string) string {
	ip, _, err := net.SplitHostPort(remote)
	if err != nil {
		return remote
	}
	return ip
}

// clientIP returns the address of the client that made r: the peer of the
// connection, unless that peer is one of the trusted proxies; then the
// rightmost address of X-Forwarded-For (all such headers, in order) that
// is not a trusted proxy. Addresses to the left of it were written by the
// client and are never believed. If every address is trusted, the leftmost
// is the client; if a trusted hop wrote something that is not an address,
// that hop is taken as the client (so a broken header shares one limit
// rather than giving each request a new one).
func clientIP(r *http.Request, trusted []netip.Prefix) string {
	peer := peerAddr(r.RemoteAddr)
	a, err := netip.ParseAddr(peer)
	if err != nil {
		return peer
	}
	a = a.Unmap().WithZone("")
	if !isTrusted(a, trusted) {
		return peer
	}
	client := a
	xff := r.Header.Values("X-Forwarded-For")
	for i := len(xff) - 1; i >= 0; i-- {
		hops := strings.Split(xff[i], ",")
		for j := len(hops) - 1; j >= 0; j-- {
			hop := strings.TrimSpace(hops[j])
			if hop == "" {
				continue
			}
			addr, ok := parseHop(hop)
			if !ok {
				return client.String()
			}
			if !isTrusted(addr, trusted) {
				return addr.String()
			}
			client = addr
		}
	}
	return client.String()
}

// parseHop reads one X-Forwarded-For element: an address, possibly with a
// port ("192.0.2.1:4711", "[2001:db8::1]:4711") as some proxies write.
func parseHop(s string) (netip.Addr, bool) {
	a, err := netip.ParseAddr(s)
	if err != nil {
		ap, err2 := netip.ParseAddrPort(s)
		if err2 != nil {
			a, err = netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(s, "["), "]"))
			if err != nil {
				return netip.Addr{}, false
			}
		} else {
			a = ap.Addr()
		}
	}
	return a.Unmap().WithZone(""), true
}

func isTrusted(a netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
