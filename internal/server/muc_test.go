package server

import (
	"fmt"
	"strings"
	"testing"

	"github.com/parley-im/parley/internal/config"
	"github.com/parley-im/parley/internal/feature/groups"
	"github.com/parley-im/parley/internal/stanza"
	"github.com/parley-im/parley/internal/xmpptest"
)

// Transcripts of the MUC view's details over XML streams (XEP-0045,
// XEP-0410): discovery, self-ping, subject, configuration and muc#admin,
// and the refusals with their conditions.

func iqAnswer(t *testing.T, c *xmpptest.Client, typ, to, payload string) *stanza.Element {
	t.Helper()
	id := fmt.Sprintf("q%d", len(payload)*7919+len(to))
	c.SendRaw(fmt.Sprintf("<iq type='%s' id='%s' to='%s'>%s</iq>", typ, id, to, payload))
	return c.Expect("answer to "+payload, xmpptest.IsIQResult(id))
}

func condition(el *stanza.Element) string {
	if e := el.Child(stanza.NSClient, "error"); e != nil {
		for _, c := range e.Children {
			if c.Space == stanza.NSStanzaErr && c.Name != "text" {
				return c.Name
			}
		}
	}
	return ""
}

func features(el *stanza.Element) map[string]bool {
	out := map[string]bool{}
	if q := el.Child(stanza.NSDiscoInfo, "query"); q != nil {
		for _, f := range q.Children {
			if f.Name == "feature" {
				out[f.Attr("var")] = true
			}
		}
	}
	return out
}

// joinXML joins c to room as nick and waits for the subject (the end of
// the join).
func joinXML(t *testing.T, c *xmpptest.Client, room, nick string) *stanza.Element {
	t.Helper()
	c.SendRaw(fmt.Sprintf("<presence to='%s/%s'><x xmlns='%s'/></presence>", room, nick, groups.NSMUC))
	self := c.Expect("self-presence", func(el *stanza.Element) bool {
		x := el.Child(groups.NSMUCUser, "x")
		return el.Name == "presence" && x != nil && strings.Contains(x.String(), "110")
	})
	c.Expect("the subject", func(el *stanza.Element) bool {
		return el.Name == "message" && el.Child(stanza.NSClient, "subject") != nil
	})
	return self
}

