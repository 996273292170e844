package server

// Behind a reverse proxy (--trusted-proxies): the client's address comes
// from X-Forwarded-For when, and only when, the socket's peer is a trusted
// proxy, and the per-address limits count each client apart.
//
// Run: go test -run 'BehindAProxy' -v ./internal/server/

import (
	"bufio"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/parley-im/parley/internal/config"
	"github.com/parley-im/parley/internal/devicelink"
)

// wsXMPP is a minimal XMPP-over-WebSocket client (RFC 7395: one element
// per text message) whose upgrade request carries an X-Forwarded-For
// header, as a reverse proxy's does.
type wsXMPP struct {
	t *testing.T
	c net.Conn
	r *bufio.Reader
}

// dialWSXMPP upgrades a connection to /xmpp-websocket with forwardedFor
// ("" = no header) and opens the stream, up to the stream features.
func dialWSXMPP(t *testing.T, addr, forwardedFor string) *wsXMPP {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	_ = c.SetDeadline(time.Now().Add(20 * time.Second))
	req := "GET /xmpp-websocket HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: xmpp\r\n"
	if forwardedFor != "" {
		req += "X-Forwarded-For: " + forwardedFor + "\r\n"
	}
	if _, err := io.WriteString(c, req+"\r\n"); err != nil {
		t.Fatal(err)
	}
	w := &wsXMPP{t: t, c: c, r: bufio.NewReader(c)}
	if resp, err := http.ReadResponse(w.r, nil); err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("WebSocket upgrade: %v %v", resp, err)
	}
	w.send(`<open xmlns="urn:ietf:params:xml:ns:xmpp-framing" to="localhost" version="1.0"/>`)
	w.expect("<open", "stream:features")
	return w
}

// send writes s as one masked text message.
func (w *wsXMPP) send(s string) {
	w.t.Helper()
	hdr := []byte{0x81}
	if len(s) < 126 {
		hdr = append(hdr, 0x80|byte(len(s)))
	} else {
		hdr = binary.BigEndian.AppendUint16(append(hdr, 0x80|126), uint16(len(s)))
	}
	mask := [4]byte{7, 1, 2, 9}
	out := append(hdr, mask[:]...)
	for i := range len(s) {
		out = append(out, s[i]^mask[i%4])
	}
	if _, err := w.c.Write(out); err != nil {
		w.t.Fatal(err)
	}
}

// read returns the next message from the server (unmasked, under 64 KiB).
func (w *wsXMPP) read() string {
	w.t.Helper()
	var h [2]byte
	if _, err := io.ReadFull(w.r, h[:]); err != nil {
		w.t.Fatal(err)
	}
	n := int(h[1] & 0x7f)
	if n == 126 {
		var b [2]byte
		_, _ = io.ReadFull(w.r, b[:])
		n = int(binary.BigEndian.Uint16(b[:]))
	}
	p := make([]byte, n)
	if _, err := io.ReadFull(w.r, p); err != nil {
		w.t.Fatal(err)
	}
	return string(p)
}

// expect reads one message per want and checks that each contains it.
func (w *wsXMPP) expect(want ...string) string {
	w.t.Helper()
	var m string
	for _, s := range want {
		if m = w.read(); !strings.Contains(m, s) {
			w.t.Fatalf("got %s, want a message with %q", m, s)
		}
	}
	return m
}

// plain authenticates with SASL PLAIN and returns the server's answer.
func (w *wsXMPP) plain(user, password string) string {
	w.t.Helper()
	w.send(`<auth xmlns="urn:ietf:params:xml:ns:xmpp-sasl" mechanism="PLAIN">` +
		base64.StdEncoding.EncodeToString([]byte("\x00"+user+"\x00"+password)) + `</auth>`)
	return w.read()
}

// TestLoginLimitPerClientBehindAProxy: behind a trusted proxy, one
// client's wrong passwords lock out that client (the right-most
// X-Forwarded-For address that is not the proxy's, whatever it puts to
// the left), not every web client; from an untrusted peer
// X-Forwarded-For is ignored, and changing it does not escape the limit.
func TestLoginLimitPerClientBehindAProxy(t *testing.T) {
	ts := startServer(t, func(c *config.Config) { c.TrustedProxies = "127.0.0.1/32, 10.0.0.0/8" })
	ts.addUser(t, "alice", "pw-alice")
	addr := ts.addrs.HTTP
	guesser := dialWSXMPP(t, addr, "203.0.113.7, 10.1.1.1")
	for i := range 5 {
		if got := guesser.plain("alice", fmt.Sprint("guess", i)); !strings.Contains(got, "not-authorized") {
			t.Fatalf("wrong password %d: %s", i, got)
		}
	}
	for _, xff := range []string{"203.0.113.7", "198.51.100.1, 203.0.113.7", "10.9.9.9,203.0.113.7,10.1.1.1"} {
		if got := dialWSXMPP(t, addr, xff).plain("alice", "pw-alice"); !strings.Contains(got, "temporary-auth-failure") {
			t.Fatalf("the guesser again, X-Forwarded-For %q: %s", xff, got)
		}
	}
	if got := dialWSXMPP(t, addr, "203.0.113.8").plain("alice", "pw-alice"); !strings.Contains(got, "<success") {
		t.Fatalf("another client behind the proxy: %s", got)
	}

	direct := startServer(t, nil) // no trusted proxy: X-Forwarded-For is the client's claim
	direct.addUser(t, "alice", "pw-alice")
	for i := range 5 {
		if got := dialWSXMPP(t, direct.addrs.HTTP, fmt.Sprintf("203.0.113.%d", i)).plain("alice", "guess"); !strings.Contains(got, "not-authorized") {
			t.Fatalf("wrong password %d: %s", i, got)
		}
	}
	if got := dialWSXMPP(t, direct.addrs.HTTP, "203.0.113.99").plain("alice", "pw-alice"); !strings.Contains(got, "temporary-auth-failure") {
		t.Fatalf("a new X-Forwarded-For from an untrusted peer escaped the limit: %s", got)
	}
}

