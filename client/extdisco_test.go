package client_test

import (
	"context"
	"net"
	"strconv"
	"testing"
	"time"

	pionturn "github.com/pion/turn/v4"

	"github.com/parley-im/parley/client"
	"github.com/parley-im/parley/internal/servertest"
)

// TestRelayServicesWorkAgainstTheEmbeddedRelay: alice (binary) asks for
// the relay services (XEP-0215), and the TURN credential she gets opens
// an allocation on the relay parley serve embeds, through which a peer's
// packet reaches her; bob's credential names bob, and a forged username
// with alice's password is refused.
func TestRelayServicesWorkAgainstTheEmbeddedRelay(t *testing.T) {
	srv := servertest.Start(t, nil)
	srv.AddUser(t, "alice@localhost", "pw-alice")
	srv.AddUser(t, "bob@localhost", "pw-bob")
	alice := dial(t, srv, "alice@localhost/phone", "pw-alice", binary(srv))
	bob := dial(t, srv, "bob@localhost/laptop", "pw-bob", xml)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	services, err := alice.RelayServices(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var udp client.RelayService
	types := map[string]int{}
	for _, s := range services {
		types[s.Type+"/"+s.Transport]++
		if s.Type == "turn" && s.Transport == "udp" {
			udp = s
		}
	}
	if types["stun/udp"] != 1 || types["turn/udp"] != 1 || types["turn/tcp"] != 1 {
		t.Fatalf("services %+v", services)
	}
	if net.JoinHostPort(udp.Host, strconv.Itoa(udp.Port)) != srv.TURN || time.Until(udp.Expires) < 5*time.Hour {
		t.Fatalf("turn service %+v, relay at %s", udp, srv.TURN)
	}
	if udp.URL() != "turn:"+srv.TURN+"?transport=udp" {
		t.Fatalf("URL %s", udp.URL())
	}
	bobs, err := bob.RelayServices(ctx)
	if err != nil || len(bobs) != 3 || bobs[1].Username == udp.Username {
		t.Fatalf("bob's services %+v %v", bobs, err)
	}
	if got := bobs[1].Username; got[len(got)-len(":bob@localhost"):] != ":bob@localhost" {
		t.Fatalf("bob's username %q", got)
	}

	relayed := allocate(t, srv.TURN, udp.Username, udp.Password)
	peer, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	if _, err := relayed.WriteTo([]byte("ping"), peer.LocalAddr()); err != nil { // creates the permission
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	_ = peer.SetReadDeadline(time.Now().Add(3 * time.Second))
	if n, from, err := peer.ReadFrom(buf); err != nil || string(buf[:n]) != "ping" || from.String() != relayed.LocalAddr().String() {
		t.Fatalf("peer: %q from %v: %v", buf[:n], from, err)
	}
	if _, err := peer.WriteTo([]byte("pong"), relayed.LocalAddr()); err != nil {
		t.Fatal(err)
	}
	_ = relayed.SetReadDeadline(time.Now().Add(3 * time.Second))
	if n, _, err := relayed.ReadFrom(buf); err != nil || string(buf[:n]) != "pong" {
		t.Fatalf("alice: %q: %v", buf[:n], err)
	}

	forged := udp.Username[:len(udp.Username)-len("alice@localhost")] + "bob@localhost"
	if _, err := tryAllocate(t, srv.TURN, forged, udp.Password); err == nil {
		t.Fatal("a forged username was accepted")
	}
}

// allocate opens a TURN allocation with pion's client over UDP.
func allocate(t *testing.T, addr, user, pass string) net.PacketConn {
	t.Helper()
	relayed, err := tryAllocate(t, addr, user, pass)
	if err != nil {
		t.Fatalf("allocate: %v", err)
	}
	return relayed
}

func tryAllocate(t *testing.T, addr, user, pass string) (net.PacketConn, error) {
	t.Helper()
	conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cl, err := pionturn.NewClient(&pionturn.ClientConfig{STUNServerAddr: addr, TURNServerAddr: addr, Conn: conn,
		Username: user, Password: pass, Realm: "localhost"})
	if err != nil {
		t.Fatal(err)
	}
	if err := cl.Listen(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cl.Close(); _ = conn.Close() })
	relayed, err := cl.Allocate()
	if err == nil {
		t.Cleanup(func() { _ = relayed.Close() })
	}
	return relayed, err
}
