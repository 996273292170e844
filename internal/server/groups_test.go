package server

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/parley-im/parley/internal/config"
	"github.com/parley-im/parley/internal/feature/groups"
	"github.com/parley-im/parley/internal/stanza"
	"github.com/parley-im/parley/internal/store/postgres/pgtest"
	"github.com/parley-im/parley/internal/xmpptest"
)

// Groups over XML streams (docs/protocol/groups.md): transcripts of
// members creating, posting, leaving and joining by link.

const groupsService = "groups.localhost"

// groupUsers creates accounts with their name as password suffix.
func groupUsers(t *testing.T, ts *testServer, names ...string) {
	for _, n := range names {
		ts.addUser(t, n, "pw-"+n)
	}
}

// online logs a user in and sends available presence (so that the
// offline queue drains and live messages arrive).
func online(t *testing.T, ts *testServer, user string) *xmpptest.Client {
	c := ts.login(t, user, "phone")
	c.SendRaw("<presence/>")
	return c
}

// groupIQ sends an iq of type typ with payload to to and returns the
// answer; " NS" in payload stands for the groups namespace declaration.
func groupIQ(t *testing.T, c *xmpptest.Client, typ, to, payload string) *stanza.Element {
	t.Helper()
	id := fmt.Sprintf("g%d", time.Now().UnixNano())
	payload = strings.Replace(payload, " NS", " xmlns='"+groups.NS+"'", 1)
	c.SendRaw(fmt.Sprintf("<iq type='%s' id='%s' to='%s'>%s</iq>", typ, id, to, payload))
	return c.Expect("answer "+id, xmpptest.IsIQResult(id))
}

func mustResult(t *testing.T, r *stanza.Element) *stanza.Element {
	t.Helper()
	if r.Type() != "result" {
		t.Fatalf("want a result, got %v", r)
	}
	return r
}

// createGroup has c create a group with members and returns its address.
func createGroup(t *testing.T, c *xmpptest.Client, subject string, members ...string) string {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "<create NS subject='%s'>", subject)
	for _, m := range members {
		fmt.Fprintf(&b, "<member jid='%s@localhost'/>", m)
	}
	b.WriteString("</create>")
	r := mustResult(t, groupIQ(t, c, "set", groupsService, b.String()))
	return r.Child(groups.NS, "info").Attr("jid")
}

// createGroupSeeingEvent is createGroup, which also waits for the
// creator's copy of the created event: the iq's answer and the event
// (handed to a live member without a queue write) come by two paths, in
// either order.
func createGroupSeeingEvent(t *testing.T, c *xmpptest.Client, subject string, members ...string) string {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "<create xmlns='%s' subject='%s'>", groups.NS, subject)
	for _, m := range members {
		fmt.Fprintf(&b, "<member jid='%s@localhost'/>", m)
	}
	b.WriteString("</create>")
	c.SendRaw(fmt.Sprintf("<iq type='set' id='create' to='%s'>%s</iq>", groupsService, b.String()))
	var g string
	event := false
	for g == "" || !event {
		el := c.Expect("the group's creation and its created event", func(el *stanza.Element) bool {
			return xmpptest.IsIQResult("create")(el) || el.Child(groups.NS, "event") != nil
		})
		if el.Name == "iq" {
			g = mustResult(t, el).Child(groups.NS, "info").Attr("jid")
		} else {
			event = true
		}
	}
	return g
}

func post(c *xmpptest.Client, group, id, body string) {
	c.SendRaw(fmt.Sprintf("<message to='%s' type='groupchat' id='%s'><body>%s</body></message>", group, id, body))
}

// bodiesUntil collects the group messages c receives, counted by body,
// until it has had each of want at least once.
func bodiesUntil(t *testing.T, c *xmpptest.Client, group string, want ...string) (map[string]int, []*stanza.Element) {
	t.Helper()
	got := map[string]int{}
	var els []*stanza.Element
	missing := func() bool {
		for _, w := range want {
			if got[w] == 0 {
				return true
			}
		}
		return false
	}
	for missing() {
		el := c.Expect(fmt.Sprintf("group messages %q", want), func(el *stanza.Element) bool {
			return el.Name == "message" && el.Type() == "groupchat"
		})
		if !strings.HasPrefix(el.Attr("from"), group) {
			t.Fatalf("a groupchat message not from %s: %v", group, el)
		}
		got[el.Body()]++
		els = append(els, el)
	}
	return got, els
}

