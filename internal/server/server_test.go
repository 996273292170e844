package server

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/parley-im/parley/internal/auth"
	"github.com/parley-im/parley/internal/config"
	"github.com/parley-im/parley/internal/xmpptest"
)

// testServer is a Parley server on ephemeral loopback ports.
type testServer struct {
	*Server
	addrs Addrs
	stop  func() // shuts the server down and waits (idempotent)
}

func startServer(t *testing.T, tweak func(*config.Config)) *testServer {
	t.Helper()
	return startServerOn(t, tweak, nil)
}

// startServerOn is startServer with the embedded store on storeFS (nil:
// the operating system's file system).
func startServerOn(t *testing.T, tweak func(*config.Config), storeFS vfs.FS) *testServer {
	t.Helper()
	return serveTestServer(t, newTestServer(t, tweak, storeFS))
}

// newTestServer builds the server startServerOn starts, for tests that
// change it before it serves.
func newTestServer(t *testing.T, tweak func(*config.Config), storeFS vfs.FS) *Server {
	t.Helper()
	cfg := config.Default()
	cfg.Data = t.TempDir()
	cfg.C2S, cfg.C2STLS, cfg.Native, cfg.HTTP, cfg.Media = "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0"
	cfg.TURN, cfg.TURNPorts = "127.0.0.1:0", ""
	cfg.MinFreeDiskMB = 0 // the test machine's disk may be small; the floor has its own tests
	if tweak != nil {
		tweak(&cfg)
	}
	var out io.Writer = io.Discard
	if os.Getenv("PARLEY_TEST_LOG") != "" {
		out = os.Stderr
	}
	log := slog.New(slog.NewTextHandler(out, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s, err := newServer(cfg, log, nil, storeFS)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// serveTestServer runs s until the test ends.
func serveTestServer(t *testing.T, s *Server) *testServer {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = s.Serve(ctx); close(done) }()
	stop := func() { cancel(); <-done }
	t.Cleanup(stop)
	return &testServer{Server: s, addrs: s.Addrs(), stop: stop}
}

func (ts *testServer) addUser(t *testing.T, name, password string) {
	t.Helper()
	a, err := auth.NewAccount(name+"@localhost", password, 4096)
	if err != nil {
		t.Fatal(err)
	}
	if err := ts.store.CreateAccount(context.Background(), a); err != nil {
		t.Fatal(err)
	}
}

func (ts *testServer) login(t *testing.T, user, resource string, tweak ...func(*xmpptest.Options)) *xmpptest.Client {
	t.Helper()
	o := xmpptest.Options{User: user, Password: "pw-" + user, Resource: resource}
	for _, f := range tweak {
		f(&o)
	}
	return xmpptest.Dial(t, ts.addrs.C2S, o)
}

func withSM(o *xmpptest.Options) { o.EnableSM = true }

func TestLoginWithEachMechanismAndAWrongPassword(t *testing.T) {
	ts := startServer(t, nil)
	ts.addUser(t, "alice", "pw-alice")
	for _, mech := range []string{"PLAIN", "SCRAM-SHA-1", "SCRAM-SHA-256"} {
		t.Run(mech, func(t *testing.T) {
			c := ts.login(t, "alice", mech, func(o *xmpptest.Options) { o.Mechanism = mech })
			if c.JID != "alice@localhost/"+mech {
				t.Fatalf("bound %q", c.JID)
			}
			c.Close()
			_, err := xmpptest.Connect(t, ts.addrs.C2S, xmpptest.Options{User: "alice", Password: "wrong", Mechanism: mech})
			if ae, ok := err.(*xmpptest.AuthError); !ok || ae.Condition != "not-authorized" {
				t.Fatalf("wrong password: got %v, want not-authorized", err)
			}
		})
	}
}

func TestDirectTLS(t *testing.T) {
	ts := startServer(t, nil)
	ts.addUser(t, "alice", "pw-alice")
	c := xmpptest.Dial(t, ts.addrs.C2STLS, xmpptest.Options{User: "alice", Password: "pw-alice", DirectTLS: true})
	if c.JID == "" {
		t.Fatal("not bound")
	}
}

func TestPlaintextAuthIsRefusedBeforeTLS(t *testing.T) {
	ts := startServer(t, nil)
	ts.addUser(t, "alice", "pw-alice")
	_, err := xmpptest.Connect(t, ts.addrs.C2S, xmpptest.Options{User: "alice", Password: "pw-alice", NoTLS: true})
	if ae, ok := err.(*xmpptest.AuthError); !ok || ae.Condition != "encryption-required" {
		t.Fatalf("got %v, want encryption-required", err)
	}
}

func TestOnlineMessageGetsStanzaIDAndStampedFrom(t *testing.T) {
	ts := startServer(t, nil)
	ts.addUser(t, "alice", "pw-alice")
	ts.addUser(t, "bob", "pw-bob")
	alice := ts.login(t, "alice", "phone")
	bob := ts.login(t, "bob", "phone")
	bob.SendRaw("<presence/>")
	time.Sleep(50 * time.Millisecond)

	// alice sends a message claiming to be from someone else
	alice.SendRaw("<message to='bob@localhost' from='mallory@localhost' type='chat' id='m1'><body>hello bob</body><origin-id xmlns='urn:xmpp:sid:0' id='o1'/></message>")
	m := bob.Expect("alice's message", xmpptest.IsMessageWithBody("hello bob"))
	if got := m.Attr("from"); got != "alice@localhost/phone" {
		t.Fatalf("from = %q, want the server-stamped alice@localhost/phone", got)
	}
	sid := m.Child("urn:xmpp:sid:0", "stanza-id")
	if sid == nil || sid.Attr("by") != "bob@localhost" || sid.Attr("id") == "" {
		t.Fatalf("no server stanza-id: %v", m)
	}
	if m.Child("urn:xmpp:sid:0", "origin-id") == nil {
		t.Fatal("origin-id was not kept")
	}
}

func TestFiveMessagesToAnOfflineUserArriveOnceInOrder(t *testing.T) {
	ts := startServer(t, nil)
	ts.addUser(t, "alice", "pw-alice")
	ts.addUser(t, "bob", "pw-bob")
	alice := ts.login(t, "alice", "phone", withSM)
	for i := 1; i <= 5; i++ {
		alice.SendRaw(fmt.Sprintf("<message to='bob@localhost' type='chat' id='m%d'><body>msg %d</body></message>", i, i))
	}
	alice.SendRaw("<r xmlns='urn:xmpp:sm:3'/>")
	a := alice.Expect("ack", func(el *stanzaElement) bool { return el.Name == "a" })
	if a.Attr("h") != "5" {
		t.Fatalf("server acked h=%s, want 5 (all five durably stored)", a.Attr("h"))
	}

	bob := ts.login(t, "bob", "phone")
	bob.SendRaw("<presence/>")
	for i := 1; i <= 5; i++ {
		m := bob.Expect(fmt.Sprintf("message %d", i), func(el *stanzaElement) bool { return el.Name == "message" })
		if m.Body() != fmt.Sprintf("msg %d", i) {
			t.Fatalf("message %d: got %q (out of order?)", i, m.Body())
		}
		if m.Child("urn:xmpp:delay", "delay") == nil {
			t.Fatalf("offline message %d has no delay stamp", i)
		}
	}
	bob.Close()

	again := ts.login(t, "bob", "tablet")
	again.SendRaw("<presence/>")
	if el := again.Next(300 * time.Millisecond); el != nil && el.Name == "message" {
		t.Fatalf("message delivered twice: %v", el)
	}
}

func TestStreamResumptionAfterADroppedConnection(t *testing.T) {
	ts := startServer(t, nil)
	ts.addUser(t, "alice", "pw-alice")
	ts.addUser(t, "bob", "pw-bob")
	alice := ts.login(t, "alice", "phone")
	bob := ts.login(t, "bob", "phone", withSM)
	bob.SendRaw("<presence/>")
	time.Sleep(50 * time.Millisecond)
	alice.SendRaw("<message to='bob@localhost' type='chat'><body>before drop</body></message>")
	bob.Expect("first message", xmpptest.IsMessageWithBody("before drop"))
	handled := bob.Handled() // his own presence echo and the message, at least
	bob.Drop()
	time.Sleep(100 * time.Millisecond)

	for i := 1; i <= 3; i++ {
		alice.SendRaw(fmt.Sprintf("<message to='bob@localhost/phone' type='chat'><body>while away %d</body></message>", i))
	}
	time.Sleep(100 * time.Millisecond)

	re := xmpptest.Dial(t, ts.addrs.C2S, xmpptest.Options{User: "bob", Password: "pw-bob", NoBind: true})
	resumed, err := re.Resume(bob.SMID, handled)
	if err != nil || resumed.Name != "resumed" {
		t.Fatalf("resume: %v %v", resumed, err)
	}
	re.StartReading()
	for i := 1; i <= 3; i++ {
		m := re.Expect("message after resume", func(el *stanzaElement) bool { return el.Name == "message" })
		if want := fmt.Sprintf("while away %d", i); m.Body() != want {
			t.Fatalf("got %q, want %q", m.Body(), want)
		}
	}
	for el := re.Next(300 * time.Millisecond); el != nil; el = re.Next(300 * time.Millisecond) {
		if el.Name == "message" {
			t.Fatalf("duplicate after resume: %v", el)
		}
	}
}

func TestSameResourceReplacesTheOldSessionWithConflict(t *testing.T) {
	ts := startServer(t, nil)
	ts.addUser(t, "alice", "pw-alice")
	first := ts.login(t, "alice", "phone")
	ts.login(t, "alice", "phone")
	se := first.Closed()
	if se == nil || se.Condition != "conflict" {
		t.Fatalf("old session got %v, want a conflict stream error", se)
	}
}

func TestPingBothWays(t *testing.T) {
	ts := startServer(t, func(c *config.Config) { c.PingInterval = time.Second; c.PingTimeout = time.Second })
	ts.addUser(t, "alice", "pw-alice")
	c := ts.login(t, "alice", "phone")
	c.SendRaw("<iq type='get' id='p1' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>")
	if r := c.Expect("pong", xmpptest.IsIQResult("p1")); r.Type() != "result" {
		t.Fatalf("ping answered %v", r)
	}
	ping := c.Expect("server ping", func(el *stanzaElement) bool {
		return el.Name == "iq" && el.Child("urn:xmpp:ping", "ping") != nil
	})
	c.SendRaw(fmt.Sprintf("<iq type='result' id='%s' to='localhost'/>", ping.ID()))
	// A client that stops answering is closed after the timeout.
	dead := ts.login(t, "alice", "silent")
	if se := dead.Closed(); se == nil || se.Condition != "connection-timeout" {
		t.Fatalf("silent client got %v, want connection-timeout", se)
	}
}

func TestFiftyClientsExchangeAThousandMessages(t *testing.T) {
	ts := startServer(t, nil)
	const n, each = 50, 20
	clients := make([]*xmpptest.Client, n)
	for i := range clients {
		name := fmt.Sprintf("u%d", i)
		ts.addUser(t, name, "pw-"+name)
		clients[i] = ts.login(t, name, "r")
		clients[i].SendRaw("<presence/>")
	}
	time.Sleep(100 * time.Millisecond)
	for i, c := range clients {
		for k := 0; k < each; k++ {
			to := (i + 1 + k%(n-1)) % n
			c.SendRaw(fmt.Sprintf("<message to='u%d@localhost' type='chat'><body>%d-%d</body></message>", to, i, k))
		}
	}
	for i, c := range clients {
		seen := map[string]bool{}
		for len(seen) < each {
			m := c.Expect("messages", func(el *stanzaElement) bool { return el.Name == "message" })
			if seen[m.Body()] {
				t.Fatalf("u%d got %q twice", i, m.Body())
			}
			seen[m.Body()] = true
		}
	}
}

// TestUnackedStanzasReturnToTheOfflineQueueWhenNotResumed: a device that
// dropped without acknowledging, and never resumed, gets the unacknowledged
// messages at its next login (once), and not the ones it had acknowledged.
func TestUnackedStanzasReturnToTheOfflineQueueWhenNotResumed(t *testing.T) {
	ts := startServer(t, func(c *config.Config) { c.ResumeTimeout = time.Second })
	ts.addUser(t, "alice", "pw-alice")
	ts.addUser(t, "bob", "pw-bob")
	alice := ts.login(t, "alice", "phone")
	bob := ts.login(t, "bob", "phone", withSM)
	bob.SendRaw("<presence/>")
	time.Sleep(50 * time.Millisecond)
	alice.SendRaw("<message to='bob@localhost' type='chat'><body>acked</body></message>")
	bob.Expect("first", xmpptest.IsMessageWithBody("acked"))
	bob.AckProcessed(bob.Handled())
	alice.SendRaw("<message to='bob@localhost' type='chat'><body>unacked 1</body></message>")
	alice.SendRaw("<message to='bob@localhost' type='chat'><body>unacked 2</body></message>")
	bob.Expect("second", xmpptest.IsMessageWithBody("unacked 2"))
	bob.Drop() // no ack, no resume
	time.Sleep(2 * time.Second)

	again := ts.login(t, "bob", "phone")
	again.SendRaw("<presence/>")
	var got []string
	for el := again.Next(time.Second); el != nil; el = again.Next(500 * time.Millisecond) {
		if el.Name == "message" {
			got = append(got, el.Body())
		}
	}
	if want := []string{"unacked 1", "unacked 2"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("after the resumption window: got %q, want %q", got, want)
	}
}

// TestFreshLoginDuringTheResumptionWindowGetsTheUnackedMessages: a client
// that lost its stream-management state logs in again at once (no resume):
// the detached session's unacknowledged messages reach it once.
func TestFreshLoginDuringTheResumptionWindowGetsTheUnackedMessages(t *testing.T) {
	// The same resource (replacing the detached session) or another one.
	for _, resource := range []string{"phone", "other"} {
		t.Run("new session on resource "+resource, func(t *testing.T) {
			ts := startServer(t, nil) // default window: 300 s
			ts.addUser(t, "alice", "pw-alice")
			ts.addUser(t, "bob", "pw-bob")
			alice := ts.login(t, "alice", "phone")
			bob := ts.login(t, "bob", "phone", withSM)
			bob.SendRaw("<presence/>")
			time.Sleep(50 * time.Millisecond)
			for i := 1; i <= 3; i++ {
				alice.SendRaw(fmt.Sprintf("<message to='bob@localhost' type='chat'><body>m%d</body></message>", i))
			}
			bob.Expect("third", xmpptest.IsMessageWithBody("m3"))
			bob.Drop()
			time.Sleep(100 * time.Millisecond)

			again := ts.login(t, "bob", resource)
			again.SendRaw("<presence/>")
			var got []string
			for el := again.Next(time.Second); el != nil; el = again.Next(500 * time.Millisecond) {
				if el.Name == "message" {
					got = append(got, el.Body())
				}
			}
			if want := "[m1 m2 m3]"; fmt.Sprint(got) != want {
				t.Fatalf("got %q, want %s", got, want)
			}
		})
	}
}
