package tlsrecord

import (
	"bytes"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/parley-im/parley/internal/selfsigned"
)

// serverConfig is a TLS configuration like Parley's (TLS 1.2 and up,
// ALPN, tickets left on: the Acceptor turns them off for TLS 1.3).
func serverConfig(t testing.TB) *tls.Config {
	t.Helper()
	cert, err := selfsigned.Certificate("localhost")
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12, NextProtos: []string{"xmpp-client"}}
}

// accepted is what the test server made of one connection.
type accepted struct {
	conn  net.Conn
	state tls.ConnectionState
	err   error
}

// listen accepts connections on a loopback socket and runs the Acceptor's
// handshake on each; the results arrive on the channel.
func listen(t *testing.T, a *Acceptor) (string, <-chan accepted) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	ch := make(chan accepted, 4)
	go func() {
		for {
			raw, err := ln.Accept()
			if err != nil {
				return
			}
			_ = raw.SetDeadline(time.Now().Add(10 * time.Second))
			nc, st, err := a.Server(raw)
			if err != nil {
				raw.Close()
			}
			ch <- accepted{nc, st, err}
		}
	}()
	return ln.Addr().String(), ch
}

func clientConfig() *tls.Config {
	return &tls.Config{InsecureSkipVerify: true, NextProtos: []string{"xmpp-client"}}
}

// dial connects a Go tls.Client (through wrap, if given, around its
// socket) and returns it with the server's side.
func dial(t *testing.T, cfg *tls.Config, wrap func(net.Conn) net.Conn) (*tls.Conn, accepted) {
	t.Helper()
	a := NewAcceptor(serverConfig(t), NewPool())
	addr, ch := listen(t, a)
	raw, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	if wrap != nil {
		raw = wrap(raw)
	}
	tc := tls.Client(raw, cfg)
	_ = tc.SetDeadline(time.Now().Add(10 * time.Second))
	if err := tc.Handshake(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tc.Close() })
	srv := <-ch
	if srv.err != nil {
		t.Fatal(srv.err)
	}
	t.Cleanup(func() { srv.conn.Close() })
	return tc, srv
}

// recordConn asserts that the server side is this package's Conn.
func recordConn(t *testing.T, srv accepted) *Conn {
	t.Helper()
	c, ok := srv.conn.(*Conn)
	if !ok {
		t.Fatalf("server side is %T, want *tlsrecord.Conn (version %x, suite %x)", srv.conn, srv.state.Version, srv.state.CipherSuite)
	}
	return c
}

func pattern(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = seed + byte(i*7)
	}
	return b
}

// The client sends messages of many sizes, some across several records;
// the server reads each exactly and echoes it; the client reads the echo.
func TestGoClientEchoesAcrossRecords(t *testing.T) {
	tc, srv := dial(t, clientConfig(), nil)
	c := recordConn(t, srv)
	if srv.state.Version != tls.VersionTLS13 || srv.state.NegotiatedProtocol != "xmpp-client" {
		t.Fatalf("state: version %x, ALPN %q", srv.state.Version, srv.state.NegotiatedProtocol)
	}
	for i, n := range []int{1, 100, maxPlaintext - 1, maxPlaintext, maxPlaintext + 1, 100_000} {
		msg := pattern(n, byte(i))
		go func() { _, _ = tc.Write(msg) }()
		got := make([]byte, n)
		if _, err := io.ReadFull(c, got); err != nil {
			t.Fatalf("server read of %d bytes: %v", n, err)
		}
		if !bytes.Equal(got, msg) {
			t.Fatalf("server read %d bytes that differ from what was sent", n)
		}
		go func() { _, _ = c.Write(got) }()
		echo := make([]byte, n)
		if _, err := io.ReadFull(tc, echo); err != nil {
			t.Fatalf("client read of the %d-byte echo: %v", n, err)
		}
		if !bytes.Equal(echo, msg) {
			t.Fatalf("client read a %d-byte echo that differs", n)
		}
	}
	if c.Pending() {
		t.Fatal("a record buffer is still held after every record was read")
	}
}

// coalescingConn holds the client's second write (its Finished) back and
// sends it together with the third (the first application data), so that
// the server finds both in one read.
type coalescingConn struct {
	net.Conn
	writes int
	held   []byte
}

func (c *coalescingConn) Write(p []byte) (int, error) {
	c.writes++
	switch c.writes {
	case 2:
		c.held = append([]byte(nil), p...)
		return len(p), nil
	case 3:
		_, err := c.Conn.Write(append(c.held, p...))
		return len(p), err
	}
	return c.Conn.Write(p)
}

// Application data that arrives with the client's Finished is left for
// the record layer: crypto/tls read nothing past the handshake.
func TestDataRightAfterFinishedIsNotLost(t *testing.T) {
	a := NewAcceptor(serverConfig(t), NewPool())
	addr, ch := listen(t, a)
	raw, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	tc := tls.Client(&coalescingConn{Conn: raw}, clientConfig())
	defer tc.Close()
	_ = tc.SetDeadline(time.Now().Add(10 * time.Second))
	if err := tc.Handshake(); err != nil {
		t.Fatal(err)
	}
	if _, err := tc.Write([]byte("<presence/>")); err != nil {
		t.Fatal(err)
	}
	srv := <-ch
	if srv.err != nil {
		t.Fatal(srv.err)
	}
	c := recordConn(t, srv)
	defer c.Close()
	got := make([]byte, len("<presence/>"))
	if _, err := io.ReadFull(c, got); err != nil || string(got) != "<presence/>" {
		t.Fatalf("server read %q, %v", got, err)
	}
}

