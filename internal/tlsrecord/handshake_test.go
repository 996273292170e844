package tlsrecord

import (
	"crypto/tls"
	"io"
	"net"
	"sync/atomic"
	"testing"
	"time"
)

// readCountingConn counts the reads of the server's socket that returned
// bytes.
type readCountingConn struct {
	net.Conn
	reads *atomic.Int32
}

func (c *readCountingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.reads.Add(1)
	}
	return n, err
}

// The handshake reads each of the client's flights once (its ClientHello;
// its ChangeCipherSpec, Finished and, pipelined, its first application
// data), where one read per record header and one per body took six; the
// application data that came with the Finished is opened at once, for Read
// and TakeRead, without another read of the socket.
func TestHandshakeReadsEachFlightOnce(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var reads atomic.Int32
	ch := make(chan accepted, 1)
	go func() {
		raw, err := ln.Accept()
		if err != nil {
			ch <- accepted{err: err}
			return
		}
		_ = raw.SetDeadline(time.Now().Add(10 * time.Second))
		nc, st, err := NewAcceptor(serverConfig(t), NewPool()).Server(&readCountingConn{Conn: raw, reads: &reads})
		ch <- accepted{nc, st, err}
	}()
	raw, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	tc := tls.Client(&coalescingConn{Conn: raw}, clientConfig())
	defer tc.Close()
	_ = tc.SetDeadline(time.Now().Add(10 * time.Second))
	if err := tc.Handshake(); err != nil {
		t.Fatal(err)
	}
	const first = "<stream:stream to='example.com'>"
	if _, err := tc.Write([]byte(first)); err != nil {
		t.Fatal(err)
	}
	srv := <-ch
	if srv.err != nil {
		t.Fatal(srv.err)
	}
	c := recordConn(t, srv)
	defer c.Close()
	if n := reads.Load(); n > 2 {
		t.Fatalf("the handshake read the socket %d times, want 2 (one per client flight)", n)
	}
	if got := string(c.TakeRead()); got != first {
		t.Fatalf("TakeRead after the handshake = %q, want %q (it came with the Finished)", got, first)
	}
	if c.Pending() {
		t.Fatal("a record buffer is held after a whole record was opened")
	}
	go func() { _, _ = tc.Write([]byte("<presence/>")) }()
	got := make([]byte, len("<presence/>"))
	if _, err := io.ReadFull(c, got); err != nil || string(got) != "<presence/>" {
		t.Fatalf("next read %q, %v", got, err)
	}
}
