package client

import (
	"context"
	"net"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestTCPKeepAliveOption: Options.TCPKeepAlive negative dials a socket
// with TCP keep-alive off (no SO_KEEPALIVE, nor the three setsockopt calls
// of its timing); zero keeps Go's default, on.
func TestTCPKeepAliveOption(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	for _, tc := range []struct {
		keepAlive int64
		want      int
	}{{-1, 0}, {0, 1}} {
		c, err := dialAny(context.Background(), &Options{Addr: ln.Addr().String(), TCPKeepAlive: time.Duration(tc.keepAlive)})
		if err != nil {
			t.Fatal(err)
		}
		raw, err := c.(*net.TCPConn).SyscallConn()
		if err != nil {
			t.Fatal(err)
		}
		var on int
		var gerr error
		if err := raw.Control(func(fd uintptr) { on, gerr = unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_KEEPALIVE) }); err != nil || gerr != nil {
			t.Fatal(err, gerr)
		}
		c.Close()
		if on != tc.want {
			t.Fatalf("TCPKeepAlive %d: SO_KEEPALIVE is %d, want %d", tc.keepAlive, on, tc.want)
		}
	}
}
