package client_test

import (
	"context"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/parley-im/parley/client"
	"github.com/parley-im/parley/internal/config"
	"github.com/parley-im/parley/internal/servertest"
)

// TestLoginRoundTrips counts the client's flights (what it sends before
// waiting for an answer) during a login over plain TCP, through a proxy:
// six without pipelining, three with Pipeline and a known mechanism
// (stream open + SASL initial response; SASL final response; restart +
// bind + stream management's enable), and the session (stream management
// included) works after each.
func TestLoginRoundTrips(t *testing.T) {
	srv := servertest.Start(t, func(c *config.Config) { c.AllowPlaintextAuth = true })
	srv.AddUser(t, "alice@localhost", "pw-alice")
	srv.AddUser(t, "bob@localhost", "pw-bob")
	bob := dial(t, srv, "bob@localhost/phone", "pw-bob")
	if err := bob.SetPresence("", ""); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name      string
		pipeline  bool
		mechanism string
		flights   int
	}{
		{"unpipelined", false, "SCRAM-SHA-256", 6},
		{"pipelined-scram", true, "SCRAM-SHA-256", 3},
		{"pipelined-plain", true, "PLAIN", 2}, // PLAIN has no final response
		{"pipelined-mechanism-from-features", true, "", 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := startFlightCounter(t, srv.C2S)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			c, err := client.Dial(ctx, client.Options{
				JID: "alice@localhost/" + tc.name, Password: "pw-alice", Addr: p.addr(),
				Encoding: client.XML, Transport: client.Plaintext, Mechanism: tc.mechanism, Pipeline: tc.pipeline,
			})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if got := p.clientFlights(); got != tc.flights {
				t.Fatalf("the login took %d client flights, want %d", got, tc.flights)
			}
			id, err := c.SendMessage("bob@localhost", "after a "+tc.name+" login")
			if err != nil {
				t.Fatal(err)
			}
			if m := next(t, bob, func(*client.Message) bool { return true }); m.ID != id {
				t.Fatalf("bob got %q, want %q", m.ID, id)
			}
			next(t, c, func(s *client.Sent) bool { return s.ID == id }) // stream management's ack
		})
	}
}

// flightCounter is a TCP proxy for one connection that counts the
// client's flights: runs of client data with no server data between them.
type flightCounter struct {
	ln net.Listener

	mu         sync.Mutex
	flights    int
	lastClient bool // the last data that crossed came from the client
}

func startFlightCounter(t *testing.T, target string) *flightCounter {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &flightCounter{ln: ln}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		cc, err := ln.Accept()
		if err != nil {
			return
		}
		sc, err := net.Dial("tcp", target)
		if err != nil {
			_ = cc.Close()
			return
		}
		t.Cleanup(func() { _ = cc.Close(); _ = sc.Close() })
		go p.pipe(sc, cc, true)
		p.pipe(cc, sc, false)
	}()
	return p
}

func (p *flightCounter) addr() string { return p.ln.Addr().String() }

// pipe copies from src to dst, noting each read's direction before it is
// forwarded (so that an answer is never counted before its question).
func (p *flightCounter) pipe(dst io.Writer, src io.Reader, fromClient bool) {
	buf := make([]byte, 64<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.mu.Lock()
			if fromClient && !p.lastClient {
				p.flights++
			}
			p.lastClient = fromClient
			p.mu.Unlock()
			if _, err := dst.Write(buf[:n]); err != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func (p *flightCounter) clientFlights() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.flights
}