func errorText(el *stanza.Element) string {
	if e := el.Child(stanza.NSClient, "error"); e != nil {
		return e.ChildText("urn:ietf:params:xml:ns:xmpp-stanzas", "text")
	}
	return ""
}

// TestGroups01ThreeMembersEachGetEachMessageOnce: alice creates a group
// with bob and carol; each posts; every member gets every message once,
// from group/sender with a <sender/> element and the group's stanza-id.
func TestGroups01ThreeMembersEachGetEachMessageOnce(t *testing.T) {
	ts := startServer(t, nil)
	groupUsers(t, ts, "alice", "bob", "carol")
	alice, bob, carol := online(t, ts, "alice"), online(t, ts, "bob"), online(t, ts, "carol")
	g := createGroup(t, alice, "Climbing", "bob", "carol")
	if !strings.HasSuffix(g, "@"+groupsService) {
		t.Fatalf("group address %q", g)
	}
	post(alice, g, "a1", "from alice")
	post(bob, g, "b1", "from bob")
	post(carol, g, "c1", "from carol")
	three := []string{"from alice", "from bob", "from carol"}
	seen, _ := bodiesUntil(t, alice, g, three...)
	post(alice, g, "a2", "end") // after the three in the group's order
	for name, c := range map[string]*xmpptest.Client{"alice": alice, "bob": bob, "carol": carol} {
		want := append(three, "end")
		if name == "alice" {
			want = []string{"end"}
		}
		got, els := bodiesUntil(t, c, g, want...)
		if name == "alice" {
			for b, n := range seen {
				got[b] += n
			}
		}
		for _, body := range append(three, "end") {
			if got[body] != 1 {
				t.Errorf("%s got %q %d times (all: %v)", name, body, got[body], got)
			}
		}
		for _, el := range els {
			if el.Body() == "from alice" && (el.Attr("from") != g+"/alice@localhost" ||
				el.Child(groups.NS, "sender").Attr("jid") != "alice@localhost" || el.Attr("to") != name+"@localhost" ||
				el.Child(stanza.NSSID, "stanza-id") == nil) {
				t.Errorf("%s got %v", name, el)
			}
		}
	}
	none(t, bob, "a second copy", xmpptest.IsMessageWithBody("end"))
}

// TestGroups02OfflineMemberGetsItAtLoginOnce: carol is offline when alice
// posts; at login the message is in her offline queue, once.
func TestGroups02OfflineMemberGetsItAtLoginOnce(t *testing.T) {
	ts := startServer(t, nil)
	groupUsers(t, ts, "alice", "bob", "carol")
	alice, bob := online(t, ts, "alice"), online(t, ts, "bob")
	g := createGroup(t, alice, "Family", "bob", "carol")
	post(alice, g, "a1", "while carol sleeps")
	bob.Expect("the message", xmpptest.IsMessageWithBody("while carol sleeps"))
	carol := online(t, ts, "carol")
	got, _ := bodiesUntil(t, carol, g, "while carol sleeps")
	if got["while carol sleeps"] != 1 {
		t.Fatalf("carol got %v", got)
	}
	post(alice, g, "a2", "good morning")
	got, _ = bodiesUntil(t, carol, g, "good morning")
	if len(got) != 1 {
		t.Fatalf("carol got more than the new message: %v", got)
	}
}

