package server

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/parley-im/parley/internal/config"
	"github.com/parley-im/parley/internal/store/postgres/pgtest"
	"github.com/parley-im/parley/internal/xmpptest"
)

// TestStoreAndForwardOnPostgreSQL runs the server on the PostgreSQL store:
// messages to an offline user survive a restart and arrive once, in order.
func TestStoreAndForwardOnPostgreSQL(t *testing.T) {
	dsn := pgtest.Fresh(t)
	pg := func(c *config.Config) { c.Store = dsn }
	ts := startServer(t, pg)
	ts.addUser(t, "alice", "pw-alice")
	ts.addUser(t, "bob", "pw-bob")
	alice := ts.login(t, "alice", "phone", withSM)
	for i := 1; i <= 5; i++ {
		alice.SendRaw(fmt.Sprintf("<message to='bob@localhost' type='chat' id='m%d'><body>stored %d</body></message>", i, i))
	}
	alice.SendRaw("<r xmlns='urn:xmpp:sm:3'/>")
	alice.Expect("the ack of all five", func(el *stanzaElement) bool { return el.Name == "a" && el.Attr("h") == "5" })
	ts.stop()

	ts = startServer(t, pg) // a new node on the same database
	bob := ts.login(t, "bob", "phone")
	bob.SendRaw("<presence/>")
	for i := 1; i <= 5; i++ {
		bob.Expect(fmt.Sprintf("stored %d", i), xmpptest.IsMessageWithBody(fmt.Sprintf("stored %d", i)))
	}
	for el := bob.Next(500 * time.Millisecond); el != nil; el = bob.Next(300 * time.Millisecond) {
		if el.Name == "message" {
			t.Fatalf("a sixth message: %v", el)
		}
	}
}

// TestPEPAndVCardOnPostgreSQL: with --store on PostgreSQL, PEP and
// vcard-temp are on: alice publishes her avatar metadata, bob (a contact
// with +notify) is notified and retrieves it, alice sets her vCard; a new
// node on the same database serves both.
func TestPEPAndVCardOnPostgreSQL(t *testing.T) {
	dsn := pgtest.Fresh(t)
	pg := func(c *config.Config) { c.Store = dsn }
	ts := startServer(t, pg)
	privacyUsers(t, ts) // alice and bob subscribed both ways
	interested := newTestCaps(nodeAvatarMD+"+notify", nodeAvatarMD)
	alice := ts.login(t, "alice", "phone")
	alice.SendRaw("<presence/>")
	bob := ts.login(t, "bob", "pc")
	bob.SendRaw(interested.presence())
	answerCaps(t, bob, interested)

	publishAvatarMeta(t, alice, "p1", "hash1")
	bob.Expect("the avatar notification", isAvatarEvent("alice@localhost", "hash1"))
	publishAvatarMeta(t, alice, "p2", "hash2") // max_items 1: replaces hash1
	bob.Expect("the second notification", isAvatarEvent("alice@localhost", "hash2"))
	if r := avatarItems(t, bob, "i1", "alice@localhost"); r.Type() != "result" || !strings.Contains(r.String(), "hash2") || strings.Contains(r.String(), "hash1") {
		t.Fatalf("bob's items request: %v, want hash2 alone", r)
	}
	alice.SendRaw("<iq type='set' id='v1'><vCard xmlns='vcard-temp'><FN>Alice Liddell</FN></vCard></iq>")
	if r := alice.Expect("vCard set", xmpptest.IsIQResult("v1")); r.Type() != "result" {
		t.Fatalf("vCard set: %v", r)
	}
	ts.stop()

	ts = startServer(t, pg) // a new node on the same database
	bob = ts.login(t, "bob", "pc")
	if r := avatarItems(t, bob, "i2", "alice@localhost"); r.Type() != "result" || !strings.Contains(r.String(), "hash2") {
		t.Fatalf("bob's items request after a restart: %v", r)
	}
	if v := getVCard(t, bob, "v2", "alice@localhost"); v.ChildText("vcard-temp", "FN") != "Alice Liddell" {
		t.Fatalf("alice's vCard after a restart: %v", v)
	}
}
