package server

import (
	"net"
	"sync/atomic"
	"testing"
	"time"
)

// TestHeldConnectionsWaitWhileLoginsAreFull: a process started by an
// upgrade holds the connections of devices coming back; while the login
// path is full it hands none of the queue out (they would only slow every
// login down together, past their clients' timeouts), and resumes when a
// slot frees.
func TestHeldConnectionsWaitWhileLoginsAreFull(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var full atomic.Bool
	full.Store(true)
	h := holdListener(ln, full.Load)
	t.Cleanup(func() { _ = h.Close() })
	for range 3 {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Close() })
	}
	for deadline := time.Now().Add(5 * time.Second); len(h.conns) < 3; {
		if time.Now().After(deadline) {
			t.Fatalf("%d connections held, want 3", len(h.conns))
		}
		time.Sleep(time.Millisecond)
	}
	accepted := make(chan net.Conn, 3)
	go func() {
		for range 3 {
			c, err := h.Accept()
			if err != nil {
				return
			}
			accepted <- c
		}
	}()
	select {
	case <-accepted:
		t.Fatal("a held connection was handed out while the login path was full")
	case <-time.After(300 * time.Millisecond):
	}
	full.Store(false)
	for i := range 3 {
		select {
		case c := <-accepted:
			_ = c.Close()
		case <-time.After(5 * time.Second):
			t.Fatalf("%d of 3 held connections handed out after a login slot freed", i)
		}
	}
}