// TestGroups03AdminsOnlyAndNonMembers: in admins-only mode bob's post is
// refused with not-allowed and a text; dave, no member, gets forbidden.
func TestGroups03AdminsOnlyAndNonMembers(t *testing.T) {
	ts := startServer(t, nil)
	groupUsers(t, ts, "alice", "bob", "dave")
	alice, bob, dave := online(t, ts, "alice"), online(t, ts, "bob"), online(t, ts, "dave")
	g := createGroup(t, alice, "News", "bob")
	mustResult(t, groupIQ(t, alice, "set", g, "<configure NS admins-only='true'/>"))
	r := groupIQ(t, bob, "set", g, "<configure NS admins-only='false'/>")
	if r.Type() != "error" || errorCondition(r) != "forbidden" {
		t.Fatalf("bob configuring: %v", r)
	}
	post(bob, g, "b1", "may I?")
	e := bob.Expect("the refusal", func(el *stanza.Element) bool { return el.Name == "message" && el.ID() == "b1" })
	if e.Type() != "error" || errorCondition(e) != "not-allowed" || errorText(e) != "only admins can post in this group" {
		t.Fatalf("bob's post: %v", e)
	}
	post(dave, g, "d1", "let me in")
	e = dave.Expect("the refusal", func(el *stanza.Element) bool { return el.Name == "message" && el.ID() == "d1" })
	if e.Type() != "error" || errorCondition(e) != "forbidden" || errorText(e) != "you are not a member of this group" {
		t.Fatalf("dave's post: %v", e)
	}
	post(alice, g, "a1", "admins may")
	bob.Expect("alice's post", xmpptest.IsMessageWithBody("admins may"))
	none(t, bob, "a refused message", xmpptest.IsMessageWithBody("may I?"))
}

// TestGroups04RemovedMemberGetsNoMore: alice removes bob; bob learns it
// and gets nothing posted afterwards; carol does.
func TestGroups04RemovedMemberGetsNoMore(t *testing.T) {
	ts := startServer(t, nil)
	groupUsers(t, ts, "alice", "bob", "carol")
	alice, bob, carol := online(t, ts, "alice"), online(t, ts, "bob"), online(t, ts, "carol")
	g := createGroup(t, alice, "Team", "bob", "carol")
	mustResult(t, groupIQ(t, alice, "set", g, "<remove NS jid='bob@localhost'/>"))
	ev := bob.Expect("the removal", func(el *stanza.Element) bool {
		return el.Child(groups.NS, "event") != nil &&
			el.Child(groups.NS, "event").Attr("type") == "removed"
	})
	if ev.Child(groups.NS, "event").Attr("jid") != "bob@localhost" || ev.Child(groups.NS, "event").Attr("by") != "alice@localhost" {
		t.Fatalf("removal event %v", ev)
	}
	post(alice, g, "a1", "after bob")
	post(alice, g, "a2", "barrier")
	carol.Expect("the barrier", xmpptest.IsMessageWithBody("barrier"))
	none(t, bob, "a message after his removal", func(el *stanza.Element) bool { return el.Name == "message" && el.Body() != "" })
	post(bob, g, "b1", "still here?")
	e := bob.Expect("the refusal", func(el *stanza.Element) bool { return el.Name == "message" && el.ID() == "b1" })
	if errorCondition(e) != "forbidden" {
		t.Fatalf("bob's post after removal: %v", e)
	}
	r := groupIQ(t, bob, "get", g, "<info NS/>")
	if errorCondition(r) != "forbidden" {
		t.Fatalf("bob's info after removal: %v", r)
	}
	info := mustResult(t, groupIQ(t, carol, "get", g, "<info NS/>")).Child(groups.NS, "info")
	if n := len(info.Children); n != 2 {
		t.Fatalf("carol sees %d members: %v", n, info)
	}
}

// TestGroups05InviteLinkJoinsUntilRevoked: dave joins by alice's link and
// gets the next message; once revoked the link lets no one in.
func TestGroups05InviteLinkJoinsUntilRevoked(t *testing.T) {
	ts := startServer(t, nil)
	groupUsers(t, ts, "alice", "bob", "dave", "erin")
	alice, bob, dave, erin := online(t, ts, "alice"), online(t, ts, "bob"), online(t, ts, "dave"), online(t, ts, "erin")
	g := createGroup(t, alice, "Open", "bob")
	r := groupIQ(t, bob, "set", g, "<invite NS/>")
	if errorCondition(r) != "forbidden" {
		t.Fatalf("bob (no admin) made a link: %v", r)
	}
	token := mustResult(t, groupIQ(t, alice, "set", g, "<invite NS/>")).Child(groups.NS, "invite").Attr("token")
	joined := mustResult(t, groupIQ(t, dave, "set", groupsService, "<join NS token='"+token+"'/>"))
	if joined.Child(groups.NS, "joined").Attr("jid") != g {
		t.Fatalf("join result %v", joined)
	}
	alice.Expect("the join event", func(el *stanza.Element) bool {
		return el.Child(groups.NS, "event") != nil &&
			el.Child(groups.NS, "event").Attr("type") == "joined"
	})
	post(alice, g, "a1", "welcome dave")
	dave.Expect("the welcome", xmpptest.IsMessageWithBody("welcome dave"))
	mustResult(t, groupIQ(t, alice, "set", g, "<revoke-invite NS token='"+token+"'/>"))
	r = groupIQ(t, erin, "set", groupsService, "<join NS token='"+token+"'/>")
	if r.Type() != "error" || errorCondition(r) != "forbidden" || errorText(r) != "this invite link was revoked" {
		t.Fatalf("erin joined by a revoked link: %v", r)
	}
	r = groupIQ(t, erin, "set", groupsService, "<join NS token='nonsense'/>")
	if errorCondition(r) != "item-not-found" {
		t.Fatalf("erin joined by a made-up link: %v", r)
	}
	post(erin, g, "e1", "hi")
	e := erin.Expect("the refusal", func(el *stanza.Element) bool { return el.Name == "message" && el.ID() == "e1" })
	if errorCondition(e) != "forbidden" {
		t.Fatalf("erin posting: %v", e)
	}
}

