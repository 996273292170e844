package client_test

import (
	"fmt"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/parley-im/parley/client"
	"github.com/parley-im/parley/internal/servertest"
)

// cutProxy forwards TCP connections to a server and can cut them all at
// once, the way a phone loses its network.
type cutProxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	conns  []net.Conn
	drop   int // connections to close at once before forwarding again
}

func newCutProxy(t *testing.T, target string) *cutProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{ln: ln, target: target}
	t.Cleanup(func() { ln.Close(); p.cut() })
	go p.accept()
	return p
}

func (p *cutProxy) addr() string { return p.ln.Addr().String() }

func (p *cutProxy) accept() {
	for {
		in, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		drop := p.drop > 0
		if drop {
			p.drop--
		}
		p.mu.Unlock()
		if drop {
			in.Close()
			continue
		}
		out, err := net.Dial("tcp", p.target)
		if err != nil {
			in.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, in, out)
		p.mu.Unlock()
		go func() { _, _ = io.Copy(out, in); out.Close() }()
		go func() { _, _ = io.Copy(in, out); in.Close() }()
	}
}

// cut drops every connection without a TCP goodbye to the other end's
// application (both sides see a reset or EOF).
func (p *cutProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// TestReconnectResumesWithNothingLostOrDoubled: bob's connection drops
// twice while alice keeps sending; bob's client reconnects with backoff,
// resumes, and gets every message exactly once, in order.
func TestReconnectResumesWithNothingLostOrDoubled(t *testing.T) {
	t.Run("xml", func(t *testing.T) { reconnectResumes(t, false, false) })
	t.Run("binary", func(t *testing.T) { reconnectResumes(t, true, false) })
	// A session bound with SASL2 and Bind 2 (stream management enabled
	// inline) resumes after RFC 6120 SASL, as any other.
	t.Run("xml-sasl2", func(t *testing.T) { reconnectResumes(t, false, true) })
}

func reconnectResumes(t *testing.T, useBinary, sasl2 bool) {
	srv := servertest.Start(t, nil)
	srv.AddUser(t, "alice@localhost", "pw-alice")
	srv.AddUser(t, "bob@localhost", "pw-bob")
	target, enc := srv.C2S, client.XML
	if useBinary {
		target, enc = srv.Native, client.Binary
	}
	proxy := newCutProxy(t, target)
	alice := dial(t, srv, "alice@localhost/phone", "pw-alice")
	bob := dial(t, srv, "bob@localhost/phone", "pw-bob", func(o *client.Options) {
		o.Addr, o.Encoding, o.Reconnect, o.MinBackoff, o.MaxBackoff = proxy.addr(), enc, true, 20*time.Millisecond, 200*time.Millisecond
		o.SASL2 = sasl2
	})
	if err := bob.SetPresence("", ""); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)

	const total = 60
	got := make(chan string, total*2)
	resumed := make(chan bool, 10)
	go func() {
		for e := range bob.Events() {
			switch e := e.(type) {
			case *client.Message:
				got <- e.Body
			case *client.Connected:
				resumed <- e.Resumed
			}
		}
	}()
	for i := range total {
		if _, err := alice.SendMessage("bob@localhost", fmt.Sprintf("m%02d", i)); err != nil {
			t.Fatal(err)
		}
		if i == total/3 || i == 2*total/3 {
			proxy.cut()
		}
		time.Sleep(5 * time.Millisecond)
	}
	var bodies []string
	timeout := time.After(20 * time.Second)
	for len(bodies) < total {
		select {
		case b := <-got:
			bodies = append(bodies, b)
		case <-timeout:
			t.Fatalf("bob got %d of %d: %v", len(bodies), total, bodies)
		}
	}
	for i, b := range bodies {
		if want := fmt.Sprintf("m%02d", i); b != want {
			t.Fatalf("message %d is %q, want %q (all: %v)", i, b, want, bodies)
		}
	}
	select {
	case b := <-got:
		t.Fatalf("duplicate after all %d arrived: %q", total, b)
	case <-time.After(500 * time.Millisecond):
	}
	if first := <-resumed; first { // the Connected of Dial
		t.Fatal("the first connection claims to be resumed")
	}
	if len(resumed) == 0 {
		t.Fatal("bob never reconnected")
	}
	for len(resumed) > 0 {
		if !<-resumed {
			t.Error("a reconnect did not resume the session")
		}
	}
}

// TestReconnectCountsItsAttempts: after a cut, the first two reconnection
// attempts find their connection closed at once; the Connected of the
// third says so.
func TestReconnectCountsItsAttempts(t *testing.T) {
	srv := servertest.Start(t, nil)
	srv.AddUser(t, "bob@localhost", "pw-bob")
	proxy := newCutProxy(t, srv.C2S)
	bob := dial(t, srv, "bob@localhost/phone", "pw-bob", func(o *client.Options) {
		o.Addr, o.Reconnect, o.MinBackoff, o.MaxBackoff = proxy.addr(), true, 20*time.Millisecond, 100*time.Millisecond
	})
	proxy.mu.Lock()
	proxy.drop = 2
	proxy.mu.Unlock()
	proxy.cut()
	timeout := time.After(10 * time.Second)
	first := true
	for {
		select {
		case e := <-bob.Events():
			if c, ok := e.(*client.Connected); ok {
				if first { // Dial's
					if c.Attempts != 0 {
						t.Fatalf("the first login says %d attempts, want 0", c.Attempts)
					}
					first = false
					continue
				}
				if c.Attempts != 3 {
					t.Fatalf("reconnected after %d attempts, want 3 (two dropped)", c.Attempts)
				}
				return
			}
		case <-timeout:
			t.Fatal("bob did not reconnect")
		}
	}
}

// TestMessagesSentWhileDisconnectedGoOutAfterTheReconnect: the sender's
// own connection drops; what it sent meanwhile is kept and sent after the
// reconnect, and each gets its Sent tick.
func TestMessagesSentWhileDisconnectedGoOutAfterTheReconnect(t *testing.T) {
	srv := servertest.Start(t, nil)
	srv.AddUser(t, "alice@localhost", "pw-alice")
	srv.AddUser(t, "bob@localhost", "pw-bob")
	proxy := newCutProxy(t, srv.C2S)
	alice := dial(t, srv, "alice@localhost/phone", "pw-alice", func(o *client.Options) {
		o.Addr, o.Reconnect, o.MinBackoff, o.MaxBackoff = proxy.addr(), true, 50*time.Millisecond, 100*time.Millisecond
	})
	bob := dial(t, srv, "bob@localhost/phone", "pw-bob")
	if err := bob.SetPresence("", ""); err != nil {
		t.Fatal(err)
	}
	proxy.cut()
	var ids []string
	for i := range 5 {
		id, err := alice.SendMessage("bob@localhost", fmt.Sprintf("while away %d", i))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	for _, id := range ids {
		next(t, alice, func(s *client.Sent) bool { return s.ID == id })
	}
	for i := range 5 {
		m := next(t, bob, func(m *client.Message) bool { return true })
		if want := fmt.Sprintf("while away %d", i); m.Body != want {
			t.Fatalf("got %q, want %q", m.Body, want)
		}
	}
}
