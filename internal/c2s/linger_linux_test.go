package c2s

import (
	"log/slog"
	"net"
	"testing"
	"time"
)

// TestLingeringIsBounded: connections going quiet linger (keep their
// goroutine) up to lingerLimit at once; the ones beyond it are parked at
// once. Without the bound a login ramp had as many lingering goroutines
// as logins in the last second, each with its grown stack. The linger is
// made longer than the test, so every connection that lingers is still
// lingering when the test counts.
func TestLingeringIsBounded(t *testing.T) {
	srv := NewServer(Config{Domain: "localhost", Log: slog.New(slog.DiscardHandler)})
	if srv.parker == nil {
		t.Skip("no epoll parker")
	}
	t.Cleanup(srv.parker.close)
	srv.lingerFor = time.Hour
	const over = 8
	n := lingerLimit + over
	conns, clients := make([]*conn, n), make([]net.Conn, n)
	gone := make(chan bool, n) // readMore's result: parked (true) or woken
	for i := range n {
		server, client := tcpPair(t)
		c := newConn(srv, server, XMLStream)
		c.idle = newIdleWaiter(server, server)
		conns[i], clients[i] = c, client
		go func() { g, _ := c.readMore(); gone <- g }()
	}
	for range over {
		select {
		case g := <-gone:
			if !g {
				t.Fatal("a quiet connection woke")
			}
		case <-time.After(20 * time.Second):
			t.Fatalf("%d connections went quiet and none was parked at once (%d lingering, limit %d)",
				n, srv.lingering.n.Load(), lingerLimit)
		}
	}
	if got := srv.ParkedConnections(); got != over {
		t.Errorf("%d connections parked at once, want %d", got, over)
	}
	if peak := srv.lingering.peak.Load(); peak > lingerLimit {
		t.Errorf("%d lingered at once, limit %d", peak, lingerLimit)
	}
	for i, c := range conns { // wake the lingering ones, which then read on
		if !srv.parker.unpark(c) {
			if _, err := clients[i].Write([]byte(" ")); err != nil {
				t.Fatal(err)
			}
		}
	}
	for range lingerLimit {
		if <-gone {
			t.Fatal("a lingering connection was parked")
		}
	}
}
