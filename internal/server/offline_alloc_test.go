package server

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/parley-im/parley/internal/config"
	"github.com/parley-im/parley/internal/jid"
	"github.com/parley-im/parley/internal/stanza"
	"github.com/parley-im/parley/internal/xmpptest"
)

// The message hooks run for every message stored for a user with no device
// online (the blocking filter before, carbons, push and the archive after):
// without the archive, a message from a device whose account has no other
// device costs them no allocation (carbons made the sender's list of
// devices for every message).
func TestMessageHooksOfAnOfflineMessageDoNotAllocate(t *testing.T) {
	ts := startServer(t, func(c *config.Config) { c.NoServerHistory = true })
	ts.addUser(t, "alice", "pw-alice")
	ts.addUser(t, "bob", "pw-bob")
	phone := ts.login(t, "alice", "phone")
	phone.SendRaw("<presence/>")
	phone.SendRaw("<iq type='set' id='c1'><enable xmlns='urn:xmpp:carbons:2'/></iq>")
	phone.Expect("carbons enabled", func(el *stanza.Element) bool { return el.Name == "iq" && el.Attr("id") == "c1" })
	m := stanza.NewElement(stanza.NSClient, stanza.KindMessage, "to", "bob@localhost", "from", "alice@localhost/phone", "type", "chat")
	m.AddChild(&stanza.Element{Space: stanza.NSClient, Name: "body", Text: "hello"})
	bob := jid.MustParse("bob@localhost")
	if n := testing.AllocsPerRun(100, func() { ts.hub.delivered(context.Background(), m, bob, nil) }); n != 0 {
		t.Fatalf("the message hooks of a message to an offline user: %v allocations, want 0", n)
	}
}

// A device's burst of messages to a user with no device online, over a
// real socket until the <a/> covers them: the allocations of the whole
// process (the server's reading, parsing, stamping, batching and storing,
// the test client's reading of the <a/>) per message. 13.4 before the
// stamp's copy and stanza-id were one allocation each, the read's payloads
// one buffer, the parsed stanza had room for its "from" and carbons made
// no list per message; 7.4 after.
func TestOfflineBurstAllocationsPerMessage(t *testing.T) {
	const n, bursts = 100, 5
	ts := startServer(t, func(c *config.Config) { c.NoServerHistory = true })
	ts.addUser(t, "alice", "pw-alice")
	ts.addUser(t, "bob", "pw-bob")
	alice := xmpptest.Dial(t, ts.addrs.C2S, xmpptest.Options{User: "alice", Password: "pw-alice", EnableSM: true})
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "<message to='bob@localhost' type='chat' id='m%d'><body>offline message %d with a body of about a hundred bytes, as the load generator sends</body></message>", i, i)
	}
	b.WriteString("<r xmlns='urn:xmpp:sm:3'/>")
	burst := b.String()
	sent := 0
	send := func() {
		alice.SendRaw(burst)
		sent += n
		want := fmt.Sprint(sent)
		alice.Expect("the ack of the burst", func(el *stanza.Element) bool { return el.Name == "a" && el.Attr("h") == want })
	}
	send() // the session's routing state and the store's queue grow here
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range bursts {
		send()
	}
	runtime.ReadMemStats(&after)
	perMessage := float64(after.Mallocs-before.Mallocs) / (bursts * n)
	t.Logf("%.1f allocations per message", perMessage)
	if perMessage > 10 {
		t.Fatalf("%.1f allocations per message stored for an offline user, want at most 10", perMessage)
	}
}
