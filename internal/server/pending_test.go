package server

import (
	"testing"
	"time"

	"github.com/parley-im/parley/internal/config"
	"github.com/parley-im/parley/internal/stanza"
	"github.com/parley-im/parley/internal/xmpptest"
)

// A message to a user whose devices are all connected (with stream
// management) reaches them before it is stored, and is stored only if none
// acknowledges it within the ack window (router.Pending).

func withAckWindow(d time.Duration) func(*config.Config) {
	return func(c *config.Config) { c.AckWindow = d }
}

// expectAck waits for c's <a/> from the server and returns its h.
func expectAck(c *xmpptest.Client, what string) string {
	return c.Expect(what, func(el *stanza.Element) bool {
		return el.Space == stanza.NSSM && el.Name == "a"
	}).Attr("h")
}

// expectRequest reads what c gets until the server's <r/>.
func expectRequest(t *testing.T, c *xmpptest.Client, what string) {
	t.Helper()
	for {
		el := c.Next(5 * time.Second)
		if el == nil {
			t.Fatalf("no <r/> %s", what)
		}
		if el.Space == stanza.NSSM && el.Name == "r" {
			return
		}
	}
}

// TestAMessageItsDeviceAcknowledgesIsNeverStored: with every sync of the
// store held, alice's message reaches bob, bob acknowledges it, and alice
// gets her ack all the same: her message was delivered and acknowledged,
// so it needs no durable write. Nothing was written to bob's queue. With
// the message stored before delivery (--ack-window 0, or before the
// change) alice's ack waits for the held sync and never comes.
func TestAMessageItsDeviceAcknowledgesIsNeverStored(t *testing.T) {
	gate := newSyncGate()
	ts := startServerOn(t, withAckWindow(time.Minute), gate.fs())
	t.Cleanup(gate.release)
	ts.addUser(t, "alice", "pw-alice")
	ts.addUser(t, "bob", "pw-bob")
	bob := ts.login(t, "bob", "phone", withSM)
	ack := availableAndSettled(bob)
	alice := ts.login(t, "alice", "phone", withSM)
	counter := ts.store.(interface{ QueueWrites() uint64 })
	writes := counter.QueueWrites()

	gate.shut()
	alice.SendRaw("<message to='bob@localhost' type='chat' id='m1'><body>hello</body></message><r xmlns='urn:xmpp:sm:3'/>")
	bob.Expect("alice's message", xmpptest.IsMessageWithBody("hello"))
	expectRequest(t, bob, "with alice's message")
	ack(bob.Handled())
	if h := expectAck(alice, "alice's ack, once bob acknowledged"); h != "1" {
		t.Fatalf("alice got <a h='%s'/>, want h='1'", h)
	}
	if n := counter.QueueWrites() - writes; n != 0 {
		t.Errorf("%d queue writes for a message bob acknowledged, want none", n)
	}
	if n := queued(t, ts, "bob@localhost"); n != 0 {
		t.Errorf("%d messages queued for bob, want none", n)
	}
	if got := ts.hub.router.Pending().Acked(); got != 1 {
		t.Errorf("%d messages acknowledged before stored, want 1", got)
	}
}

// TestAMessageNotAcknowledgedInTheWindowIsStored: bob gets alice's message
// and does not acknowledge it; after the window it is stored, and alice
// gets her ack. bob's later ack erases it from his queue.
func TestAMessageNotAcknowledgedInTheWindowIsStored(t *testing.T) {
	ts := startServer(t, withAckWindow(200*time.Millisecond))
	ts.addUser(t, "alice", "pw-alice")
	ts.addUser(t, "bob", "pw-bob")
	bob := ts.login(t, "bob", "phone", withSM)
	ack := availableAndSettled(bob)
	alice := ts.login(t, "alice", "phone", withSM)

	start := time.Now()
	alice.SendRaw("<message to='bob@localhost' type='chat' id='m1'><body>hello</body></message><r xmlns='urn:xmpp:sm:3'/>")
	bob.Expect("alice's message", xmpptest.IsMessageWithBody("hello"))
	if h := expectAck(alice, "alice's ack, once her message is stored"); h != "1" {
		t.Fatalf("alice got <a h='%s'/>, want h='1'", h)
	}
	if waited := time.Since(start); waited < 200*time.Millisecond {
		t.Errorf("alice's ack came after %v, before the window ended", waited)
	}
	if n := queued(t, ts, "bob@localhost"); n != 1 {
		t.Fatalf("%d messages queued for bob, want the one he did not acknowledge", n)
	}
	ack(bob.Handled())
	for deadline := time.Now().Add(5 * time.Second); queued(t, ts, "bob@localhost") != 0; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("bob's ack did not erase the stored message")
		}
	}
}

