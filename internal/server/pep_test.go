package server

// Scenario tests for PEP (XEP-0163) with the Go test client: interest from
// entity capabilities (XEP-0115, the server asks the client for the
// disco#info of its caps node), publish then notify to a contact with
// +notify, retrieval with access control, the last item at login, and the
// photo privacy setting on avatar nodes.

import (
	"crypto/sha1"
	"encoding/base64"
	"slices"
	"strings"
	"testing"

	"github.com/parley-im/parley/internal/stanza"
	"github.com/parley-im/parley/internal/xmpptest"
)

const (
	nsPubSub      = "http://jabber.org/protocol/pubsub"
	nsPubSubEvent = "http://jabber.org/protocol/pubsub#event"
	nsCaps        = "http://jabber.org/protocol/caps"
	nodeAvatarMD  = "urn:xmpp:avatar:metadata"
	capsNode      = "https://parley.test/client"
)

// testCaps are a client's features and their XEP-0115 ver (sha-1).
type testCaps struct {
	features []string
	ver      string
}

func newTestCaps(features ...string) testCaps {
	features = append([]string{stanza.NSDiscoInfo}, features...)
	slices.Sort(features)
	s := "client/phone//Parley test<"
	for _, f := range features {
		s += f + "<"
	}
	sum := sha1.Sum([]byte(s))
	return testCaps{features: features, ver: base64.StdEncoding.EncodeToString(sum[:])}
}

func (c testCaps) presence() string {
	return "<presence><c xmlns='" + nsCaps + "' hash='sha-1' node='" + capsNode + "' ver='" + c.ver + "'/></presence>"
}

// answerCaps waits for the server's disco#info query of the caps node and
// answers it.
func answerCaps(t *testing.T, c *xmpptest.Client, caps testCaps) {
	t.Helper()
	q := c.Expect("the server's caps query", func(el *stanza.Element) bool {
		return el.Name == "iq" && el.Type() == "get" && el.Child(stanza.NSDiscoInfo, "query") != nil
	})
	if node := q.Child(stanza.NSDiscoInfo, "query").Attr("node"); node != capsNode+"#"+caps.ver {
		t.Fatalf("caps query for node %q, want %q", node, capsNode+"#"+caps.ver)
	}
	var b strings.Builder
	b.WriteString("<iq type='result' id='" + q.ID() + "' to='" + q.Attr("from") + "'><query xmlns='" + stanza.NSDiscoInfo +
		"' node='" + capsNode + "#" + caps.ver + "'><identity category='client' type='phone' name='Parley test'/>")
	for _, f := range caps.features {
		b.WriteString("<feature var='" + f + "'/>")
	}
	b.WriteString("</query></iq>")
	c.SendRaw(b.String())
}

func publishAvatarMeta(t *testing.T, c *xmpptest.Client, id, hash string) {
	t.Helper()
	c.SendRaw("<iq type='set' id='" + id + "'><pubsub xmlns='" + nsPubSub + "'><publish node='" + nodeAvatarMD +
		"'><item id='" + hash + "'><metadata xmlns='" + nodeAvatarMD + "'><info bytes='12' id='" + hash +
		"' type='image/png' height='64' width='64'/></metadata></item></publish></pubsub></iq>")
	r := c.Expect("publish "+id, xmpptest.IsIQResult(id))
	pub := r.Child(nsPubSub, "pubsub")
	if r.Type() != "result" || pub == nil || pub.Child(nsPubSub, "publish").Child(nsPubSub, "item").Attr("id") != hash {
		t.Fatalf("publish: %v", r)
	}
}

func isAvatarEvent(from, id string) func(*stanza.Element) bool {
	return func(el *stanza.Element) bool {
		ev := el.Child(nsPubSubEvent, "event")
		if el.Name != "message" || ev == nil || el.Attr("from") != from {
			return false
		}
		items := ev.Child(nsPubSubEvent, "items")
		return items != nil && items.Attr("node") == nodeAvatarMD && items.Child(nsPubSubEvent, "item").Attr("id") == id
	}
}

func avatarItems(t *testing.T, c *xmpptest.Client, id, owner string) *stanza.Element {
	t.Helper()
	c.SendRaw("<iq type='get' id='" + id + "' to='" + owner + "'><pubsub xmlns='" + nsPubSub + "'><items node='" + nodeAvatarMD + "'/></pubsub></iq>")
	return c.Expect("items "+id, xmpptest.IsIQResult(id))
}