func TestMUCDiscoSelfPingSubjectAndAdmin(t *testing.T) {
	ts := startServer(t, nil)
	groupUsers(t, ts, "alice", "bob", "mallory")
	alice, bob, mallory := online(t, ts, "alice"), online(t, ts, "bob"), online(t, ts, "mallory")
	room := "crew@" + groupsService

	// The server lists the service; the service is a MUC service.
	items := iqAnswer(t, alice, "get", "localhost", "<query xmlns='"+stanza.NSDiscoItems+"'/>")
	if !strings.Contains(items.String(), groupsService) {
		t.Fatalf("server disco#items: %v", items)
	}
	if f := features(iqAnswer(t, alice, "get", groupsService, "<query xmlns='"+stanza.NSDiscoInfo+"'/>")); !f[groups.NSMUC] {
		t.Fatalf("service disco#info: %v", f)
	}
	// A room that does not exist: item-not-found (clients then create it by joining).
	if c := condition(iqAnswer(t, alice, "get", room, "<query xmlns='"+stanza.NSDiscoInfo+"'/>")); c != "item-not-found" {
		t.Fatalf("disco#info of no room: %q", c)
	}
	joinXML(t, alice, room, "alice@localhost")
	f := features(iqAnswer(t, alice, "get", room, "<query xmlns='"+stanza.NSDiscoInfo+"'/>"))
	for _, v := range []string{groups.NSMUC, "muc_persistent", "muc_membersonly", "muc_nonanonymous", "urn:xmpp:mam:2",
		"http://jabber.org/protocol/muc#self-ping-optimization"} {
		if !f[v] {
			t.Errorf("room disco#info lacks %s: %v", v, f)
		}
	}

	// XEP-0410: alice's self-ping succeeds; bob, not joined, gets not-acceptable.
	if r := iqAnswer(t, alice, "get", room+"/alice@localhost", "<ping xmlns='urn:xmpp:ping'/>"); r.Type() != "result" {
		t.Errorf("alice's self-ping: %v", r)
	}
	if c := condition(iqAnswer(t, bob, "get", room+"/bob@localhost", "<ping xmlns='urn:xmpp:ping'/>")); c != "not-acceptable" {
		t.Errorf("bob's self-ping before joining: %q", c)
	}

	// muc#admin: bob becomes a member; the member list shows both.
	mustResult(t, iqAnswer(t, alice, "set", room, "<query xmlns='"+groups.NSMUCAdmin+"'><item affiliation='member' jid='bob@localhost'/></query>"))
	list := iqAnswer(t, alice, "get", room, "<query xmlns='"+groups.NSMUCAdmin+"'><item affiliation='member'/></query>")
	if !strings.Contains(list.String(), "bob@localhost") {
		t.Errorf("member list: %v", list)
	}
	// A member cannot change affiliations or the subject; a non-member cannot join.
	joinXML(t, bob, room, "bob")
	if c := condition(iqAnswer(t, bob, "set", room, "<query xmlns='"+groups.NSMUCAdmin+"'><item affiliation='none' jid='alice@localhost'/></query>")); c != "forbidden" {
		t.Errorf("bob changing an affiliation: %q", c)
	}
	bob.SendRaw("<message to='" + room + "' type='groupchat' id='s1'><subject>mine</subject></message>")
	if e := bob.Expect("the refusal", func(el *stanza.Element) bool { return el.Attr("id") == "s1" }); condition(e) != "forbidden" {
		t.Errorf("bob's subject change: %v", e)
	}
	mallory.SendRaw("<presence to='" + room + "/m'><x xmlns='" + groups.NSMUC + "'/></presence>")
	if e := mallory.Expect("the refusal", func(el *stanza.Element) bool { return el.Name == "presence" && el.Type() == "error" }); condition(e) != "registration-required" {
		t.Errorf("mallory's join: %v", e)
	}

	// alice sets the subject: both occupants get it, with no body.
	alice.SendRaw("<message to='" + room + "' type='groupchat'><subject>Crew</subject></message>")
	for name, c := range map[string]*xmpptest.Client{"alice": alice, "bob": bob} {
		m := c.Expect(name+": the subject", func(el *stanza.Element) bool { return el.ChildText(stanza.NSClient, "subject") == "Crew" })
		if m.Body() != "" || m.Attr("from") != room+"/alice@localhost" {
			t.Errorf("%s got %v", name, m)
		}
	}
	// The configuration form: a group cannot be made open.
	form := iqAnswer(t, alice, "get", room, "<query xmlns='"+groups.NSMUCOwner+"'/>")
	if !strings.Contains(form.String(), "muc#roomconfig_membersonly") {
		t.Fatalf("config form: %v", form)
	}
	open := "<query xmlns='" + groups.NSMUCOwner + "'><x xmlns='jabber:x:data' type='submit'>" +
		"<field var='muc#roomconfig_membersonly'><value>0</value></field></x></query>"
	if c := condition(iqAnswer(t, alice, "set", room, open)); c != "not-acceptable" {
		t.Errorf("an open room: %q", c)
	}
	named := "<query xmlns='" + groups.NSMUCOwner + "'><x xmlns='jabber:x:data' type='submit'>" +
		"<field var='muc#roomconfig_roomname'><value>The crew</value></field></x></query>"
	mustResult(t, iqAnswer(t, alice, "set", room, named))
	if info := iqAnswer(t, bob, "get", room, "<info xmlns='"+groups.NS+"'/>"); info.Child(groups.NS, "info").Attr("subject") != "The crew" {
		t.Errorf("the room name is the group's subject: %v", info)
	}
	// A private message through the room is refused.
	bob.SendRaw("<message to='" + room + "/alice@localhost' type='chat' id='pm'><body>psst</body></message>")
	if e := bob.Expect("the refusal", func(el *stanza.Element) bool { return el.Attr("id") == "pm" }); condition(e) != "not-acceptable" {
		t.Errorf("a private message: %v", e)
	}
	// Bad input gets the conditions XEP-0045 names.
	bob.SendRaw("<presence to='" + room + "'><x xmlns='" + groups.NSMUC + "'/></presence>")
	if e := bob.Expect("no nickname", func(el *stanza.Element) bool { return el.Name == "presence" && el.Type() == "error" }); condition(e) != "jid-malformed" {
		t.Errorf("a join without a nickname: %v", e)
	}
	if c := condition(iqAnswer(t, alice, "set", room, "<query xmlns='"+groups.NSMUCAdmin+"'><item affiliation='king' jid='bob@localhost'/></query>")); c != "bad-request" {
		t.Errorf("an unknown affiliation: %q", c)
	}
	if c := condition(iqAnswer(t, alice, "set", room, "<query xmlns='"+groups.NSMUCAdmin+"'><item role='visitor' nick='bob@localhost'/></query>")); c != "not-allowed" {
		t.Errorf("a role change: %q", c)
	}
	if c := condition(iqAnswer(t, alice, "set", room, "<query xmlns='"+groups.NSMUCAdmin+"'><item affiliation='owner' jid='bob@localhost'/></query>")); c != "not-allowed" {
		t.Errorf("a second owner: %q", c)
	}
	if c := condition(iqAnswer(t, alice, "get", room, "<query xmlns='urn:example:nothing'/>")); c != "service-unavailable" {
		t.Errorf("an unknown namespace: %q", c)
	}
	// A presence update goes to the other occupants and back to the device.
	alice.SendRaw("<presence to='" + room + "/alice@localhost'><show>away</show></presence>")
	for name, c := range map[string]*xmpptest.Client{"alice": alice, "bob": bob} {
		p := c.Expect(name+": alice away", func(el *stanza.Element) bool {
			return el.Name == "presence" && el.Attr("from") == room+"/alice@localhost" && el.ChildText(stanza.NSClient, "show") == "away"
		})
		if self := strings.Contains(p.String(), "110"); self != (name == "alice") {
			t.Errorf("%s got %v", name, p)
		}
	}
	// bob leaves: alice sees him go.
	bob.SendRaw("<presence type='unavailable' to='" + room + "/bob@localhost'/>")
	alice.Expect("bob leaves", func(el *stanza.Element) bool {
		return el.Name == "presence" && el.Type() == "unavailable" && el.Attr("from") == room+"/bob@localhost"
	})
}

