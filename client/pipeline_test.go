package client_test

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
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
// bind + stream management's enable), two with SASL2 and Bind 2 (stream
// open + <authenticate/> with the bind and enable inline; SCRAM's final
// response, answered by the success holding the bound session), and the
// session (stream management included) works after each.
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
		sasl2     bool
		flights   int
	}{
		{"unpipelined", false, "SCRAM-SHA-256", false, 6},
		{"pipelined-scram", true, "SCRAM-SHA-256", false, 3},
		{"pipelined-plain", true, "PLAIN", false, 2}, // PLAIN has no final response
		{"pipelined-mechanism-from-features", true, "", false, 4},
		{"sasl2-scram", false, "SCRAM-SHA-256", true, 3},
		{"sasl2-pipelined-scram", true, "SCRAM-SHA-256", true, 2},
		{"sasl2-pipelined-plain", true, "PLAIN", true, 1},
		{"sasl2-pipelined-mechanism-from-features", true, "", true, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := startFlightCounter(t, srv.C2S)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			c, err := client.Dial(ctx, client.Options{
				JID: "alice@localhost/" + tc.name, Password: "pw-alice", Addr: p.addr(),
				Encoding: client.XML, Transport: client.Plaintext, Mechanism: tc.mechanism, Pipeline: tc.pipeline,
				SASL2: tc.sasl2,
			})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if want := "alice@localhost/" + tc.name; tc.sasl2 != strings.HasPrefix(c.JID(), want+"-") || !strings.HasPrefix(c.JID(), want) {
				t.Fatalf("bound %q (Bind 2's resource is the tag and a random part)", c.JID())
			}
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
	data       [][]byte // what the client sent, per flight
	lastClient bool     // the last data that crossed came from the client
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
				p.data = append(p.data, nil)
			}
			if fromClient {
				p.data[len(p.data)-1] = append(p.data[len(p.data)-1], buf[:n]...)
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

// TestSASL2WrongPassword: a SASL2 login with a wrong password fails with
// SASL's not-authorized, pipelined or not, and the right one then works.
func TestSASL2WrongPassword(t *testing.T) {
	srv := servertest.Start(t, func(c *config.Config) { c.AllowPlaintextAuth = true })
	srv.AddUser(t, "alice@localhost", "pw-alice")
	for _, pipeline := range []bool{false, true} {
		for _, pw := range []string{"wrong", "pw-alice"} {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			c, err := client.Dial(ctx, client.Options{
				JID: "alice@localhost", Password: pw, Addr: srv.C2S, Encoding: client.XML,
				Transport: client.Plaintext, Mechanism: "SCRAM-SHA-256", Pipeline: pipeline, SASL2: true,
			})
			cancel()
			var ae *client.AuthError
			switch {
			case pw == "wrong" && (!errors.As(err, &ae) || ae.Condition != "not-authorized"):
				t.Fatalf("pipeline %v, wrong password: %v, want not-authorized", pipeline, err)
			case pw != "wrong" && err != nil:
				t.Fatalf("pipeline %v: %v", pipeline, err)
			case err == nil:
				c.Close()
			}
		}
	}
}

// flightOf is the number (from 1) of the client's first flight that
// contained marker, 0 if none did.
func (p *flightCounter) flightOf(marker string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, d := range p.data {
		if strings.Contains(string(d), marker) {
			return i + 1
		}
	}
	return 0
}

// TestAvailableLoginSendsPresenceWithLastFlight: with Options.Available a
// pipelined login sends the initial presence with its last flight (SASL2's
// SCRAM response, its PLAIN <authenticate/>, or the restart with bind and
// enable), not in a flight of its own after the login; the device is then
// available (a message to its bare JID reaches it) and stream management
// counts the presence (the server's h covers it and the next message).
func TestAvailableLoginSendsPresenceWithLastFlight(t *testing.T) {
	srv := servertest.Start(t, func(c *config.Config) { c.AllowPlaintextAuth = true })
	srv.AddUser(t, "alice@localhost", "pw-alice")
	srv.AddUser(t, "bob@localhost", "pw-bob")
	bob := dial(t, srv, "bob@localhost/phone", "pw-bob")
	for _, tc := range []struct {
		name, mechanism, last string
		sasl2                 bool
		flights               int
	}{
		{"pipelined-scram", "SCRAM-SHA-256", "<enable", false, 3},
		{"sasl2-scram", "SCRAM-SHA-256", "<response", true, 2},
		{"sasl2-plain", "PLAIN", "<authenticate", true, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := startFlightCounter(t, srv.C2S)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			c, err := client.Dial(ctx, client.Options{
				JID: "alice@localhost/" + tc.name, Password: "pw-alice", Addr: p.addr(), Encoding: client.XML,
				Transport: client.Plaintext, Mechanism: tc.mechanism, Pipeline: true, SASL2: tc.sasl2, Available: true,
			})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			body := "to the bare JID, " + tc.name
			if _, err := bob.SendMessage("alice@localhost", body); err != nil {
				t.Fatal(err)
			}
			next(t, c, func(m *client.Message) bool { return m.Body == body })
			if got, want := p.flightOf("<presence"), p.flightOf(tc.last); got != want || want != tc.flights {
				t.Fatalf("the presence went in flight %d, the login's last (%s) was flight %d, want %d", got, tc.last, want, tc.flights)
			}
			id, err := c.SendMessage("bob@localhost", "after the presence")
			if err != nil {
				t.Fatal(err)
			}
			next(t, c, func(s *client.Sent) bool { return s.ID == id })
			c.Close()
		})
	}
}