// TestGroups06MemberLimit: with group_max_members 3, a fourth member is
// refused with resource-constraint.
func TestGroups06MemberLimit(t *testing.T) {
	ts := startServer(t, func(c *config.Config) { c.GroupMaxMembers = 3 })
	groupUsers(t, ts, "alice", "bob", "carol", "dave")
	alice := online(t, ts, "alice")
	g := createGroup(t, alice, "Small", "bob", "carol")
	r := groupIQ(t, alice, "set", g, "<add NS><member jid='dave@localhost'/></add>")
	if errorCondition(r) != "resource-constraint" {
		t.Fatalf("a fourth member: %v", r)
	}
}

// TestGroups07RestartWithFanOutPending: alice's post is acknowledged
// (stream management) while the fan-out worker is held; the server stops
// before fanning it out; after a restart every member gets it once.
func TestGroups07RestartWithFanOutPending(t *testing.T) {
	data := t.TempDir()
	onData := func(c *config.Config) { c.Data = data }
	ts := startServer(t, onData)
	groupUsers(t, ts, "alice", "bob", "carol")
	alice := online(t, ts, "alice")
	g := createGroupSeeingEvent(t, alice, "Durable", "bob", "carol")
	alice.Close()
	release := ts.groups.Hold()
	alice = ts.login(t, "alice", "phone", withSM)
	post(alice, g, "a1", "survives")
	alice.SendRaw("<r xmlns='urn:xmpp:sm:3'/>")
	alice.Expect("the ack", func(el *stanza.Element) bool { return el.Name == "a" && el.Attr("h") == "1" })
	ts.stop()
	release()

	ts = startServer(t, onData)
	for _, name := range []string{"bob", "carol", "alice"} {
		c := online(t, ts, name)
		got, _ := bodiesUntil(t, c, g, "survives")
		post(c, g, name+"-end", name+" end")
		got2, _ := bodiesUntil(t, c, g, name+" end")
		if got["survives"]+got2["survives"] != 1 {
			t.Errorf("%s got the message %d times", name, got["survives"]+got2["survives"])
		}
	}
}

