package server

import (
	"fmt"
	"strings"
	"testing"

	"github.com/parley-im/parley/internal/config"
	"github.com/parley-im/parley/internal/stanza"
	"github.com/parley-im/parley/internal/store/pebble"
	"github.com/parley-im/parley/internal/xmpptest"
)

// TestBurstToOfflineUserSharesDurableWaits: messages a device sends in one
// write to a user with no device online are stored with far fewer waits
// for the WAL sync than messages (the session settles a read's messages
// with one wait) and far fewer queue writes (Pebble batches: a read's
// messages to offline users are one router.Batch), its <r/> in that write
// is answered with every one of them counted, before the answer to the iq
// that follows it, and the recipient drains all of them, in order, at its
// login.
func TestBurstToOfflineUserSharesDurableWaits(t *testing.T) {
	const n = 64
	ts := startServer(t, func(c *config.Config) { c.AllowPlaintextAuth = true })
	ts.addUser(t, "alice", "pw-alice")
	ts.addUser(t, "bob", "pw-bob")
	st, ok := ts.store.(*pebble.Store)
	if !ok {
		t.Fatalf("the test server's store is %T, want the embedded one", ts.store)
	}
	alice := ts.login(t, "alice", "phone", withSM, func(o *xmpptest.Options) { o.NoTLS = true })

	var burst strings.Builder
	for i := range n {
		fmt.Fprintf(&burst, "<message to='bob@localhost' type='chat' id='m%d'><body>burst %d</body></message>", i, i)
	}
	burst.WriteString("<r xmlns='urn:xmpp:sm:3'/><iq type='get' id='ping1'><ping xmlns='urn:xmpp:ping'/></iq>")
	before, writesBefore := st.DurableWaits(), st.QueueWrites()
	alice.SendRaw(burst.String())

	first := alice.Expect("the ack or the ping's result", func(el *stanza.Element) bool {
		return (el.Space == stanza.NSSM && el.Name == "a") || el.Attr("id") == "ping1"
	})
	if first.Name != "a" || first.Attr("h") != fmt.Sprint(n) {
		t.Fatalf("first answer %v, want <a h='%d'/> before the ping's result", first, n)
	}
	alice.Expect("the ping's result", xmpptest.IsIQResult("ping1"))
	waits, writes := st.DurableWaits()-before, st.QueueWrites()-writesBefore
	t.Logf("%d messages stored with %d durable waits and %d queue writes", n, waits, writes)
	if waits == 0 || waits > n/4 {
		t.Fatalf("%d durable waits for %d messages sent in one write: want at least one and at most %d", waits, n, n/4)
	}
	if writes == 0 || writes > n/8 {
		t.Fatalf("%d queue writes for %d messages sent in one write: want at least one and at most %d", writes, n, n/8)
	}

	bob := ts.login(t, "bob", "phone", func(o *xmpptest.Options) { o.NoTLS = true })
	bob.SendRaw("<presence/>")
	for i := range n {
		bob.Expect(fmt.Sprintf("message %d", i), xmpptest.IsMessageWithBody(fmt.Sprintf("burst %d", i)))
	}
}

// TestDrainedStanzasResentOnResumeAsDrained: stored messages the offline
// drain wrote to an XML stream as they were stored (with their delay
// stamps spliced in) and the device did not acknowledge are re-sent, the
// same, when it resumes, and then erased by its ack.
func TestDrainedStanzasResentOnResumeAsDrained(t *testing.T) {
	ts := startServer(t, nil)
	ts.addUser(t, "alice", "pw-alice")
	ts.addUser(t, "bob", "pw-bob")
	alice := ts.login(t, "alice", "phone", withSM)
	for i := range 3 {
		alice.SendRaw(fmt.Sprintf("<message to='bob@localhost' type='chat' id='q%d'><body>stored %d</body></message>", i, i))
	}
	alice.SendRaw("<r xmlns='urn:xmpp:sm:3'/>")
	alice.Expect("the ack of the three", func(el *stanza.Element) bool { return el.Name == "a" && el.Attr("h") == "3" })

	bob := ts.login(t, "bob", "phone", withSM)
	bob.SendRaw("<presence/>")
	var drained []string
	for i := range 3 {
		m := bob.Expect("a stored message", xmpptest.IsMessageWithBody(fmt.Sprintf("stored %d", i)))
		if d := m.Child(stanza.NSDelay, "delay"); d == nil || d.Attr("stamp") == "" || d.Attr("from") != "localhost" {
			t.Fatalf("drained without its delay stamp: %v", m)
		}
		drained = append(drained, m.String())
	}
	bob.Drop() // nothing acknowledged

	re := xmpptest.Dial(t, ts.addrs.C2S, xmpptest.Options{User: "bob", Password: "pw-bob", NoBind: true})
	if got, err := re.Resume(bob.SMID, 0); err != nil || got.Name != "resumed" {
		t.Fatalf("resume: %v %v", got, err)
	}
	re.StartReading()
	for i := range 3 {
		m := re.Expect("a re-sent message", func(el *stanza.Element) bool { return el.Name == "message" })
		if m.String() != drained[i] {
			t.Fatalf("re-sent\n%s\nwant what the drain sent\n%s", m.String(), drained[i])
		}
	}
	re.SendRaw("<a xmlns='urn:xmpp:sm:3' h='4'/>") // the presence echo and the three
	waitQueueLen(t, ts, "bob@localhost", 0)
}
