package c2s

import (
	"log/slog"
	"net"
	"sync/atomic"
	"syscall"
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

// TestArmedSocketFiringAtOnceIsDisarmedCleanly: a socket with bytes
// already queued fires the moment it is armed, so the poller's disarm can
// run while the parking goroutine is still inside arm. The low-water mark
// both touch is handed over by the kernel (epoll), which the race detector
// cannot see: under -race this failed ("DATA RACE" in setLowWater, exit 66
// in CI) while the mark was a plain int.
func TestArmedSocketFiringAtOnceIsDisarmedCleanly(t *testing.T) {
	epfd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(epfd)
	server, client := tcpPair(t)
	if _, err := client.Write([]byte("<message/><message/>")); err != nil {
		t.Fatal(err)
	}
	w := newIdleWaiter(server, server)
	if w == nil {
		t.Skip("no idle waiter on this platform")
	}
	var armed atomic.Bool
	disarmed := make(chan error)
	go func() { // the poller: spins so that it sees the event at once
		events := make([]syscall.EpollEvent, 1)
		for range 2000 {
			for {
				n, err := syscall.EpollWait(epfd, events, 0)
				if err == nil && n == 1 {
					break
				}
			}
			disarmed <- w.disarm(epfd)
		}
	}()
	for i := range 2000 {
		if err := w.arm(epfd, 1, &armed, 2+i%2); err != nil {
			t.Fatal(err)
		}
		if err := <-disarmed; err != nil {
			t.Fatal(err)
		}
	}
}
