package server

import (
	"net/http"
	"net/netip"
	"strings"
)

// clientAddress resolves each request's client address before the HTTP
// listener's handlers see it. Behind a reverse proxy in --trusted-proxies,
// every web client's socket comes from the proxy: r.RemoteAddr becomes the
// address the proxy saw instead (forwardedFor), so that the per-address
// limits (the WebSocket upgrade hands r.RemoteAddr to the connection:
// logins, registrations, pairings) and --metrics-allow apply to the
// client, not to the proxy all clients share. Requests from anywhere else
// keep their socket's address: their X-Forwarded-For is the client's own
// claim.
func clientAddress(trusted []netip.Prefix, next http.Handler) http.Handler {
	if len(trusted) == 0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		peer, ok := remoteAddr(r)
		if !ok || !inNetworks(peer, trusted) {
			next.ServeHTTP(w, r)
			return
		}
		r = r.WithContext(r.Context()) // a copy: handlers must not change the request they are given
		r.RemoteAddr = netip.AddrPortFrom(forwardedFor(r.Header, peer, trusted), 0).String()
		next.ServeHTTP(w, r)
	})
}

// allowOnly serves next to the clients whose address (after
// clientAddress) is in allowed, and 403 with the reason to the others.
// It guards /metrics and /debug/pprof/ on the public HTTP listener
// (--metrics-allow, loopback by default, as Prosody's
// openmetrics_allow_cidr): metrics tell anyone how many users are online
// and when, and a profile costs the server CPU time on demand.
func allowOnly(allowed []netip.Prefix, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a, ok := remoteAddr(r)
		if !ok || !inNetworks(a, allowed) {
			http.Error(w, "forbidden: "+r.URL.Path+" is served to the networks of --metrics-allow only, not to "+a.String(), http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// forwardedFor is the client's address for a request that peer, a trusted
// proxy, relayed. Each proxy appends the address it saw to
// X-Forwarded-For, so the list is read from the right: the first address
// not in trusted is the client, and what lies left of it is that client's
// own claim, not believed. When every address is trusted, the left-most
// is the client; an entry that is not an address ends the walk at the one
// before it.
func forwardedFor(h http.Header, peer netip.Addr, trusted []netip.Prefix) netip.Addr {
	hops := strings.Split(strings.Join(h.Values("X-Forwarded-For"), ","), ",")
	client := peer
	for i := len(hops) - 1; i >= 0; i-- {
		a, ok := parseHop(hops[i])
		if !ok {
			break
		}
		if client = a; !inNetworks(a, trusted) {
			break
		}
	}
	return client
}

// parseHop parses one X-Forwarded-For entry: an address, or an address
// and port as some proxies write it ("192.0.2.1:4711", "[2001:db8::1]:4711").
func parseHop(s string) (netip.Addr, bool) {
	s = strings.TrimSpace(s)
	a, err := netip.ParseAddr(s)
	if err != nil {
		ap, perr := netip.ParseAddrPort(s)
		if perr != nil {
			return netip.Addr{}, false
		}
		a = ap.Addr()
	}
	return a.Unmap().WithZone(""), true
}

// remoteAddr is r's client address (after clientAddress), unmapped.
func remoteAddr(r *http.Request) (netip.Addr, bool) {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}, false
	}
	return ap.Addr().Unmap(), true
}

func inNetworks(a netip.Addr, networks []netip.Prefix) bool {
	for _, n := range networks {
		if n.Contains(a) {
			return true
		}
	}
	return false
}
