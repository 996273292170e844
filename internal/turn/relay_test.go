package turn_test

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	pionturn "github.com/pion/turn/v4"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/parley-im/parley/internal/turn"
)

var secret = []byte("a shared secret of the chat servers and relays")

// startRelay runs a relay on ephemeral loopback ports (UDP and TCP).
func startRelay(t testing.TB, mod func(*turn.Config)) (udp, tcp string, m *turn.Metrics, reg *prometheus.Registry) {
	t.Helper()
	pc, ln, err := turn.ListenUDPAndTCP("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	reg = prometheus.NewRegistry()
	m = turn.NewMetrics(reg)
	cfg := turn.Config{UDP: pc, TCP: ln, Realm: "localhost", Secret: secret, RelayIP: net.IPv4(127, 0, 0, 1),
		RelayBind: "127.0.0.1", Metrics: m}
	if mod != nil {
		mod(&cfg)
	}
	r, err := turn.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close() })
	return pc.LocalAddr().String(), ln.Addr().String(), m, reg
}

// dial makes a pion TURN client over UDP or TCP with a credential.
func dial(t testing.TB, network, addr string, c turn.Credential) *pionturn.Client {
	t.Helper()
	var conn net.PacketConn
	if network == "tcp" {
		tc, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		conn = pionturn.NewSTUNConn(tc)
	} else {
		pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		conn = pc
	}
	cl, err := pionturn.NewClient(&pionturn.ClientConfig{STUNServerAddr: addr, TURNServerAddr: addr,
		Conn: conn, Username: c.Username, Password: c.Password, Realm: "localhost",
		LoggerFactory: quietLogs{}})
	if err != nil {
		t.Fatal(err)
	}
	if err := cl.Listen(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cl.Close(); _ = conn.Close() })
	return cl
}

func readWithin(t testing.TB, c net.PacketConn, d time.Duration) ([]byte, net.Addr) {
	t.Helper()
	buf := make([]byte, 1500)
	_ = c.SetReadDeadline(time.Now().Add(d))
	n, from, err := c.ReadFrom(buf)
	if err != nil {
		t.Fatalf("reading: %v", err)
	}
	return buf[:n], from
}

func TestRelayRelaysBothWays(t *testing.T) {
	udp, tcp, _, reg := startRelay(t, nil)
	for _, tc := range []struct{ network, addr string }{{"udp", udp}, {"tcp", tcp}} {
		t.Run(tc.network, func(t *testing.T) {
			cred := turn.Issue(secret, "alice@localhost", time.Hour, time.Now())
			cl := dial(t, tc.network, tc.addr, cred)
			mapped, err := cl.SendBindingRequest() // STUN
			if err != nil || !strings.HasPrefix(mapped.String(), "127.0.0.1:") {
				t.Fatalf("STUN binding: %v %v", mapped, err)
			}
			relay, err := cl.Allocate()
			if err != nil {
				t.Fatalf("allocate: %v", err)
			}
			defer relay.Close()
			peer, err := net.ListenPacket("udp4", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer peer.Close()

			// alice -> relay -> peer (the first send creates the permission)
			if _, err := relay.WriteTo([]byte("hello peer"), peer.LocalAddr()); err != nil {
				t.Fatal(err)
			}
			got, from := readWithin(t, peer, 3*time.Second)
			if string(got) != "hello peer" || from.String() != relay.LocalAddr().String() {
				t.Fatalf("peer got %q from %v, want from the relay %v", got, from, relay.LocalAddr())
			}
			// peer -> relay -> alice
			if _, err := peer.WriteTo([]byte("hello alice"), relay.LocalAddr()); err != nil {
				t.Fatal(err)
			}
			got, from = readWithin(t, relay, 3*time.Second)
			if string(got) != "hello alice" || from.String() != peer.LocalAddr().String() {
				t.Fatalf("alice got %q from %v", got, from)
			}
		})
	}
	// "hello peer" and "hello alice" once over UDP, once over TCP. The
	// relay counts a packet to the peer after its write returned, which
	// may be after the peer read it: allow a moment.
	for deadline := time.Now().Add(3 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		low := ""
		for _, m := range family(t, reg, "parley_turn_relayed_bytes_total").GetMetric() {
			if v := m.GetCounter().GetValue(); v < 20 {
				low = fmt.Sprintf("relayed bytes %s: %v", m.GetLabel()[0].GetValue(), v)
			}
		}
		if low == "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal(low)
		}
	}
}

func TestRelayRefusesBadCredentials(t *testing.T) {
	udp, _, _, reg := startRelay(t, nil)
	now := time.Now()
	good := turn.Issue(secret, "alice@localhost", time.Hour, now)
	for name, c := range map[string]turn.Credential{
		"wrong password": {Username: good.Username, Password: "bm90IHRoZSBwYXNzd29yZA=="},
		"other secret":   turn.Issue([]byte("another secret"), "alice@localhost", time.Hour, now),
		"expired":        turn.Issue(secret, "alice@localhost", -time.Minute, now),
		"no expiry":      {Username: "alice@localhost", Password: good.Password},
	} {
		t.Run(name, func(t *testing.T) {
			cl := dial(t, "udp", udp, c)
			if relay, err := cl.Allocate(); err == nil {
				relay.Close()
				t.Fatal("allocation accepted")
			}
		})
	}
	if n := sum(t, reg, "parley_turn_auth_failures_total"); n < 4 {
		t.Fatalf("auth failures counted: %v", n)
	}
}

