package c2s

import (
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

// TestQuietSessionReadsItsEmptySocketOnce: when a session's decoder needs
// more and the client sends nothing, the connection reads its empty
// socket once (the linger's first, non-blocking read), waits, then parks
// it. A non-blocking read before the linger made it two reads of the
// empty socket for every burst a client sent (3 read system calls per
// burst instead of 2). The count is the process's, and the runtime
// sometimes reads too (its netpoller's wake-up eventfd, when the linger's
// deadline is set): so up to five quiet connections are tried, one reading
// its socket once is enough, and with two reads per linger none ever can.
func TestQuietSessionReadsItsEmptySocketOnce(t *testing.T) {
	srv := NewServer(Config{Domain: "localhost", Log: slog.New(slog.DiscardHandler)})
	if srv.parker == nil {
		t.Skip("no epoll parker")
	}
	t.Cleanup(srv.parker.close)
	var counts []int64
	for range 5 {
		reads := quietConnectionReads(t, srv)
		if reads == 1 {
			return
		}
		counts = append(counts, reads)
	}
	t.Fatalf("read system calls of five quiet connections before they were parked: %v, want 1", counts)
}

// quietConnectionReads runs a bound connection's read on a socket that
// stays quiet until the connection is parked, and returns the read system
// calls the process made meanwhile.
func quietConnectionReads(t *testing.T, srv *Server) int64 {
	server, _ := tcpPair(t)
	c := newConn(srv, server, XMLStream)
	c.idle = newIdleWaiter(server, server)
	own := -readCalls(t) + readCalls(t) // reading /proc/self/io takes reads too
	before := readCalls(t)
	gone, err := c.readMore()
	reads := readCalls(t) - before - own
	if !srv.parker.unpark(c) || !gone || err != nil { // unparked before tcpPair's cleanup closes the socket
		t.Fatalf("a quiet connection: gone %v, err %v; want it parked", gone, err)
	}
	return reads
}

// readCalls is how many read system calls this process made (syscr in
// /proc/self/io).
func readCalls(t *testing.T) int64 {
	t.Helper()
	data, err := os.ReadFile("/proc/self/io")
	if err != nil {
		t.Skip(err)
	}
	for line := range strings.Lines(string(data)) {
		if v, ok := strings.CutPrefix(line, "syscr: "); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Skip("no syscr in /proc/self/io")
	return 0
}

// TestIdleWaitReadsWhatWokeIt: a connection lingering after a stanza
// reads what the client sends next in the wait that wakes it (nothing is
// left on the socket for another read), reports a quiet socket with the
// deadline's error and the client's end as io.EOF.
func TestIdleWaitReadsWhatWokeIt(t *testing.T) {
	server, client := tcpPair(t)
	w := newIdleWaiter(server, server)
	pool := newReadBufferPool()
	var got []byte
	feed := func(b []byte) error { got = append(got, b...); return nil }

	if err := w.readFor(20*time.Millisecond, pool, feed); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("quiet socket: %v, want the deadline's error", err)
	}
	done := make(chan error, 1)
	go func() { done <- w.readFor(10*time.Second, pool, feed) }()
	if _, err := client.Write([]byte("<presence/>")); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if string(got) != "<presence/>" {
		t.Fatalf("fed %q", got)
	}
	if n := unreadBytes(t, server); n != 0 {
		t.Fatalf("%d bytes left on the socket after the wait that they woke", n)
	}
	_ = client.Close()
	if err := w.readFor(10*time.Second, pool, feed); !errors.Is(err, io.EOF) {
		t.Fatalf("after the client's close: %v, want io.EOF", err)
	}
}

// TestNonBlockingReadAllocations: the reads a session makes (on every
// stanza of a conversation, several times per login) allocate nothing:
// their state and callbacks are lent by the server's pool. A fresh state
// and callback were two allocations per read (5 per op in
// BenchmarkOneToOne).
func TestNonBlockingReadAllocations(t *testing.T) {
	server, client := tcpPair(t)
	w := newIdleWaiter(server, server)
	pool := newReadBufferPool()
	feed := func([]byte) error { return nil }
	allocs := testing.AllocsPerRun(200, func() {
		if wouldBlock, err := w.tryRead(pool, feed); err != nil || !wouldBlock {
			t.Fatal(wouldBlock, err)
		}
	})
	if allocs != 0 && !raceEnabled {
		t.Errorf("a non-blocking read of an empty socket: %.0f allocations, want 0", allocs)
	}
	one := []byte{' '}
	allocs = testing.AllocsPerRun(200, func() {
		if _, err := client.Write(one); err != nil {
			t.Fatal(err)
		}
		if err := w.readFor(time.Second, pool, feed); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 && !raceEnabled {
		t.Errorf("a lingering read of what the client sent: %.0f allocations, want 0", allocs)
	}
}

// tcpPair is a loopback TCP connection: the accepted end and the dialled end.
func tcpPair(t testing.TB) (server, client net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	if server, err = ln.Accept(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = server.Close(); _ = client.Close() })
	return server, client
}

// unreadBytes is how many bytes the socket of c holds unread (TIOCINQ).
func unreadBytes(t *testing.T, c net.Conn) int {
	t.Helper()
	var n int32
	if _, _, errno := syscall.Syscall(syscall.SYS_IOCTL, uintptr(socketFD(t, c)), syscall.TIOCINQ, uintptr(unsafe.Pointer(&n))); errno != 0 {
		t.Fatal(errno)
	}
	return int(n)
}

// BenchmarkIdleWaitWake is one wake-up of a lingering connection: the
// client sends a byte, the idle wait reads it.
func BenchmarkIdleWaitWake(b *testing.B) {
	server, client := tcpPair(b)
	w := newIdleWaiter(server, server)
	pool := newReadBufferPool()
	feed := func([]byte) error { return nil }
	one := []byte{' '}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := client.Write(one); err != nil {
			b.Fatal(err)
		}
		if err := w.readFor(time.Second, pool, feed); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTryReadNothing is the read a session makes before it waits:
// one non-blocking read of an empty socket.
func BenchmarkTryReadNothing(b *testing.B) {
	server, _ := tcpPair(b)
	w := newIdleWaiter(server, server)
	pool := newReadBufferPool()
	feed := func([]byte) error { return nil }
	b.ReportAllocs()
	for b.Loop() {
		if wouldBlock, err := w.tryRead(pool, feed); err != nil || !wouldBlock {
			b.Fatal(wouldBlock, err)
		}
	}
}