// TestMUCNoServerHistoryNoRoomArchive: with --no-server-history a room
// keeps no archive: no mam:2 in its disco#info, no logging status (170),
// and a MAM query is service-unavailable.
func TestMUCNoServerHistoryNoRoomArchive(t *testing.T) {
	ts := startServer(t, func(c *config.Config) { c.NoServerHistory = true })
	groupUsers(t, ts, "alice")
	alice := online(t, ts, "alice")
	room := "quiet@" + groupsService
	self := joinXML(t, alice, room, "alice")
	if strings.Contains(self.String(), "170") {
		t.Errorf("self-presence says the room is logged: %v", self)
	}
	post(alice, room, "q1", "not kept")
	alice.Expect("the post", xmpptest.IsMessageWithBody("not kept"))
	if f := features(iqAnswer(t, alice, "get", room, "<query xmlns='"+stanza.NSDiscoInfo+"'/>")); f["urn:xmpp:mam:2"] {
		t.Errorf("room disco#info offers MAM: %v", f)
	}
	if c := condition(iqAnswer(t, alice, "set", room, "<query xmlns='urn:xmpp:mam:2'/>")); c != "service-unavailable" {
		t.Errorf("a MAM query: %q", c)
	}
}

// TestMUCJoinOfALargeRoomKeepsTheDevice: joining a room whose occupants
// outnumber the mailbox limit delivers them all; the burst answers the
// device's own join and must not disconnect it as a slow reader. The limit
// (11) is under the burst (11 occupants, the device's own presence and the
// subject) and over what the others get meanwhile: with 8, the owner, sent
// a presence at each of the ten joins, was disconnected as a slow reader
// about once in 80 runs on a busy machine, before its runner drained them.
func TestMUCJoinOfALargeRoomKeepsTheDevice(t *testing.T) {
	const mailbox, members = 11, 12
	ts := startServer(t, func(c *config.Config) { c.MailboxSize = mailbox })
	room := "big@" + groupsService
	names := make([]string, members)
	for i := range names {
		names[i] = fmt.Sprintf("m%02d", i)
		groupUsers(t, ts, names[i])
	}
	// The members are added while only the owner is online, and the owner
	// has the group's system messages of those changes before the joins
	// (its own post, reflected after them in the group's order): a wave of
	// them handed to it at once (more than the mailbox's limit on a
	// busy machine) would count against its mailbox with the joins' presences,
	// and disconnect it as a slow reader. The others get theirs from their
	// queues when they log in.
	owner := online(t, ts, names[0])
	joinXML(t, owner, room, names[0]+"@localhost") // creates the room
	for _, name := range names[1:] {
		mustResult(t, iqAnswer(t, owner, "set", room, "<query xmlns='"+groups.NSMUCAdmin+"'><item affiliation='member' jid='"+name+"@localhost'/></query>"))
	}
	owner.SendRaw("<message type='groupchat' to='" + room + "'><body>after the additions</body></message>")
	owner.Expect("its own post, after the additions' system messages", func(el *stanza.Element) bool {
		return el.Name == "message" && el.ChildText(stanza.NSClient, "body") == "after the additions"
	})
	clients := []*xmpptest.Client{owner}
	for _, name := range names[1:] {
		clients = append(clients, online(t, ts, name))
	}
	for _, c := range clients[1 : members-1] {
		joinXML(t, c, room, strings.Split(c.JID, "/")[0])
	}
	last := clients[members-1]
	last.SendRaw(fmt.Sprintf("<presence to='%s/%s'><x xmlns='%s'/></presence>", room, "last", groups.NSMUC))
	seen := map[string]bool{}
	last.Expect("self-presence after every occupant", func(el *stanza.Element) bool {
		x := el.Child(groups.NSMUCUser, "x")
		if el.Name != "presence" || x == nil {
			return false
		}
		if strings.Contains(x.String(), "110") {
			return true
		}
		seen[el.Attr("from")] = true
		return false
	})
	if len(seen) != members-1 {
		t.Fatalf("the joining device saw %d occupants before itself, want %d: %v", len(seen), members-1, seen)
	}
	last.Expect("the subject", func(el *stanza.Element) bool {
		return el.Name == "message" && el.Child(stanza.NSClient, "subject") != nil
	})
	if r := iqAnswer(t, last, "get", "localhost", "<ping xmlns='urn:xmpp:ping'/>"); r.Type() != "result" {
		t.Fatalf("the device after joining: %v", r)
	}
}