// TestAPendingMessageIsStoredWhenItsDeviceGoesAway: bob's connection
// drops with alice's message unacknowledged, long before the window ends;
// the message is stored at once (alice gets her ack), and bob's next login
// gets it exactly once.
func TestAPendingMessageIsStoredWhenItsDeviceGoesAway(t *testing.T) {
	ts := startServer(t, withAckWindow(time.Minute))
	ts.addUser(t, "alice", "pw-alice")
	ts.addUser(t, "bob", "pw-bob")
	bob := ts.login(t, "bob", "phone", withSM)
	availableAndSettled(bob)
	alice := ts.login(t, "alice", "phone", withSM)

	alice.SendRaw("<message to='bob@localhost' type='chat' id='m1'><body>hello</body></message><r xmlns='urn:xmpp:sm:3'/>")
	bob.Expect("alice's message", xmpptest.IsMessageWithBody("hello"))
	bob.Drop()
	if h := expectAck(alice, "alice's ack, once bob's connection dropped"); h != "1" {
		t.Fatalf("alice got <a h='%s'/>, want h='1'", h)
	}
	again := ts.login(t, "bob", "tablet")
	again.SendRaw("<presence/>")
	again.Expect("alice's message, from bob's queue", xmpptest.IsMessageWithBody("hello"))
	for el := again.Next(500 * time.Millisecond); el != nil; el = again.Next(500 * time.Millisecond) {
		if xmpptest.IsMessageWithBody("hello")(el) {
			t.Fatalf("a second message came: %s", el)
		}
	}
}

// TestAMessageToTheSendersOwnDeviceIsStoredFirst: alice's message to her
// own bare address reaches her own session, whose reader may be the one
// waiting for its ack: it is stored as before, not pending.
func TestAMessageToTheSendersOwnDeviceIsStoredFirst(t *testing.T) {
	ts := startServer(t, withAckWindow(time.Minute))
	ts.addUser(t, "alice", "pw-alice")
	alice := ts.login(t, "alice", "phone", withSM)
	availableAndSettled(alice)
	alice.SendRaw("<message to='alice@localhost' type='chat' id='m1'><body>note</body></message><r xmlns='urn:xmpp:sm:3'/>")
	alice.Expect("her own message", xmpptest.IsMessageWithBody("note"))
	expectAck(alice, "alice's ack, once her message is stored")
	if got := ts.hub.router.Pending().Acked() + ts.hub.router.Pending().Stored(); got != 0 {
		t.Errorf("%d pending messages, want none", got)
	}
}

// TestEachPendingMessageHasItsOwnWindow: five messages alice sends in one
// write, none of which bob acknowledges, are stored when their windows
// end, windows that began when they were handed to bob: alice's last ack
// comes about one window after she sent them, not five (her acks are
// settled one message after the other, and each message's timer started
// when the one before was settled).
func TestEachPendingMessageHasItsOwnWindow(t *testing.T) {
	const window = 400 * time.Millisecond
	ts := startServer(t, withAckWindow(window))
	ts.addUser(t, "alice", "pw-alice")
	ts.addUser(t, "bob", "pw-bob")
	bob := ts.login(t, "bob", "phone", withSM)
	availableAndSettled(bob)
	alice := ts.login(t, "alice", "phone", withSM)

	start := time.Now()
	alice.SendRaw("<message to='bob@localhost' type='chat' id='m1'><body>1</body></message>" +
		"<message to='bob@localhost' type='chat' id='m2'><body>2</body></message>" +
		"<message to='bob@localhost' type='chat' id='m3'><body>3</body></message>" +
		"<message to='bob@localhost' type='chat' id='m4'><body>4</body></message>" +
		"<message to='bob@localhost' type='chat' id='m5'><body>5</body></message><r xmlns='urn:xmpp:sm:3'/>")
	if h := expectAck(alice, "alice's ack of her five messages"); h != "5" {
		t.Fatalf("alice got <a h='%s'/>, want h='5'", h)
	}
	if took := time.Since(start); took > 3*window {
		t.Errorf("alice's ack of five unacknowledged messages took %v, want about one window (%v), not five", took, window)
	}
	if n := queued(t, ts, "bob@localhost"); n != 5 {
		t.Errorf("%d messages queued for bob, want the 5 he did not acknowledge", n)
	}
}

// TestPendingMessagesStayInOrderForADeviceThatLogsInLater: alice's first
// message is pending on bob's phone (which does not acknowledge it) when
// bob's desktop, without stream management, logs in: its offline drain
// gets the first message (stored for it, in order), and alice's second
// message, stored before delivery since the desktop cannot take pending
// messages, comes after it on both devices. Before, the desktop's drain
// found no first message (not stored yet), the second one was stored
// first, and the first one was handed to the desktop after it, at the end
// of its window.
func TestPendingMessagesStayInOrderForADeviceThatLogsInLater(t *testing.T) {
	ts := startServer(t, withAckWindow(time.Minute))
	ts.addUser(t, "alice", "pw-alice")
	ts.addUser(t, "bob", "pw-bob")
	phone := ts.login(t, "bob", "phone", withSM)
	availableAndSettled(phone)
	alice := ts.login(t, "alice", "phone", withSM)

	alice.SendRaw("<message to='bob@localhost' type='chat' id='m1'><body>one</body></message>")
	phone.Expect("the first message, pending", xmpptest.IsMessageWithBody("one"))
	desktop := ts.login(t, "bob", "desktop")
	desktop.SendRaw("<presence/>")
	desktop.Expect("the first message, from the desktop's drain", xmpptest.IsMessageWithBody("one"))
	alice.SendRaw("<message to='bob@localhost' type='chat' id='m2'><body>two</body></message>")
	phone.Expect("the second message", xmpptest.IsMessageWithBody("two"))
	desktop.Expect("the second message", xmpptest.IsMessageWithBody("two"))
	for el := desktop.Next(300 * time.Millisecond); el != nil; el = desktop.Next(300 * time.Millisecond) {
		if xmpptest.IsMessageWithBody("one")(el) {
			t.Fatal("the desktop got the first message again, after the second")
		}
	}
}
