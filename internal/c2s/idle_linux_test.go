package c2s

import (
	"errors"
	"io"
	"net"
	"os"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

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

// TestNonBlockingReadAllocations: the read a session makes before it
// waits (on every stanza of a conversation, several times per login)
// allocates only its state and callback, not each captured result.
func TestNonBlockingReadAllocations(t *testing.T) {
	server, _ := tcpPair(t)
	w := newIdleWaiter(server, server)
	pool := newReadBufferPool()
	feed := func([]byte) error { return nil }
	allocs := testing.AllocsPerRun(200, func() {
		if wouldBlock, err := w.tryRead(pool, feed); err != nil || !wouldBlock {
			t.Fatal(wouldBlock, err)
		}
	})
	if allocs > 2 {
		t.Errorf("a non-blocking read of an empty socket: %.0f allocations, want 2", allocs)
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
	raw, err := c.(syscall.Conn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var n int32
	var errno syscall.Errno
	if err := raw.Control(func(fd uintptr) {
		_, _, errno = syscall.Syscall(syscall.SYS_IOCTL, fd, syscall.TIOCINQ, uintptr(unsafe.Pointer(&n)))
	}); err != nil || errno != 0 {
		t.Fatal(err, errno)
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
