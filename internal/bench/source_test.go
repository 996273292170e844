package bench

import (
	"context"
	"net"
	"runtime"
	"testing"
	"time"

	"github.com/parley-im/parley/client"
)

// TestDevicesDialFromSeveralLoopbackAddresses: the generator's devices
// reach a loopback server from different source addresses, so that a
// ramp of 18,000 logins does not run one address out of the ephemeral
// ports connect() finds at once (2,627 logins/s there before, 9,932
// after, with the server then the limit). The server sees them.
func TestDevicesDialFromSeveralLoopbackAddresses(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the generator spreads its connections over loopback addresses on Linux only")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	cfg := Config{Addr: ln.Addr().String(), Devices: 4, Password: "pw", Transport: client.Plaintext, Mechanism: "PLAIN"}
	if err := cfg.fill(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for i := range cfg.Devices {
		go func() { _, _ = client.Dial(ctx, cfg.clientOptions(i)) }() // fails: the listener speaks no XMPP
	}
	seen := map[string]bool{}
	for range cfg.Devices {
		c, err := ln.Accept()
		if err != nil {
			t.Fatal(err)
		}
		seen[c.RemoteAddr().(*net.TCPAddr).IP.String()] = true
		c.Close()
	}
	if len(seen) != cfg.Devices {
		t.Fatalf("%d devices dialled from %d source addresses (%v), want one each", cfg.Devices, len(seen), seen)
	}
}

// TestOnlyIPv4LoopbackServersGetASourceAddress: the source address is
// chosen for an IPv4 loopback server only (::1 has no neighbours, and a
// remote server is reached from the kernel's choice).
func TestOnlyIPv4LoopbackServersGetASourceAddress(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the generator spreads its connections over loopback addresses on Linux only")
	}
	for _, addr := range []string{"[::1]:5222", "192.0.2.1:5222", "localhost:5222", "nonsense"} {
		if a := loopbackSource(addr, 3); a != nil {
			t.Errorf("loopbackSource(%q) = %v, want nil", addr, a)
		}
	}
	if a := loopbackSource("127.0.0.1:5222", 3); a.String() != "127.0.0.4:0" {
		t.Errorf("device 3 dials from %v, want 127.0.0.4:0", a)
	}
}