func TestRelayQuotaPerUser(t *testing.T) {
	udp, _, _, reg := startRelay(t, func(c *turn.Config) { c.MaxAllocationsPerUser = 2 })
	cred := turn.Issue(secret, "alice@localhost", time.Hour, time.Now())
	var relays []net.PacketConn
	for range 2 {
		r, err := dial(t, "udp", udp, cred).Allocate()
		if err != nil {
			t.Fatal(err)
		}
		relays = append(relays, r)
	}
	_, err := dial(t, "udp", udp, cred).Allocate()
	if err == nil || !strings.Contains(err.Error(), "486") {
		t.Fatalf("third allocation of alice: %v, want 486 Allocation Quota Reached", err)
	}
	// Another user is not affected, nor is alice with a fresh credential
	// once one of hers is released.
	other := turn.Issue(secret, "bob@localhost", time.Hour, time.Now())
	if r, err := dial(t, "udp", udp, other).Allocate(); err != nil {
		t.Fatalf("bob: %v", err)
	} else {
		defer r.Close()
	}
	if n := sum(t, reg, "parley_turn_allocations"); n != 3 {
		t.Fatalf("allocations gauge %v, want 3", n)
	}
	_ = relays[0].Close() // sends a Refresh with lifetime 0
	deadline := time.Now().Add(3 * time.Second)
	for {
		r, err := dial(t, "udp", udp, turn.Issue(secret, "alice@localhost", time.Hour, time.Now())).Allocate()
		if err == nil {
			r.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("alice after releasing one: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	relays[1].Close()
}

func TestRelayBandwidthLimit(t *testing.T) {
	const limit = 8000 // bytes/s per direction
	udp, _, _, reg := startRelay(t, func(c *turn.Config) { c.Bandwidth = limit })
	cl := dial(t, "udp", udp, turn.Issue(secret, "alice@localhost", time.Hour, time.Now()))
	relay, err := cl.Allocate()
	if err != nil {
		t.Fatal(err)
	}
	defer relay.Close()
	peer, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	if err := cl.CreatePermission(peer.LocalAddr()); err != nil {
		t.Fatal(err)
	}
	pkt := bytes.Repeat([]byte{'x'}, 1000)
	for range 40 { // 40 kB at once: the bucket holds one second (8 kB)
		if _, err := peer.WriteTo(pkt, relay.LocalAddr()); err != nil {
			t.Fatal(err)
		}
	}
	got := 0
	buf := make([]byte, 1500)
	for {
		_ = relay.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		if _, _, err := relay.ReadFrom(buf); err != nil {
			break
		}
		got++
	}
	if got < 4 || got > 20 { // 8 from the full bucket, a few more refilled while reading
		t.Fatalf("alice got %d packets of 1000 bytes at once through an %d B/s limit", got, limit)
	}
	dropped := sum(t, reg, "parley_turn_dropped_packets_total")
	if dropped < 20 {
		t.Fatalf("dropped packets counted: %v", dropped)
	}
}

func TestCredentialScheme(t *testing.T) {
	// coturn's TURN REST API: username expiry:user, password
	// base64(HMAC-SHA1(secret, username)); pion derives the same.
	now := time.Unix(1_700_000_000, 0)
	c := turn.Issue([]byte("s3cret"), "alice@localhost", time.Hour, now)
	if c.Username != "1700003600:alice@localhost" {
		t.Fatalf("username %q", c.Username)
	}
	pass, user, err := turn.Check([]byte("s3cret"), c.Username, now)
	if err != nil || pass != c.Password || user != "alice@localhost" {
		t.Fatalf("check: %q %q %v", pass, user, err)
	}
	if _, _, err := turn.Check([]byte("s3cret"), c.Username, now.Add(time.Hour)); !errors.Is(err, turn.ErrExpired) {
		t.Fatalf("at expiry: %v", err)
	}
	for _, bad := range []string{"", "alice", ":alice", "x:alice", "-5:alice", "1700003600:"} {
		if _, _, err := turn.Check([]byte("s3cret"), bad, now); !errors.Is(err, turn.ErrMalformed) {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

// TestRelayCloseEndsAllocations: Close frees the relayed ports of live
// allocations and ends accepted TCP connections (pion's own Close leaves
// both open).
func TestRelayCloseEndsAllocations(t *testing.T) {
	pc, ln, err := turn.ListenUDPAndTCP("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r, err := turn.New(turn.Config{UDP: pc, TCP: ln, Realm: "localhost", Secret: secret, RelayIP: net.IPv4(127, 0, 0, 1), RelayBind: "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	cred := turn.Issue(secret, "alice@localhost", time.Hour, time.Now())
	udpRelay, err := dial(t, "udp", pc.LocalAddr().String(), cred).Allocate()
	if err != nil {
		t.Fatal(err)
	}
	tcpConn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer tcpConn.Close()
	cl, err := pionturn.NewClient(&pionturn.ClientConfig{STUNServerAddr: ln.Addr().String(), TURNServerAddr: ln.Addr().String(),
		Conn: pionturn.NewSTUNConn(tcpConn), Username: cred.Username, Password: cred.Password, Realm: "localhost", LoggerFactory: quietLogs{}})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if err := cl.Listen(); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.Allocate(); err != nil {
		t.Fatal(err)
	}
	if r.Allocations() != 2 {
		t.Fatalf("%d allocations", r.Allocations())
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	// The relayed UDP port is free again (the kernel socket goes once the
	// relay's reader has woken up from its blocked read: allow a moment).
	port := udpRelay.LocalAddr().(*net.UDPAddr).Port
	for deadline := time.Now().Add(3 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		c, err := net.ListenPacket("udp4", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err == nil {
			_ = c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the relayed port %d is still bound after Close: %v", port, err)
		}
	}
	// The TCP connection was closed by the relay.
	_ = tcpConn.SetReadDeadline(time.Now().Add(3 * time.Second))
	if _, err := tcpConn.Read(make([]byte, 1)); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("the TCP connection is still open: %v", err)
	}
}
