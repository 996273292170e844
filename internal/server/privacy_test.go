package server

// Scenario tests for the privacy settings (urn:parley:privacy:0) with the
// Go test client: last seen for everyone, contacts and nobody; online
// status hidden with last seen; read receipts off both ways.

import (
	"context"
	"testing"

	"github.com/parley-im/parley/internal/stanza"
	"github.com/parley-im/parley/internal/store"
	"github.com/parley-im/parley/internal/xmpptest"
)

const nsPrivacy = "urn:parley:privacy:0"

// setPrivacy sends a set with attrs (name, value pairs) and returns the
// settings the server answered.
func setPrivacy(t *testing.T, c *xmpptest.Client, id string, attrs ...string) *stanza.Element {
	t.Helper()
	q := stanza.NewElement(nsPrivacy, "privacy", attrs...)
	iq := stanza.NewIQ("set", id).AddChild(q)
	c.Send(iq)
	r := c.Expect("privacy set "+id, xmpptest.IsIQResult(id))
	if r.Type() != "result" || r.Child(nsPrivacy, "privacy") == nil {
		t.Fatalf("privacy set %v: %v", attrs, r)
	}
	return r.Child(nsPrivacy, "privacy")
}

// lastActivity asks for user's last activity and returns the seconds
// attribute, or the error condition prefixed with "error:".
func lastActivity(t *testing.T, c *xmpptest.Client, id, user string) string {
	t.Helper()
	c.SendRaw("<iq type='get' id='" + id + "' to='" + user + "'><query xmlns='jabber:iq:last'/></iq>")
	r := c.Expect("last activity "+id, xmpptest.IsIQResult(id))
	if r.Type() == "error" {
		return "error:" + errorCondition(r)
	}
	return r.Child(stanza.NSLast, "query").Attr("seconds")
}

// privacyUsers: alice and bob added each other; carol subscribed to alice
// (alice approved) but alice did not add carol: carol is not her contact.
func privacyUsers(t *testing.T, ts *testServer) {
	t.Helper()
	for _, u := range []string{"alice", "bob", "carol"} {
		ts.addUser(t, u, "pw-"+u)
	}
	ts.befriend(t, "alice", "bob")
	for _, p := range []struct{ owner, contact, sub string }{
		{"alice", "carol", store.SubFrom}, {"carol", "alice", store.SubTo},
	} {
		if _, err := ts.store.PutRosterItem(context.Background(), p.owner+"@localhost",
			store.RosterItem{JID: p.contact + "@localhost", Subscription: p.sub}); err != nil {
			t.Fatal(err)
		}
	}
}

func TestPrivacyGetSetAndBadValues(t *testing.T) {
	ts := startServer(t, nil)
	ts.addUser(t, "alice", "pw-alice")
	alice := ts.login(t, "alice", "phone")
	if !hasFeature(t, alice, nsPrivacy) {
		t.Fatal("disco does not list urn:parley:privacy:0")
	}
	alice.SendRaw("<iq type='get' id='g1'><privacy xmlns='urn:parley:privacy:0'/></iq>")
	got := alice.Expect("defaults", xmpptest.IsIQResult("g1")).Child(nsPrivacy, "privacy")
	want := map[string]string{"last-seen": "everyone", "online": "everyone", "read-receipts": "on", "photo": "everyone"}
	for k, v := range want {
		if got.Attr(k) != v {
			t.Fatalf("default %s = %q, want %q (%v)", k, got.Attr(k), v, got)
		}
	}
	p := setPrivacy(t, alice, "s1", "last-seen", "contacts", "photo", "nobody")
	if p.Attr("last-seen") != "contacts" || p.Attr("photo") != "nobody" || p.Attr("read-receipts") != "on" {
		t.Fatalf("after a partial set: %v", p)
	}
	alice.SendRaw("<iq type='set' id='s2'><privacy xmlns='urn:parley:privacy:0' last-seen='friends'/></iq>")
	if r := alice.Expect("bad value", xmpptest.IsIQResult("s2")); errorCondition(r) != "bad-request" {
		t.Fatalf("unknown value: %v, want bad-request", r)
	}
	// settings survive a new session (they are stored).
	again := ts.login(t, "alice", "laptop")
	again.SendRaw("<iq type='get' id='g2'><privacy xmlns='urn:parley:privacy:0'/></iq>")
	if p := again.Expect("stored", xmpptest.IsIQResult("g2")).Child(nsPrivacy, "privacy"); p.Attr("photo") != "nobody" {
		t.Fatalf("settings on another device: %v", p)
	}
}