func TestPEPPublishNotifiesContactsWithNotifyInterest(t *testing.T) {
	ts := startServer(t, nil)
	privacyUsers(t, ts) // alice and bob subscribed both ways; carol only subscribed to alice, not added
	ts.addUser(t, "dave", "pw-dave")
	interested := newTestCaps(nodeAvatarMD+"+notify", nodeAvatarMD)
	plain := newTestCaps(nodeAvatarMD)

	alice := ts.login(t, "alice", "phone")
	alice.SendRaw("<presence/>")
	bob := ts.login(t, "bob", "pc")
	bob.SendRaw(interested.presence())
	answerCaps(t, bob, interested)
	bobOld := ts.login(t, "bob", "old") // no +notify: no notifications
	bobOld.SendRaw(plain.presence())
	answerCaps(t, bobOld, plain)
	dave := ts.login(t, "dave", "pc") // interested, but not subscribed to alice
	dave.SendRaw(interested.presence())
	none(t, dave, "a caps query for a known ver", func(el *stanza.Element) bool { return el.Name == "iq" && el.Type() == "get" })

	// account disco: alice's bare JID is a PEP service.
	bob.SendRaw("<iq type='get' id='d1' to='alice@localhost'><query xmlns='" + stanza.NSDiscoInfo + "'/></iq>")
	d := bob.Expect("account disco", xmpptest.IsIQResult("d1")).Child(stanza.NSDiscoInfo, "query")
	if !strings.Contains(d.String(), "category=\"pubsub\"") && !strings.Contains(d.String(), "pubsub") {
		t.Fatalf("account disco without pubsub/pep: %v", d)
	}

	publishAvatarMeta(t, alice, "p1", "hash1")
	bob.Expect("the avatar notification", isAvatarEvent("alice@localhost", "hash1"))
	none(t, bobOld, "a notification without +notify", isAvatarEvent("alice@localhost", "hash1"))
	none(t, dave, "a notification without a subscription", isAvatarEvent("alice@localhost", "hash1"))

	// retrieval: bob may, dave may not (presence access model).
	if r := avatarItems(t, bob, "i1", "alice@localhost"); r.Type() != "result" || !strings.Contains(r.String(), "hash1") {
		t.Fatalf("bob's items request: %v", r)
	}
	if r := avatarItems(t, dave, "i2", "alice@localhost"); errorCondition(r) != "not-authorized" {
		t.Fatalf("dave's items request: %v, want not-authorized", r)
	}

	// a new device of bob with the same (now known) caps gets the last item at once.
	bobNew := ts.login(t, "bob", "tablet")
	bobNew.SendRaw(interested.presence())
	bobNew.Expect("the last item at login", isAvatarEvent("alice@localhost", "hash1"))

	// alice's photo for nobody: requests refused, notifications stopped.
	setPrivacy(t, alice, "pr", "photo", "nobody")
	if r := avatarItems(t, bob, "i3", "alice@localhost"); errorCondition(r) != "forbidden" {
		t.Fatalf("items with photo nobody: %v, want forbidden", r)
	}
	publishAvatarMeta(t, alice, "p2", "hash2")
	none(t, bob, "an avatar notification with photo nobody", isAvatarEvent("alice@localhost", "hash2"))
	if r := avatarItems(t, alice, "i4", "alice@localhost"); !strings.Contains(r.String(), "hash2") {
		t.Fatalf("alice's own items: %v", r)
	}
}

