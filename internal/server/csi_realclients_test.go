package server

// Client state indication (XEP-0352) with real clients (harness in
// realclients_helpers_test.go): a slixmpp phone goes inactive with the
// xep_0352 plugin, an xmpp.js contact keeps changing presence and typing,
// then writes: the message arrives at once, the presence only when the
// phone is active again, collapsed to the latest, and the chat states never.
//
// Run: go test -run TestRealClientsCSI -v ./internal/server/

import (
	"strings"
	"testing"
)

func presenceWithStatus(from, status string) func(observation) bool {
	return func(o observation) bool {
		return presenceFrom(from, "")(o) && o.Status != nil && *o.Status == status
	}
}

func TestRealClientsCSIMessageToInactiveSlixmppIsDeliveredPresenceHeld(t *testing.T) {
	t.Parallel()
	needSlixmpp(t)
	needXmppjs(t)
	ts := startServer(t, nil)
	ts.addUser(t, "alice", "pw-alice")
	ts.addUser(t, "bob", "pw-bob")
	ts.befriend(t, "alice", "bob")
	phone := slixAgent(t, ts, "alice", "phone")
	bob := jsAgent(t, ts, "bob", "laptop", "tcp")
	phone.send("<presence/>")
	bob.send("<presence/>")
	phone.expect("bob's presence", presenceFrom("bob@localhost/laptop", ""))

	phone.do(map[string]any{"cmd": "csi", "state": "inactive"})
	if c := phone.expect("csi sent", isEvent("csi")); c.raw["enabled"] != true {
		t.Fatalf("slixmpp did not see the <csi/> stream feature: %v", c)
	}
	phone.sync("inactive")
	bob.send("<presence><status>one</status></presence>")
	bob.send("<presence><show>away</show><status>two</status></presence>")
	bob.send("<message to='alice@localhost' type='chat' id='c1'><composing xmlns='http://jabber.org/protocol/chatstates'/></message>")
	bob.send("<message to='alice@localhost' type='chat' id='m1'><body>are you there?</body></message>")
	phone.expect("bob's message while inactive", msgWithBody("are you there?"))
	phone.sync("after-message")
	held := func(o observation) bool {
		// bob's initial presence may arrive twice (broadcast and probe
		// answer cross): only his later ones, with a status, were held.
		return (presenceFrom("bob@localhost/laptop", "")(o) && o.Status != nil) || msgWithChild(nsChatStates, "composing")(o)
	}
	if n := phone.countMatching(held, true); n != 0 {
		t.Fatalf("the inactive phone got %d presence or chat-state stanzas: %v", n, phone.all(held))
	}

	phone.do(map[string]any{"cmd": "csi", "state": "active"})
	phone.expect("csi active sent", isEvent("csi"))
	phone.expect("bob's latest presence", presenceWithStatus("bob@localhost/laptop", "two"))
	phone.sync("active")
	if n := phone.countMatching(held, true); n != 0 {
		t.Fatalf("stale presence or chat states after active: %v", phone.all(held))
	}
	bob.send("<presence><status>three</status></presence>")
	phone.expect("bob's live presence", presenceWithStatus("bob@localhost/laptop", "three"))
}

// TestRealClientsCSIXmppjsSendsRawNonzas: xmpp.js has no CSI plugin; it
// sends the nonzas raw. A slixmpp contact's message still arrives at once.
func TestRealClientsCSIXmppjsSendsRawNonzas(t *testing.T) {
	t.Parallel()
	needSlixmpp(t)
	needXmppjs(t)
	ts := startServer(t, nil)
	ts.addUser(t, "alice", "pw-alice")
	ts.addUser(t, "bob", "pw-bob")
	ts.befriend(t, "alice", "bob")
	web := jsAgent(t, ts, "alice", "web", "ws")
	bob := slixAgent(t, ts, "bob", "pc")
	web.send("<presence/>")
	bob.send("<presence/>")
	web.expect("bob's presence", presenceFrom("bob@localhost/pc", ""))

	web.send("<inactive xmlns='urn:xmpp:csi:0'/>")
	web.sync("inactive")
	bob.send("<presence><status>later</status></presence>")
	bob.send("<message to='alice@localhost' type='chat' id='m1'><body>ping from bob</body></message>")
	web.expect("bob's message while inactive", msgWithBody("ping from bob"))
	web.sync("after-message")
	if n := web.countMatching(presenceWithStatus("bob@localhost/pc", "later"), false); n != 0 {
		t.Fatal("the inactive web client got bob's presence")
	}
	web.send("<active xmlns='urn:xmpp:csi:0'/>")
	p := web.expect("bob's held presence", presenceWithStatus("bob@localhost/pc", "later"))
	if !strings.HasPrefix(p.From, "bob@localhost") {
		t.Fatalf("held presence: %v", p)
	}
}