// TestGroups08ReceiptsGoToTheSenderAndAreRecorded: bob's delivery receipt
// and carol's displayed marker reach alice only (from group/member); the
// group's <info id/> shows each member's state and the aggregate ticks.
func TestGroups08ReceiptsGoToTheSenderAndAreRecorded(t *testing.T) {
	ts := startServer(t, nil)
	groupUsers(t, ts, "alice", "bob", "carol")
	alice, bob, carol := online(t, ts, "alice"), online(t, ts, "bob"), online(t, ts, "carol")
	g := createGroup(t, alice, "Ticks", "bob", "carol")
	post(alice, g, "a1", "read me")
	bob.Expect("the post", xmpptest.IsMessageWithBody("read me"))
	carol.Expect("the post", xmpptest.IsMessageWithBody("read me"))
	bob.SendRaw("<message to='" + g + "'><received xmlns='urn:xmpp:receipts' id='a1'/></message>")
	r := alice.Expect("bob's receipt", func(el *stanza.Element) bool { return el.Child(stanza.NSReceipts, "received") != nil })
	if r.Attr("from") != g+"/bob@localhost" || r.Child(stanza.NSReceipts, "received").Attr("id") != "a1" {
		t.Fatalf("alice got %v", r)
	}
	carol.SendRaw("<message to='" + g + "' type='groupchat'><displayed xmlns='urn:xmpp:chat-markers:0' id='a1'/></message>")
	alice.Expect("carol's marker", func(el *stanza.Element) bool {
		return el.Child(stanza.NSMarkers, "displayed") != nil && el.Attr("from") == g+"/carol@localhost"
	})
	none(t, carol, "bob's receipt", func(el *stanza.Element) bool { return el.Child(stanza.NSReceipts, "received") != nil })
	none(t, bob, "carol's marker", func(el *stanza.Element) bool { return el.Child(stanza.NSMarkers, "displayed") != nil })

	rc := mustResult(t, groupIQ(t, alice, "get", g, "<info NS id='a1'/>")).Child(groups.NS, "receipts")
	if rc.Attr("sender") != "alice@localhost" || rc.Attr("delivered-all") != "true" || rc.Attr("displayed-all") != "false" || len(rc.Children) != 2 {
		t.Fatalf("receipts %v", rc)
	}
	b, c := rc.Children[0], rc.Children[1]
	if b.Attr("jid") != "bob@localhost" || b.Attr("delivered") == "" || b.HasAttr("displayed") ||
		c.Attr("jid") != "carol@localhost" || c.Attr("displayed") == "" {
		t.Fatalf("receipts %v", rc)
	}
	bob.SendRaw("<message to='" + g + "' type='groupchat'><displayed xmlns='urn:xmpp:chat-markers:0' id='a1'/></message>")
	alice.Expect("bob's marker", func(el *stanza.Element) bool { return el.Child(stanza.NSMarkers, "displayed") != nil })
	rc = mustResult(t, groupIQ(t, alice, "get", g, "<info NS id='a1'/>")).Child(groups.NS, "receipts")
	if rc.Attr("displayed-all") != "true" {
		t.Fatalf("after everyone read: %v", rc)
	}
	r = groupIQ(t, alice, "get", g, "<info NS id='nope'/>")
	if errorCondition(r) != "item-not-found" {
		t.Fatalf("receipts of an unknown message: %v", r)
	}
}

// TestGroupsOnPostgreSQL: on the PostgreSQL store, a post acknowledged
// while the fan-out is held reaches an offline member once through a new
// node on the same database.
func TestGroupsOnPostgreSQL(t *testing.T) {
	dsn := pgtest.Fresh(t)
	pg := func(c *config.Config) { c.Store = dsn }
	ts := startServer(t, pg)
	groupUsers(t, ts, "alice", "bob")
	alice := online(t, ts, "alice")
	g := createGroupSeeingEvent(t, alice, "Shared", "bob")
	alice.Close()
	release := ts.groups.Hold()
	alice = ts.login(t, "alice", "phone", withSM)
	post(alice, g, "a1", "on postgres")
	alice.SendRaw("<r xmlns='urn:xmpp:sm:3'/>")
	alice.Expect("the ack", func(el *stanza.Element) bool { return el.Name == "a" && el.Attr("h") == "1" })
	ts.stop()
	release()

	ts = startServer(t, pg)
	bob := online(t, ts, "bob")
	got, _ := bodiesUntil(t, bob, g, "on postgres")
	post(bob, g, "b1", "bob end")
	got2, _ := bodiesUntil(t, bob, g, "bob end")
	if got["on postgres"]+got2["on postgres"] != 1 {
		t.Fatalf("bob got it %d times", got["on postgres"]+got2["on postgres"])
	}
	// The group archive (MAM on the room) is in PostgreSQL too.
	bob.SendRaw("<iq type='set' id='mam1' to='" + g + "'><query xmlns='urn:xmpp:mam:2' queryid='r1'/></iq>")
	bob.Expect("the archived post", func(el *stanza.Element) bool {
		return el.Name == "message" && strings.Contains(el.String(), "on postgres") && strings.Contains(el.String(), "r1")
	})
	bob.Expect("the end of the page", xmpptest.IsIQResult("mam1"))
}