func TestPrivacyLastSeenEveryoneContactsNobody(t *testing.T) {
	ts := startServer(t, nil)
	privacyUsers(t, ts)
	a := ts.login(t, "alice", "phone")
	a.SendRaw("<presence/>")
	a.Close() // alice was last seen now
	bob, carol := ts.login(t, "bob", "pc"), ts.login(t, "carol", "pc")
	if s := lastActivity(t, bob, "l1", "alice@localhost"); s == "" || s[0] == 'e' {
		t.Fatalf("everyone: bob got %q, want seconds", s)
	}
	if s := lastActivity(t, carol, "l2", "alice@localhost"); s == "" || s[0] == 'e' {
		t.Fatalf("everyone: carol got %q, want seconds", s)
	}

	alice := ts.login(t, "alice", "laptop")
	setPrivacy(t, alice, "p1", "last-seen", "contacts")
	if s := lastActivity(t, bob, "l3", "alice@localhost"); s == "" || s[0] == 'e' {
		t.Fatalf("contacts: bob (a contact) got %q, want seconds", s)
	}
	if s := lastActivity(t, carol, "l4", "alice@localhost"); s != "error:forbidden" {
		t.Fatalf("contacts: carol (not a contact) got %q, want forbidden", s)
	}

	setPrivacy(t, alice, "p2", "last-seen", "nobody")
	if s := lastActivity(t, bob, "l5", "alice@localhost"); s != "error:forbidden" {
		t.Fatalf("nobody: bob got %q, want forbidden", s)
	}
	// her own devices still see it.
	if s := lastActivity(t, alice, "l6", "alice@localhost"); s != "0" {
		t.Fatalf("alice's own query: %q", s)
	}
}

func TestPrivacyOnlineStatusSameAsLastSeen(t *testing.T) {
	ts := startServer(t, nil)
	privacyUsers(t, ts)
	bob := ts.login(t, "bob", "pc")
	bob.SendRaw("<presence/>")
	alice := ts.login(t, "alice", "phone")
	alice.SendRaw("<presence><status>here</status></presence>")
	bob.Expect("alice online", presenceFromWithStatus("alice@localhost/phone", "", "here"))

	// alice hides her online status with her last seen: bob sees her go.
	setPrivacy(t, alice, "p1", "last-seen", "nobody", "online", "same-as-last-seen")
	bob.Expect("alice hidden", presenceFromWithStatus("alice@localhost/phone", "unavailable", ""))
	alice.SendRaw("<presence><status>still here</status></presence>")
	none(t, bob, "alice's presence while hidden", presenceFromWithStatus("alice@localhost", "", ""))
	// a probe answer (bob's new device) is hidden too.
	bob2 := ts.login(t, "bob", "tablet")
	bob2.SendRaw("<presence/>")
	none(t, bob2, "alice's presence in a probe answer", presenceFromWithStatus("alice@localhost", "", ""))

	// back to everyone: bob sees her again at once.
	setPrivacy(t, alice, "p2", "online", "everyone")
	bob.Expect("alice visible again", presenceFromWithStatus("alice@localhost/phone", "", "still here"))
}

func TestPrivacyReadReceiptsOff(t *testing.T) {
	ts := startServer(t, nil)
	privacyUsers(t, ts)
	alice, bob := ts.login(t, "alice", "phone"), ts.login(t, "bob", "pc")
	alice.SendRaw("<presence/>")
	bob.SendRaw("<presence/>")
	setPrivacy(t, alice, "p1", "read-receipts", "off")
	isDisplayed := func(el *stanza.Element) bool { return el.Child(stanza.NSMarkers, "displayed") != nil }

	// alice reads bob's message: her "displayed" marker never reaches him,
	// but her delivery receipt does.
	bob.SendRaw("<message to='alice@localhost' type='chat' id='b1'><body>hi</body><request xmlns='urn:xmpp:receipts'/><markable xmlns='urn:xmpp:chat-markers:0'/></message>")
	alice.Expect("bob's message", xmpptest.IsMessageWithBody("hi"))
	alice.SendRaw("<message to='bob@localhost' type='chat'><received xmlns='urn:xmpp:receipts' id='b1'/></message>")
	alice.SendRaw("<message to='bob@localhost' type='chat'><displayed xmlns='urn:xmpp:chat-markers:0' id='b1'/></message>")
	bob.Expect("alice's delivery receipt", func(el *stanza.Element) bool { return el.Child(stanza.NSReceipts, "received") != nil })
	none(t, bob, "alice's displayed marker", isDisplayed)

	// bob reads alice's message: alice does not see his marker either.
	alice.SendRaw("<message to='bob@localhost' type='chat' id='a1'><body>hello</body><markable xmlns='urn:xmpp:chat-markers:0'/></message>")
	bob.Expect("alice's message", xmpptest.IsMessageWithBody("hello"))
	bob.SendRaw("<message to='alice@localhost' type='chat'><displayed xmlns='urn:xmpp:chat-markers:0' id='a1'/></message>")
	none(t, alice, "bob's displayed marker", isDisplayed)

	// read receipts on again: markers flow both ways.
	setPrivacy(t, alice, "p2", "read-receipts", "on")
	bob.SendRaw("<message to='alice@localhost' type='chat'><displayed xmlns='urn:xmpp:chat-markers:0' id='a1'/></message>")
	alice.Expect("bob's marker", isDisplayed)
	alice.SendRaw("<message to='bob@localhost' type='chat'><displayed xmlns='urn:xmpp:chat-markers:0' id='b1'/></message>")
	bob.Expect("alice's marker", isDisplayed)
}