func TestPEPOwnNodesBookmarksWhitelistAndRetract(t *testing.T) {
	ts := startServer(t, nil)
	privacyUsers(t, ts)
	caps := newTestCaps("urn:xmpp:bookmarks:1+notify", "urn:xmpp:bookmarks:1")
	phone := ts.login(t, "alice", "phone")
	phone.SendRaw(caps.presence())
	answerCaps(t, phone, caps)
	laptop := ts.login(t, "alice", "laptop")
	laptop.SendRaw(caps.presence())
	bob := ts.login(t, "bob", "pc")
	bob.SendRaw(caps.presence())

	opts := "<publish-options><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'><value>http://jabber.org/protocol/pubsub#publish-options</value></field>" +
		"<field var='pubsub#persist_items'><value>true</value></field><field var='pubsub#max_items'><value>max</value></field>" +
		"<field var='pubsub#send_last_published_item'><value>never</value></field><field var='pubsub#access_model'><value>whitelist</value></field></x></publish-options>"
	for _, room := range []string{"a@conf.localhost", "b@conf.localhost"} {
		phone.SendRaw("<iq type='set' id='bm-" + room + "'><pubsub xmlns='" + nsPubSub + "'><publish node='urn:xmpp:bookmarks:1'><item id='" + room +
			"'><conference xmlns='urn:xmpp:bookmarks:1' name='" + room + "' autojoin='true'/></item></publish>" + opts + "</pubsub></iq>")
		if r := phone.Expect("bookmark", xmpptest.IsIQResult("bm-"+room)); r.Type() != "result" {
			t.Fatalf("bookmark publish: %v", r)
		}
		laptop.Expect("bookmark notification on the laptop", func(el *stanza.Element) bool {
			return el.Child(nsPubSubEvent, "event") != nil && strings.Contains(el.String(), room)
		})
	}
	none(t, bob, "a notification of a whitelisted node", func(el *stanza.Element) bool { return el.Child(nsPubSubEvent, "event") != nil })
	phone.SendRaw("<iq type='get' id='all'><pubsub xmlns='" + nsPubSub + "'><items node='urn:xmpp:bookmarks:1'/></pubsub></iq>")
	if r := phone.Expect("all bookmarks", xmpptest.IsIQResult("all")); strings.Count(r.String(), "conference") != 2 {
		t.Fatalf("bookmarks: %v, want both (max_items max)", r)
	}
	bob.SendRaw("<iq type='get' id='bb' to='alice@localhost'><pubsub xmlns='" + nsPubSub + "'><items node='urn:xmpp:bookmarks:1'/></pubsub></iq>")
	if r := bob.Expect("bob reads bookmarks", xmpptest.IsIQResult("bb")); errorCondition(r) != "not-allowed" {
		t.Fatalf("bob reading alice's bookmarks: %v, want not-allowed", r)
	}
	phone.SendRaw("<iq type='set' id='rt'><pubsub xmlns='" + nsPubSub + "'><retract node='urn:xmpp:bookmarks:1' notify='true'><item id='a@conf.localhost'/></retract></pubsub></iq>")
	phone.Expect("retract", xmpptest.IsIQResult("rt"))
	laptop.Expect("retract notification", func(el *stanza.Element) bool {
		ev := el.Child(nsPubSubEvent, "event")
		return ev != nil && ev.Child(nsPubSubEvent, "items").Child(nsPubSubEvent, "retract") != nil
	})
}

// TestPEPOneCapsQueryForDevicesAnnouncingTheSameCaps: a second device that
// announces the same caps while the first is being asked is not asked
// again, and gets its notifications once the first device answered.
func TestPEPOneCapsQueryForDevicesAnnouncingTheSameCaps(t *testing.T) {
	ts := startServer(t, nil)
	privacyUsers(t, ts)
	caps := newTestCaps("urn:xmpp:bookmarks:1+notify", "urn:xmpp:bookmarks:1")
	phone := ts.login(t, "alice", "phone")
	laptop := ts.login(t, "alice", "laptop")
	phone.SendRaw(caps.presence())
	phone.Expect("the phone's own presence", func(el *stanza.Element) bool { return el.Name == "presence" })
	laptop.SendRaw(caps.presence())
	laptop.Expect("the laptop's own presence", func(el *stanza.Element) bool {
		return el.Name == "presence" && el.Attr("from") == laptop.JID
	})
	answerCaps(t, phone, caps)
	none(t, laptop, "a second caps query", func(el *stanza.Element) bool {
		return el.Name == "iq" && el.Type() == "get" && el.Child(stanza.NSDiscoInfo, "query") != nil
	})
	phone.SendRaw("<iq type='set' id='bm'><pubsub xmlns='" + nsPubSub + "'><publish node='urn:xmpp:bookmarks:1'><item id='r@conf.localhost'>" +
		"<conference xmlns='urn:xmpp:bookmarks:1' name='r' autojoin='true'/></item></publish></pubsub></iq>")
	phone.Expect("bookmark", xmpptest.IsIQResult("bm"))
	laptop.Expect("the bookmark notification on the laptop", func(el *stanza.Element) bool {
		return el.Child(nsPubSubEvent, "event") != nil && strings.Contains(el.String(), "r@conf.localhost")
	})
}
