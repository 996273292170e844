package server

// Scenario test for client state indication (XEP-0352) with the Go test
// client: while alice's phone is inactive, bob's presence is held and
// collapsed and his chat states dropped, but his message goes out at once;
// when the phone is active again it gets bob's latest presence.

import (
	"testing"
	"time"

	"github.com/parley-im/parley/internal/stanza"
	"github.com/parley-im/parley/internal/xmpptest"
)

const nsCSI = "urn:xmpp:csi:0"

// untilBody reads c's stanzas until the message with body, failing on a
// presence or a chat state (c is inactive) unless routedBefore matches it:
// a presence routed before c went inactive, which may still be in c's
// session's mailbox (bob's initial presence reaches alice twice when their
// initial presences cross: her probe's answer and his broadcast).
func untilBody(t *testing.T, c *xmpptest.Client, body string, routedBefore func(*stanza.Element) bool) {
	t.Helper()
	for {
		el := c.Next(10 * time.Second)
		switch {
		case el == nil:
			t.Fatalf("%s: no message %q", c.JID, body)
		case el.Name == "presence" && routedBefore(el):
			continue
		case el.Name == "presence":
			t.Fatalf("%s got presence while inactive: %v", c.JID, el)
		case el.Child(stanza.NSChatStates, "composing") != nil:
			t.Fatalf("%s got a chat state while inactive: %v", c.JID, el)
		case el.ChildText(stanza.NSClient, "body") == body:
			return
		}
	}
}

func TestInactiveClientGetsMessagesAtOnceAndPresenceLater(t *testing.T) {
	ts := startServer(t, nil)
	ts.addUser(t, "alice", "pw-alice")
	ts.addUser(t, "bob", "pw-bob")
	ts.befriend(t, "alice", "bob")
	phone, bob := ts.login(t, "alice", "phone"), ts.login(t, "bob", "pc")
	if phone.Features.Child(nsCSI, "csi") == nil {
		t.Fatalf("no <csi/> stream feature after authentication: %v", phone.Features)
	}
	phone.SendRaw("<presence/>")
	bob.SendRaw("<presence/>")
	// Both bob's presence and the echo of the phone's own arrive, in either
	// order, before the phone goes inactive.
	bobsInitial := func(el *stanza.Element) bool { // no status, no show: bob's later ones have both or a status
		return presenceFromWithStatus("bob@localhost/pc", "", "")(el) &&
			el.Child(stanza.NSClient, "status") == nil && el.Child(stanza.NSClient, "show") == nil
	}
	for sawBob, sawSelf := false, false; !sawBob || !sawSelf; {
		el := phone.Next(10 * time.Second)
		if el == nil {
			t.Fatalf("bob's presence %v, own echo %v", sawBob, sawSelf)
		}
		sawBob = sawBob || bobsInitial(el)
		sawSelf = sawSelf || presenceFromWithStatus("alice@localhost/phone", "", "")(el)
	}

	// alice's phone goes to the background.
	phone.SendRaw("<inactive xmlns='urn:xmpp:csi:0'/>")
	none(t, phone, "anything after going inactive", func(*stanza.Element) bool { return false })
	bob.SendRaw("<presence><status>one</status></presence>")
	bob.SendRaw("<presence><show>away</show><status>two</status></presence>")
	bob.SendRaw("<message to='alice@localhost' type='chat'><composing xmlns='http://jabber.org/protocol/chatstates'/></message>")
	bob.SendRaw("<message to='alice@localhost' type='chat' id='m1'><body>wake up</body><active xmlns='http://jabber.org/protocol/chatstates'/></message>")
	untilBody(t, phone, "wake up", bobsInitial)
	none(t, phone, "presence or a chat state while inactive", func(el *stanza.Element) bool {
		return el.Name == "presence" || el.Child(stanza.NSChatStates, "composing") != nil
	})

	// back in the foreground: only bob's latest presence arrives.
	phone.SendRaw("<active xmlns='urn:xmpp:csi:0'/>")
	p := phone.Expect("bob's held presence", presenceFromWithStatus("bob@localhost/pc", "", ""))
	if p.ChildText(stanza.NSClient, "status") != "two" {
		t.Fatalf("first presence after active: %v, want bob's latest (status two)", p)
	}
	none(t, phone, "a stale presence or chat state", func(el *stanza.Element) bool {
		return el.Name == "presence" || el.Child(stanza.NSChatStates, "composing") != nil
	})
	// active again: presence flows at once.
	bob.SendRaw("<presence><status>three</status></presence>")
	phone.Expect("bob's live presence", presenceFromWithStatus("bob@localhost/pc", "", "three"))
}
