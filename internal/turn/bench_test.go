package turn_test

import (
	"net"
	"testing"
	"time"

	"github.com/parley-im/parley/internal/turn"
)

// BenchmarkRelayPeerToClient measures the relay's forwarding of 1,000-byte
// packets from a peer to a client over UDP (loopback, no bandwidth limit):
// each iteration is one packet written by the peer and read by the client
// through its allocation. Run: go test -bench Relay -run XXX ./internal/turn
func BenchmarkRelayPeerToClient(b *testing.B) {
	udp, _, _, _ := startRelay(b, nil)
	cl := dial(b, "udp", udp, turn.Issue(secret, "alice@localhost", time.Hour, time.Now()))
	relay, err := cl.Allocate()
	if err != nil {
		b.Fatal(err)
	}
	defer relay.Close()
	peer, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer peer.Close()
	if err := cl.CreatePermission(peer.LocalAddr()); err != nil {
		b.Fatal(err)
	}
	pkt := make([]byte, 1000)
	buf := make([]byte, 1500)
	b.SetBytes(int64(len(pkt)))
	b.ResetTimer()
	for range b.N {
		if _, err := peer.WriteTo(pkt, relay.LocalAddr()); err != nil {
			b.Fatal(err)
		}
		_ = relay.SetReadDeadline(time.Now().Add(2 * time.Second))
		if _, _, err := relay.ReadFrom(buf); err != nil {
			b.Fatal(err)
		}
	}
}