// pairIQ is a <pair/> request with an all-zero key (any 32 bytes will do
// for a pairing that is never linked).
func pairIQ() string {
	return `<iq xmlns="jabber:client" type="set" id="p1"><pair xmlns="` + devicelink.NS + `" key="` +
		devicelink.EncodeKey(make([]byte, 32)) + `"/></iq>`
}

// TestPairingLimitPerClientBehindAProxy: the pairing streams one client
// may hold (16) count each client behind a trusted proxy apart, and an
// IPv6 client by /64 as the login limit does: sixteen streams from one
// /64 fill its slots, whatever address of it the next one uses, and a
// client of another /64 still pairs.
func TestPairingLimitPerClientBehindAProxy(t *testing.T) {
	ts := startServer(t, func(c *config.Config) { c.TrustedProxies = "127.0.0.1/32" })
	for i := range 16 {
		dev := dialWSXMPP(t, ts.addrs.HTTP, fmt.Sprintf("2001:db8:1:1::%x", i+1))
		dev.send(pairIQ())
		if got := dev.read(); !strings.Contains(got, `type="result"`) {
			t.Fatalf("pairing %d: %s", i, got)
		}
	}
	dev := dialWSXMPP(t, ts.addrs.HTTP, "2001:db8:1:1:ffff:ffff:ffff:ffff")
	dev.send(pairIQ())
	if got := dev.read(); !strings.Contains(got, "resource-constraint") {
		t.Fatalf("a 17th pairing from the same /64: %s", got)
	}
	for _, other := range []string{"2001:db8:1:2::1", "192.0.2.1"} {
		dev := dialWSXMPP(t, ts.addrs.HTTP, other)
		dev.send(pairIQ())
		if got := dev.read(); !strings.Contains(got, `type="result"`) {
			t.Fatalf("a pairing from %s: %s", other, got)
		}
	}
}

// getVia GETs url with X-Forwarded-For: forwardedFor ("" = none).
func getVia(t *testing.T, url, forwardedFor string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if forwardedFor != "" {
		req.Header.Set("X-Forwarded-For", forwardedFor)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// TestMetricsForMetricsAllowOnly: /metrics and the profiler answer the
// networks of --metrics-allow (loopback by default), judged by the
// client's address as --trusted-proxies resolves it, and the others get
// 403 with a one-line reason: a web client behind the local proxy is not
// a local scraper. /healthz answers everyone. From an untrusted peer,
// X-Forwarded-For does not let a client in.
func TestMetricsForMetricsAllowOnly(t *testing.T) {
	ts := startServer(t, func(c *config.Config) { c.Pprof, c.TrustedProxies = true, "127.0.0.1/32" })
	base := "http://" + ts.addrs.HTTP
	for _, path := range []string{"/metrics", "/debug/pprof/", "/debug/pprof/heap", "/debug/pprof/symbol"} {
		if code, body := getVia(t, base+path, ""); code != http.StatusOK {
			t.Fatalf("GET %s from loopback: %d %.200s", path, code, body)
		}
		code, body := getVia(t, base+path, "203.0.113.5")
		if code != http.StatusForbidden || !strings.Contains(body, "--metrics-allow") || strings.Count(body, "\n") != 1 {
			t.Fatalf("GET %s from a client behind the proxy: %d %.200q", path, code, body)
		}
	}
	if code, body := getVia(t, base+"/healthz", "203.0.113.5"); code != http.StatusOK {
		t.Fatalf("GET /healthz from a client behind the proxy: %d %s", code, body)
	}

	other := startServer(t, func(c *config.Config) { c.MetricsAllow = "192.0.2.0/24" })
	if code, body := getVia(t, "http://"+other.addrs.HTTP+"/metrics", "192.0.2.1"); code != http.StatusForbidden {
		t.Fatalf("GET /metrics from loopback, outside --metrics-allow, claiming 192.0.2.1: %d %.200s", code, body)
	}
}
