package c2s

import (
	"errors"
	"log/slog"
	"net"
	"os"
	"testing"
	"time"
)

// deadlineConn records the write deadlines set on it.
type deadlineConn struct {
	net.Conn
	deadlines []time.Time
}

func (d *deadlineConn) SetWriteDeadline(t time.Time) error {
	d.deadlines = append(d.deadlines, t)
	return d.Conn.SetWriteDeadline(t)
}

// TestWriteDeadlineMovesOnlyWhenHalfIsLeft: a write sets the socket's
// write deadline WriteTimeout ahead only when less than half of that is
// left, so writes in a burst move no timer; and a client that reads
// nothing still has its write fail within WriteTimeout.
func TestWriteDeadlineMovesOnlyWhenHalfIsLeft(t *testing.T) {
	const timeout = 2 * time.Second
	srv := NewServer(Config{Domain: "localhost", Log: slog.New(slog.DiscardHandler), WriteTimeout: timeout})
	server, client := tcpPair(t)
	defer client.Close()
	rec := &deadlineConn{Conn: server}
	c := newConn(srv, rec, XMLStream)
	go func() { _, _ = client.Read(make([]byte, 1<<20)) }() // reads a little, then nothing

	start := time.Now()
	for range 3 {
		if err := c.write([]byte("<a/>")); err != nil {
			t.Fatal(err)
		}
	}
	if len(rec.deadlines) != 1 || rec.deadlines[0].Before(start.Add(timeout)) {
		t.Fatalf("three writes in a row set the deadlines %v, want one, %v ahead", rec.deadlines, timeout)
	}
	time.Sleep(time.Until(start.Add(timeout/2 + 100*time.Millisecond)))
	if err := c.write([]byte("<a/>")); err != nil {
		t.Fatal(err)
	}
	if len(rec.deadlines) != 2 {
		t.Fatalf("a write with less than half the timeout left set %d deadlines, want 2", len(rec.deadlines))
	}

	stuck := time.Now()
	err := c.write(make([]byte, 64<<20)) // more than the socket buffers hold
	if took := time.Since(stuck); !errors.Is(err, os.ErrDeadlineExceeded) || took > timeout+time.Second {
		t.Fatalf("a write to a client that reads nothing ended after %v with %v, want a timeout within %v", took, err, timeout)
	}
}