// After writeRecordsPerKey records the server updates its writing key
// (KeyUpdate, update_not_requested); the Go client follows.
func TestServerUpdatesItsKeys(t *testing.T) {
	tc, srv := dial(t, clientConfig(), nil)
	c := recordConn(t, srv)
	c.wmu.Lock()
	c.rekeyAfter = 3
	first := bytes.Clone(c.out.key)
	c.wmu.Unlock()
	for i := range 10 {
		msg := pattern(50+i, byte(i))
		if _, err := c.Write(msg); err != nil {
			t.Fatal(err)
		}
		got := make([]byte, len(msg))
		if _, err := io.ReadFull(tc, got); err != nil || !bytes.Equal(got, msg) {
			t.Fatalf("message %d after key updates: %v", i, err)
		}
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if bytes.Equal(first, c.out.key) || c.out.seq > 3 {
		t.Fatalf("the writing key was not updated (seq %d)", c.out.seq)
	}
}

// close_notify both ways: the client's ends the server's reads with
// io.EOF; the server's (Close) ends the client's.
func TestCloseNotify(t *testing.T) {
	tc, srv := dial(t, clientConfig(), nil)
	c := recordConn(t, srv)
	if _, err := tc.Write([]byte("bye")); err != nil {
		t.Fatal(err)
	}
	if err := tc.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(c)
	if err != nil || string(got) != "bye" {
		t.Fatalf("server read %q, %v; want \"bye\" then io.EOF", got, err)
	}
	if _, err := c.Write([]byte("still here")); err != nil {
		t.Fatal(err) // half-closed: the server may still write
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	got, err = io.ReadAll(tc)
	if err != nil || string(got) != "still here" {
		t.Fatalf("client read %q, %v; want the last write then a clean end", got, err)
	}
}

// tamperingConn flips one bit in the ciphertext of the client's first
// application data record (its third write: ClientHello, Finished, then
// data).
type tamperingConn struct {
	net.Conn
	writes int
}

func (c *tamperingConn) Write(p []byte) (int, error) {
	c.writes++
	if c.writes == 3 {
		p = bytes.Clone(p)
		p[headerLen+2] ^= 0x10
	}
	return c.Conn.Write(p)
}

// A record that fails authentication delivers nothing, fails with
// bad_record_mac, and Close sends that alert to the client.
func TestTamperedRecordIsRefused(t *testing.T) {
	tc, srv := dial(t, clientConfig(), func(nc net.Conn) net.Conn { return &tamperingConn{Conn: nc} })
	c := recordConn(t, srv)
	if _, err := tc.Write([]byte("<message>pay 10</message>")); err != nil {
		t.Fatal(err)
	}
	n, err := c.Read(make([]byte, 100))
	var ae *AlertError
	if n != 0 || !errors.As(err, &ae) || ae.Alert != AlertBadRecordMAC || ae.Received {
		t.Fatalf("server read %d bytes, %v; want nothing and bad_record_mac", n, err)
	}
	if _, err := c.Write([]byte("more")); err == nil {
		t.Fatal("the server could still write after a failed record")
	}
	c.Close()
	_, err = tc.Read(make([]byte, 10))
	if err == nil || !bytes.Contains([]byte(err.Error()), []byte("bad record MAC")) {
		t.Fatalf("client read error %v, want the server's bad_record_mac alert", err)
	}
}

// A TLS 1.2 client stays on crypto/tls, which reads on normally after
// the bounded handshake.
func TestTLS12StaysOnCryptoTLS(t *testing.T) {
	cfg := clientConfig()
	cfg.MaxVersion = tls.VersionTLS12
	tc, srv := dial(t, cfg, nil)
	sc, ok := srv.conn.(*tls.Conn)
	if !ok || srv.state.Version != tls.VersionTLS12 {
		t.Fatalf("TLS 1.2 client: server side %T, version %x", srv.conn, srv.state.Version)
	}
	msg := pattern(40_000, 3)
	go func() { _, _ = tc.Write(msg) }()
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(sc, got); err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("server read over TLS 1.2: %v", err)
	}
}

// Session tickets are not sent on TLS 1.3 connections (they would take
// sequence numbers of the record layer's): a client with a session cache
// gets no ticket, and its next connection is a full handshake.
func TestNoSessionTicketsOnTLS13(t *testing.T) {
	cfg := clientConfig()
	cfg.ClientSessionCache = tls.NewLRUClientSessionCache(4)
	a := NewAcceptor(serverConfig(t), NewPool())
	addr, ch := listen(t, a)
	for i := range 2 {
		tc, err := tls.Dial("tcp", addr, cfg)
		if err != nil {
			t.Fatal(err)
		}
		srv := <-ch
		c := recordConn(t, srv)
		go func() { _, _ = c.Write([]byte("x")) }()
		if _, err := io.ReadFull(tc, make([]byte, 1)); err != nil {
			t.Fatal(err)
		}
		if tc.ConnectionState().DidResume {
			t.Fatalf("connection %d resumed a session", i)
		}
		tc.Close()
		c.Close()
	}
}
