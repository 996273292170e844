package server

import (
	"bytes"
	"runtime"
	"runtime/pprof"
	"strconv"
	"testing"
	"time"

	"github.com/parley-im/parley/internal/config"
	"github.com/parley-im/parley/internal/jid"
	"github.com/parley-im/parley/internal/session"
	"github.com/parley-im/parley/internal/stanza"
	"github.com/parley-im/parley/internal/xmpptest"
)

// TestPingRoundStartsNoGoroutine: the keep-alive sweep writes its pings
// to idle devices itself, and the poller takes their answers (with a
// stream-management ack request, answered from there), so a ping
// round over parked connections starts no goroutine: no mailbox runner
// per ping, no connection woken per answer. At 15,000 idle devices a
// round started 1,500-2,900 goroutines at once (docs/benchmarks.md).
func TestPingRoundStartsNoGoroutine(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the epoll parker is Linux only")
	}
	for _, tc := range []struct {
		name  string
		tweak func(*xmpptest.Options)
	}{
		{"plain", func(o *xmpptest.Options) { o.NoTLS = true }},
		{"plain-sm", func(o *xmpptest.Options) { o.NoTLS = true; o.EnableSM = true }},
		{"directtls", func(o *xmpptest.Options) { o.DirectTLS = true }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts := startServer(t, func(c *config.Config) {
				c.AllowPlaintextAuth = true
				c.PingInterval, c.PingTimeout = time.Hour, time.Hour // no sweep of its own
			})
			ts.addUser(t, "alice", "pw-alice")
			addr := ts.addrs.C2S
			if tc.name == "directtls" {
				addr = ts.addrs.C2STLS
			}
			const n = 6
			clients := make([]*xmpptest.Client, n)
			for i := range clients {
				o := xmpptest.Options{User: "alice", Password: "pw-alice", Resource: "d" + strconv.Itoa(i)}
				tc.tweak(&o)
				clients[i] = xmpptest.Dial(t, addr, o)
			}
			waitMetric(t, ts, "parley_c2s_parked_connections", n)
			waitGoroutines(t, "session.(*runnerPool).runner", 0)

			ts.sweep(time.Now().Add(2 * time.Hour))
			if g := goroutinesIn(t, "session.(*runnerPool).runner"); g != 0 {
				t.Errorf("%d mailbox runners after a ping round over %d idle devices, want 0", g, n)
			}
			for _, c := range clients {
				if tc.name != "plain-sm" {
					answerPing(t, c, "")
					continue
				}
				// Stream management: the answer comes with an ack request,
				// answered from the poller.
				answerPing(t, c, "<r xmlns='urn:xmpp:sm:3'/>")
				c.Expect("an ack", func(el *stanza.Element) bool { return el.Space == stanza.NSSM && el.Name == "a" })
			}
			waitMetric(t, ts, "parley_c2s_parked_pongs_total", n)
			waitMetric(t, ts, "parley_c2s_parked_connections", n)
			if g := connGoroutines(t); g != 0 {
				t.Fatalf("%d goroutines run c2s connection code after the pings were answered", g)
			}
			for _, c := range clients {
				if sent := ts.sessionOf(t, c.JID).PingSent(); !sent.IsZero() {
					t.Fatalf("%s: the ping counts as unanswered (sent %v)", c.JID, sent)
				}
			}
		})
	}
}

// TestPongWithMoreIsHandledInOrder: an answer to the ping that arrives with
// a stanza after it (or that is not the answer the session waits for)
// wakes the connection, and its session handles both, in order.
func TestPongWithMoreIsHandledInOrder(t *testing.T) {
	ts := startServer(t, func(c *config.Config) {
		c.AllowPlaintextAuth = true
		c.PingInterval, c.PingTimeout = time.Hour, time.Hour
	})
	ts.addUser(t, "alice", "pw-alice")
	ts.addUser(t, "bob", "pw-bob")
	noTLS := func(o *xmpptest.Options) { o.NoTLS = true }
	alice, bob := ts.login(t, "alice", "phone", noTLS), ts.login(t, "bob", "phone", noTLS)
	waitMetric(t, ts, "parley_c2s_parked_connections", 2)

	ts.sweep(time.Now().Add(2 * time.Hour))
	answerPing(t, bob, "")
	waitMetric(t, ts, "parley_c2s_parked_pongs_total", 1)
	answerPing(t, alice, "<message to='bob@localhost/phone' id='m1' type='chat'><body>after the pong</body></message>")
	got := bob.Expect("alice's message", func(el *stanza.Element) bool { return el.Name == "message" && el.ID() == "m1" })
	if body := got.ChildText("", "body"); body != "after the pong" {
		t.Fatalf("bob got body %q", body)
	}
	waitMetric(t, ts, "parley_c2s_parked_connections", 2)
	if v := metricValue(t, ts, "parley_c2s_parked_pongs_total"); v != 1 {
		t.Fatalf("pongs taken by the poller: %v, want 1 (bob's alone)", v)
	}
	for _, c := range []*xmpptest.Client{alice, bob} {
		if sent := ts.sessionOf(t, c.JID).PingSent(); !sent.IsZero() {
			t.Fatalf("%s: the ping counts as unanswered", c.JID)
		}
	}
}

// answerPing waits for the server's ping on c and answers it, with more
// after it in the same write.
func answerPing(t *testing.T, c *xmpptest.Client, more string) {
	t.Helper()
	ping := c.Expect("a ping", func(el *stanza.Element) bool {
		return el.Name == "iq" && el.Child(stanza.NSPing, "ping") != nil
	})
	c.SendRaw("<iq type='result' id='" + ping.ID() + "' to='localhost'/>" + more)
}

// goroutinesIn counts goroutines with fn on their stack.
func goroutinesIn(t *testing.T, fn string) int {
	t.Helper()
	var buf bytes.Buffer
	if err := pprof.Lookup("goroutine").WriteTo(&buf, 2); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, g := range bytes.Split(buf.Bytes(), []byte("\n\n")) {
		if bytes.Contains(g, []byte(fn)) {
			n++
		}
	}
	return n
}

// waitGoroutines waits until want goroutines have fn on their stack.
func waitGoroutines(t *testing.T, fn string, want int) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); goroutinesIn(t, fn) != want; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines in %s, want %d", goroutinesIn(t, fn), fn, want)
		}
	}
}

// sessionOf is the session bound to full.
func (ts *testServer) sessionOf(t *testing.T, full string) *session.Session {
	t.Helper()
	j, err := jid.Parse(full)
	if err != nil {
		t.Fatal(err)
	}
	s, ok := ts.reg.Device(j).(*session.Session)
	if !ok {
		t.Fatalf("no session bound to %s", full)
	}
	return s
}
