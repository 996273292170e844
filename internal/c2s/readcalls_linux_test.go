package c2s

import (
	"bytes"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"os"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/parley-im/parley/internal/selfsigned"
	"github.com/parley-im/parley/internal/wire/xmlstream"
)

// TestQuietTLSConnectionReadsABurstInThreeSystemCalls: a crypto/tls
// connection (TLS 1.2, WebSocket over HTTPS) whose client sends a burst
// while it lingers peeks at its empty socket once, peeks again when woken
// and reads the record through crypto/tls: 3 system calls. It peeked at
// the empty socket before lingering too, and after the wake peeked again
// before reading (5). The client sends only once the connection lingers,
// so the peek before the linger always found nothing; the linger's own
// first peek may find the burst already there (2).
func TestQuietTLSConnectionReadsABurstInThreeSystemCalls(t *testing.T) {
	srv := NewServer(Config{Domain: "localhost", Log: slog.New(slog.DiscardHandler)})
	if srv.parker == nil {
		t.Skip("no epoll parker")
	}
	t.Cleanup(srv.parker.close)
	srv.lingerFor = time.Minute // never parked during the test
	var calls atomic.Int64
	server, client := tlsPair(t, &calls)
	c := newConn(srv, server, XMLStream)
	c.idle = newIdleWaiter(c.nc, c.raw)
	in := &recordingInbound{}
	c.in = in
	for i := range 5 {
		burst := []byte("<presence id='" + string(rune('a'+i)) + "'/>")
		sent := make(chan error, 1)
		go func() { // once the connection lingers
			for srv.lingering.n.Load() == 0 {
				time.Sleep(time.Millisecond)
			}
			_, err := client.Write(burst)
			sent <- err
		}()
		before := calls.Load()
		for !bytes.Contains(in.got, burst) {
			if gone, err := c.readMore(); gone || err != nil {
				t.Fatalf("burst %d: gone %v, err %v", i, gone, err)
			}
		}
		if err := <-sent; err != nil {
			t.Fatal(err)
		}
		if n := calls.Load() - before; n > 3 {
			t.Errorf("burst %d: %d read system calls, want at most 3", i, n)
		}
	}
}

// TestWokenConnectionReadsWhenNoLingerSlotIsFree: a connection whose
// client sent more while lingerLimit connections linger reads it, rather
// than being parked with it unread (the parker then woke it at once, and
// it parked again, for as long as every slot stayed taken).
func TestWokenConnectionReadsWhenNoLingerSlotIsFree(t *testing.T) {
	srv := NewServer(Config{Domain: "localhost", Log: slog.New(slog.DiscardHandler)})
	if srv.parker == nil {
		t.Skip("no epoll parker")
	}
	srv.parker.close()
	// A parker without its poller: a connection parked stays parked (the
	// poller would wake it at once and run its session, which it has not).
	epfd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = syscall.Close(epfd) })
	srv.parker = &parker{epfd: epfd, parked: make(map[uint64]*conn)}
	srv.lingering.limit = 0 // every slot taken
	for _, tlsOn := range []bool{false, true} {
		var server, client net.Conn
		if tlsOn {
			server, client = tlsPair(t, new(atomic.Int64))
		} else {
			server, client = tcpPair(t)
		}
		c := newConn(srv, server, XMLStream)
		c.idle = newIdleWaiter(c.nc, c.raw)
		in := &recordingInbound{}
		c.in = in
		if _, err := client.Write([]byte("<presence/>")); err != nil {
			t.Fatal(err)
		}
		for unreadBytes(t, c.raw) == 0 {
			time.Sleep(time.Millisecond) // until the bytes are on the socket
		}
		gone, err := c.readMore()
		if gone {
			srv.parker.unpark(c) // before the cleanup closes the socket
		}
		if gone || err != nil || string(in.got) != "<presence/>" {
			t.Fatalf("tls %v: gone %v, err %v, read %q; want the bytes read and the connection running",
				tlsOn, gone, err, in.got)
		}
	}
}

// tlsPair is a loopback TLS 1.2 connection on crypto/tls, the accepted end
// counting the read system calls made on its socket (countingConn).
func tlsPair(t *testing.T, calls *atomic.Int64) (server, client net.Conn) {
	t.Helper()
	s, cl := tcpPair(t)
	cert, err := selfsigned.Certificate("localhost")
	if err != nil {
		t.Fatal(err)
	}
	ts := tls.Server(countingConn{s.(*net.TCPConn), calls},
		&tls.Config{Certificates: []tls.Certificate{cert}, MaxVersion: tls.VersionTLS12})
	tc := tls.Client(cl, &tls.Config{InsecureSkipVerify: true, MaxVersion: tls.VersionTLS12})
	done := make(chan error, 1)
	go func() { done <- tc.Handshake() }()
	if err := ts.Handshake(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	return ts, tc
}

// countingConn counts the read system calls made on a TCP socket: each
// call of a RawConn.Read callback (the idle waiter's peeks and
// non-blocking reads) and each Read that returned bytes or failed other
// than by its deadline (one read of a socket seen readable; a Read whose
// deadline has passed makes no system call).
type countingConn struct {
	*net.TCPConn
	calls *atomic.Int64
}

func (c countingConn) Read(b []byte) (int, error) {
	n, err := c.TCPConn.Read(b)
	if n > 0 || (err != nil && !errors.Is(err, os.ErrDeadlineExceeded)) {
		c.calls.Add(1)
	}
	return n, err
}

func (c countingConn) SyscallConn() (syscall.RawConn, error) {
	raw, err := c.TCPConn.SyscallConn()
	return countingRawConn{raw, c.calls}, err
}

type countingRawConn struct {
	syscall.RawConn
	calls *atomic.Int64
}

func (r countingRawConn) Read(f func(fd uintptr) bool) error {
	return r.RawConn.Read(func(fd uintptr) bool {
		r.calls.Add(1)
		return f(fd)
	})
}

// recordingInbound keeps what the connection fed it and never has a
// token.
type recordingInbound struct{ got []byte }

func (r *recordingInbound) feed(b []byte) { r.got = append(r.got, b...) }
func (r *recordingInbound) next() (xmlstream.Token, error) {
	return xmlstream.Token{}, xmlstream.ErrNeedMore
}
func (r *recordingInbound) restart()              {}
func (r *recordingInbound) keepAlive([]byte) bool { return false }
func (r *recordingInbound) park()                 {}
func (r *recordingInbound) parkLowWater() int     { return 1 }
