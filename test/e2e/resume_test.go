package e2e

import (
	"context"
	"crypto/tls"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-im/parley/client"
	"github.com/parley-im/parley/internal/stanza"
	"github.com/parley-im/parley/internal/xmpptest"
)

// TestUpgradeResumesUnacknowledged: two devices hold messages they have
// not acknowledged when `parley upgrade` replaces the process, and each
// resumes its stream-management session in the new process:
//
//   - bob (XMPP XML, a raw client) read m1..m5 and acknowledged none; he
//     resumes saying he processed his own presence and m1..m3 (h=4): the new
//     process re-sends m4 and m5, then what was queued meanwhile (m6..m8),
//     each once, in order.
//   - carol (Parley's Go client, binary protocol) stopped reading its
//     events, so its connection stopped reading and acknowledging; it
//     reconnects on the hint, resumes with the count of what it got, and
//     the application sees m1..m8 each exactly once (no dedupe in the
//     client).
func TestUpgradeResumesUnacknowledged(t *testing.T) {
	data := t.TempDir()
	for _, u := range []string{"alice", "bob", "carol"} {
		parley(t, "user", "add", u+"@localhost", "--password", "pw-"+u, "--data", data)
	}
	c2s, native := freeAddr(t), freeAddr(t)
	srv := startServeWith(t, data, c2s, "--native", native, "--media", freeAddr(t))
	stopUpgradedAtCleanup(t, srv, data, "server")

	bob := xmpptest.Dial(t, c2s, xmpptest.Options{User: "bob", Password: "pw-bob", Resource: "phone", EnableSM: true})
	bob.SendRaw("<presence/>")
	bob.Expect("bob's own presence", func(el *stanza.Element) bool { return el.Name == "presence" })
	carol := dialResumeClient(t, "carol", native, 1) // Connected fills its event buffer: it reads one more stanza, then stalls
	if err := carol.SetPresence("", ""); err != nil {
		t.Fatal(err)
	}
	alice := newSender(t, dialResumeClient(t, "alice", native, 1<<10))

	for i := 1; i <= 5; i++ {
		alice.send(t, "bob@localhost", fmt.Sprintf("m%d", i))
		alice.send(t, "carol@localhost", fmt.Sprintf("m%d", i))
		bob.Expect("a live message", xmpptest.IsMessageWithBody(fmt.Sprintf("m%d", i)))
	}
	alice.waitAcked(t)

	out := parley(t, "upgrade", "--data", data)
	if !regexp.MustCompile(`upgraded: process \d+ .* -> \d+ `).MatchString(out) {
		t.Fatalf("parley upgrade said:\n%s", out)
	}
	if se := bob.Closed(); se == nil || se.Condition != stanza.StreamSystemShutdown {
		t.Fatalf("bob's handoff stream error: %v, want system-shutdown", se)
	}
	select {
	case <-srv.done:
	case <-time.After(30 * time.Second):
		t.Fatal("the old process did not exit after the upgrade")
	}
	for i := 6; i <= 8; i++ { // alice reconnects by herself; these wait in the queues
		alice.send(t, "bob@localhost", fmt.Sprintf("m%d", i))
		alice.send(t, "carol@localhost", fmt.Sprintf("m%d", i))
	}
	alice.waitAcked(t)

	re := xmpptest.Dial(t, c2s, xmpptest.Options{User: "bob", Password: "pw-bob", NoBind: true})
	got, err := re.Resume(bob.SMID, 4)
	if err != nil || got.Name != "resumed" || got.Attr("previd") != bob.SMID || got.Attr("h") != "1" {
		t.Fatalf("bob resuming in the new process: %v %v, want <resumed previd=%s h=1/>", got, err, bob.SMID)
	}
	re.StartReading()
	if bodies := readBodiesUntil(t, re, "m8"); !slices.Equal(bodies, []string{"m4", "m5", "m6", "m7", "m8"}) {
		t.Fatalf("bob got %q after resuming, want m4..m8 each once, in order", bodies)
	}

	bodies, resumed := carolReads(t, carol, "m8")
	if want := []string{"m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8"}; !slices.Equal(bodies, want) {
		t.Fatalf("carol (binary) got %q across the upgrade, want %q each once", bodies, want)
	}
	if !resumed {
		t.Fatal("carol logged in afresh instead of resuming her session")
	}
}

// dialResumeClient connects a Go client over the binary protocol with
// stream management, reconnecting as a phone would.
func dialResumeClient(t *testing.T, user, native string, events int) *client.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, client.Options{JID: user + "@localhost", Password: "pw-" + user, Addr: native,
		TLS: &tls.Config{InsecureSkipVerify: true}, Reconnect: true, MinBackoff: 100 * time.Millisecond,
		MaxBackoff: time.Second, EventBuffer: events})
	if err != nil {
		t.Fatalf("%s: %v", user, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// sender is a client whose "sent" ticks are counted.
type sender struct {
	c       *client.Client
	mu      sync.Mutex
	pending map[string]bool // ids not yet acknowledged
	changed chan struct{}
}

func newSender(t *testing.T, c *client.Client) *sender {
	s := &sender{c: c, pending: map[string]bool{}, changed: make(chan struct{}, 1)}
	go func() {
		for ev := range c.Events() {
			if e, ok := ev.(*client.Sent); ok {
				s.mu.Lock()
				delete(s.pending, e.ID)
				s.mu.Unlock()
				select {
				case s.changed <- struct{}{}:
				default:
				}
			}
		}
	}()
	return s
}

func (s *sender) send(t *testing.T, to, body string) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	id, err := s.c.SendMessage(to, body)
	if err != nil {
		t.Fatal(err)
	}
	s.pending[id] = true
}

// waitAcked waits until the server acknowledged (stored) everything sent.
func (s *sender) waitAcked(t *testing.T) {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		s.mu.Lock()
		n := len(s.pending)
		s.mu.Unlock()
		if n == 0 {
			return
		}
		select {
		case <-s.changed:
		case <-timeout:
			t.Fatalf("%d messages never acknowledged by the server", n)
		}
	}
}

// readBodiesUntil collects the bodies of the messages c receives, up to
// and including last.
func readBodiesUntil(t *testing.T, c *xmpptest.Client, last string) []string {
	t.Helper()
	var bodies []string
	for {
		el := c.Next(20 * time.Second)
		if el == nil {
			t.Fatalf("got %q, then nothing (waiting for %q)", bodies, last)
		}
		if el.Name != "message" {
			continue
		}
		b := el.ChildText(stanza.NSClient, "body")
		bodies = append(bodies, b)
		if b == last {
			return bodies
		}
	}
}

// carolReads reads c's events until a message with body last, returning
// the bodies of the messages and whether a reconnection resumed.
func carolReads(t *testing.T, c *client.Client, last string) (bodies []string, resumed bool) {
	t.Helper()
	timeout := time.After(60 * time.Second)
	var log []string
	for {
		select {
		case ev, ok := <-c.Events():
			if !ok {
				t.Fatalf("carol's client closed; events: %s", strings.Join(log, "; "))
			}
			switch e := ev.(type) {
			case *client.Message:
				bodies = append(bodies, e.Body)
				if e.Body == last {
					return bodies, resumed
				}
			case *client.Connected:
				log = append(log, fmt.Sprintf("connected (resumed %v)", e.Resumed))
				resumed = resumed || e.Resumed
			case *client.Disconnected:
				log = append(log, fmt.Sprintf("disconnected: %v", e.Err))
			}
		case <-timeout:
			t.Fatalf("carol got %q, then nothing; events: %s", bodies, strings.Join(log, "; "))
		}
	}
}
