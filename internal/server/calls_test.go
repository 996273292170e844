package server

import (
	"strings"
	"testing"

	"github.com/parley-im/parley/internal/config"
	"github.com/parley-im/parley/internal/feature/calls"
	"github.com/parley-im/parley/internal/stanza"
	"github.com/parley-im/parley/internal/xmpptest"
)

// TestPushForAnIncomingCall: bob's phone sleeps with push enabled; alice's
// call (urn:parley:call:0) rings on none of his devices, so the push
// gateway is asked to wake it, with alice as the sender.
func TestPushForAnIncomingCall(t *testing.T) {
	var secret string
	ts := startServer(t, func(c *config.Config) { secret = componentConfig(t, c) })
	ts.addUser(t, "alice", "pw-alice")
	ts.addUser(t, "bob", "pw-bob")
	gw := dialComponent(t, ts.addrs.Component, "push.localhost", secret)
	bob := ts.login(t, "bob", "phone")
	enable(t, bob, "push.localhost", "n1")
	bob.Close()
	ts.waitGone(t, "bob@localhost")

	alice := ts.login(t, "alice", "phone")
	alice.SendRaw("<iq type='set' id='call1' to='localhost'><offer xmlns='urn:parley:call:0' to='bob@localhost' media='audio'><sdp>v=0</sdp></offer></iq>")
	if r := alice.Expect("offer result", xmpptest.IsIQResult("call1")); r.Type() != "result" {
		t.Fatalf("offer refused: %v", r)
	}
	checkPublish(t, gw.expectPublish("incoming call"), "n1", "1", "alice@localhost", "v=0")
}

// TestCallFromABlockedContact: bob blocked alice; her call is refused as
// her messages are (service-unavailable), rings nowhere and leaves bob
// free: carol's call rings on his phone, and it is the only offer he gets.
// His own call to alice is refused as "you have blocked this contact".
func TestCallFromABlockedContact(t *testing.T) {
	ts := startServer(t, nil)
	for _, u := range []string{"alice", "bob", "carol"} {
		ts.addUser(t, u, "pw-"+u)
	}
	bob := ts.login(t, "bob", "phone")
	bob.SendRaw("<presence/>")
	bob.SendRaw("<iq type='set' id='b1'><block xmlns='urn:xmpp:blocking'><item jid='alice@localhost'/></block></iq>")
	if r := bob.Expect("block", xmpptest.IsIQResult("b1")); r.Type() != "result" {
		t.Fatalf("block: %v", r)
	}
	offer := func(c *xmpptest.Client, id, to string) *stanza.Element {
		c.SendRaw("<iq type='set' id='" + id + "' to='localhost'><offer xmlns='urn:parley:call:0' to='" + to + "'><sdp>v=0</sdp></offer></iq>")
		return c.Expect("offer answer", xmpptest.IsIQResult(id))
	}
	alice := ts.login(t, "alice", "phone")
	if r := offer(alice, "a1", "bob@localhost"); r.Type() != "error" || !strings.Contains(r.String(), "service-unavailable") {
		t.Fatalf("alice's call to bob: %v", r)
	}
	carol := ts.login(t, "carol", "phone")
	if r := offer(carol, "c1", "bob@localhost"); r.Type() != "result" || r.Child(calls.NS, "offer").Attr("state") != "ringing" {
		t.Fatalf("carol's call to bob: %v", r)
	}
	got := bob.Expect("an offer", func(el *stanza.Element) bool { return el.Name == "message" && el.Child(calls.NS, "offer") != nil })
	if got.Attr("from") != "carol@localhost/phone" {
		t.Fatalf("bob's first offer: %v", got)
	}
	if r := offer(bob, "b2", "alice@localhost"); r.Type() != "error" || !strings.Contains(r.String(), "not-acceptable") {
		t.Fatalf("bob's call to alice: %v", r)
	}
}
