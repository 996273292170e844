package server

import (
	"context"
	"crypto/tls"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parley-im/parley/client"
)

// Groups as MUC rooms (XEP-0045) for XMPP apps, driven with slixmpp's
// xep_0045 plugin: docs/protocol/groups.md, "XMPP apps".

const nsMUCUser = "http://jabber.org/protocol/muc#user"

// mucAgent logs user in with slixmpp's MUC plugin, available.
func mucAgent(t *testing.T, ts *testServer, user string, flags ...string) *agent {
	t.Helper()
	a := slixAgent(t, ts, user, "gajim", append([]string{"--muc"}, flags...)...)
	a.send("<presence/>")
	return a
}

// join has a join room with nick and returns the joined event.
func (a *agent) join(room, nick string) observation {
	a.t.Helper()
	a.do(map[string]any{"cmd": "join", "room": room, "nick": nick})
	o := a.expect("joined "+room, func(o observation) bool { return o.Event == "joined" || o.Event == "join_error" })
	if o.Event != "joined" {
		a.t.Fatalf("%s could not join %s: %s", a.name, room, o.line)
	}
	return o
}

func (o observation) strings(key string) []string {
	var out []string
	if l, ok := o.raw[key].([]any); ok {
		for _, v := range l {
			switch v := v.(type) {
			case string:
				out = append(out, v)
			case float64:
				out = append(out, fmt.Sprint(v))
			}
		}
	}
	return out
}

// groupchat matches a groupchat message from room with body.
func groupchat(room, body string) func(observation) bool {
	return func(o observation) bool {
		return o.Event == "stanza" && o.Kind == "message" && o.Type == "groupchat" &&
			strings.HasPrefix(o.From, room+"/") && o.body() == body
	}
}

// TestMUCSlixmppCreateByJoiningThreeMembers: alice creates a room by
// joining it (status 201; her nickname becomes her bare JID, 210),
// accepts the configuration form, makes bob and carol members with
// muc#admin; they join; each posts once and each of the three gets each
// message exactly once, as a groupchat message from room/sender.
func TestMUCSlixmppCreateByJoiningThreeMembers(t *testing.T) {
	t.Parallel()
	needSlixmpp(t)
	ts := startServer(t, nil)
	groupUsers(t, ts, "alice", "bob", "carol")
	room := "climbing@" + groupsService
	alice, bob, carol := mucAgent(t, ts, "alice"), mucAgent(t, ts, "bob"), mucAgent(t, ts, "carol")

	j := alice.join(room, "Alice")
	codes := j.strings("codes")
	for _, c := range []string{"110", "100", "201", "210"} {
		if !slices.Contains(codes, c) {
			t.Errorf("alice's self-presence lacks status %s: %v", c, j.line)
		}
	}
	if j.raw["nick"] != "alice@localhost" {
		t.Errorf("alice's nickname = %v, want her bare JID", j.raw["nick"])
	}
	alice.do(map[string]any{"cmd": "configure", "room": room})
	alice.expect("the configuration accepted", isEvent("configured"))
	for _, m := range []string{"bob", "carol"} {
		alice.do(map[string]any{"cmd": "affiliation", "room": room, "jid": m + "@localhost", "affiliation": "member"})
		alice.expect(m+" made a member", func(o observation) bool { return o.Event == "affiliation_set" || o.Event == "affiliation_error" })
	}
	if o, _ := find(alice.all(isEvent("affiliation_error")), func(observation) bool { return true }); o.Event != "" {
		t.Fatalf("muc#admin refused: %s", o.line)
	}
	jb := bob.join(room, "bob")
	if !slices.Contains(jb.strings("occupants"), room+"/alice@localhost") {
		t.Errorf("bob does not see alice in the room: %s", jb.line)
	}
	carol.join(room, "carol")
	alice.expect("carol's presence", func(o observation) bool {
		return o.Kind == "presence" && o.From == room+"/carol@localhost" && o.has(nsMUCUser, "x")
	})

	all := map[string]*agent{"alice": alice, "bob": bob, "carol": carol}
	for name, a := range all {
		a.do(map[string]any{"cmd": "muc_send", "room": room, "body": "hi from " + name, "id": "m-" + name})
	}
	for name, a := range all {
		for sender := range all {
			got := a.expect(name+" gets "+sender+"'s message", groupchat(room, "hi from "+sender))
			if got.From != room+"/"+sender+"@localhost" || !strings.Contains(got.XML, "urn:xmpp:sid:0") {
				t.Errorf("%s got %s", name, got.line)
			}
		}
	}
	alice.do(map[string]any{"cmd": "muc_send", "room": room, "body": "end", "id": "m-end"})
	for name, a := range all {
		a.expect(name+" gets the end", groupchat(room, "end"))
		for sender := range all {
			if n := a.countMatching(groupchat(room, "hi from "+sender), false); n != 1 {
				t.Errorf("%s got %s's message %d times", name, sender, n)
			}
		}
	}
}

// TestMUCBinaryPostReachesXMPPAndOfflineMembers: dave posts with Parley's
// Go client over the binary protocol; bob, joined with slixmpp, gets it
// as a groupchat message from room/dave; carol, offline when it was sent,
// gets it once at login. bob's post from slixmpp reaches dave as a group
// message. Then dave removes bob: bob's device leaves the
// room (status 321) and gets no further messages.
func TestMUCBinaryPostReachesXMPPAndOfflineMembers(t *testing.T) {
	t.Parallel()
	needSlixmpp(t)
	ts := startServer(t, nil)
	groupUsers(t, ts, "dave", "bob", "carol")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dave, err := client.Dial(ctx, client.Options{JID: "dave@localhost/phone", Password: "pw-dave", Addr: ts.addrs.Native,
		TLS: &tls.Config{InsecureSkipVerify: true}})
	if err != nil {
		t.Fatal(err)
	}
	defer dave.Close()
	must(t, dave.SetPresence("", ""))
	g, err := dave.CreateGroup(ctx, "Band", "bob@localhost", "carol@localhost")
	must(t, err)
	bob := mucAgent(t, ts, "bob")
	bob.join(g.JID, "bob")

	_, err = dave.SendGroupMessage(g.JID, "rehearsal at 8")
	must(t, err)
	got := bob.expect("dave's post", groupchat(g.JID, "rehearsal at 8"))
	if got.From != g.JID+"/dave@localhost" {
		t.Errorf("bob got %s", got.line)
	}
	carol := mucAgent(t, ts, "carol")
	carol.expect("the post from the offline queue", groupchat(g.JID, "rehearsal at 8"))

	// The other way: bob's groupchat message from slixmpp is a group post
	// that dave, on the binary protocol, gets with WhatsApp semantics.
	bob.do(map[string]any{"cmd": "muc_send", "room": g.JID, "body": "I'll bring the amp", "id": "amp"})
	m := nextEvent(t, dave, func(m *client.Message) bool { return m.Body == "I'll bring the amp" })
	if m.Group != g.JID || m.Sender != "bob@localhost" || m.ID != "amp" || m.StanzaID == "" {
		t.Errorf("dave got %+v", m)
	}
	carol.expect("bob's post", groupchat(g.JID, "I'll bring the amp"))

	must(t, dave.RemoveMember(ctx, g.JID, "bob@localhost"))
	bob.expect("bob out of the room (321)", func(o observation) bool {
		return o.Kind == "presence" && o.Type == "unavailable" && strings.Contains(o.XML, "code=\"321\"")
	})
	_, err = dave.SendGroupMessage(g.JID, "after bob")
	must(t, err)
	carol.expect("the next post", groupchat(g.JID, "after bob"))
	if n := bob.countMatching(groupchat(g.JID, "after bob"), false); n != 0 {
		t.Errorf("bob, removed, got the next post %d times", n)
	}
	if n := carol.countMatching(groupchat(g.JID, "rehearsal at 8"), false); n != 1 {
		t.Errorf("carol got the first post %d times", n)
	}
}

// TestMUCRoomArchiveFromJoinTime: MAM on the room's address returns the
// group's messages from the time the requester joined, not before; a
// non-member is refused.
func TestMUCRoomArchiveFromJoinTime(t *testing.T) {
	t.Parallel()
	needSlixmpp(t)
	ts := startServer(t, nil)
	groupUsers(t, ts, "alice", "bob", "eve")
	room := "history@" + groupsService
	alice := mucAgent(t, ts, "alice", "--mam")
	alice.join(room, "alice")
	alice.do(map[string]any{"cmd": "muc_send", "room": room, "body": "before bob", "id": "h1"})
	alice.expect("her first post", groupchat(room, "before bob"))
	time.Sleep(5 * time.Millisecond) // bob's join time is after the first post's
	alice.do(map[string]any{"cmd": "affiliation", "room": room, "jid": "bob@localhost", "affiliation": "member"})
	alice.expect("bob made a member", isEvent("affiliation_set"))
	alice.do(map[string]any{"cmd": "muc_send", "room": room, "body": "after bob", "id": "h2"})
	alice.expect("her second post", groupchat(room, "after bob"))

	alice.do(map[string]any{"cmd": "mam", "to": room, "max": 10})
	page := alice.expect("alice's page", func(o observation) bool { return o.Event == "mam_page" || o.Event == "mam_error" })
	if b := page.strings("bodies"); !slices.Contains(b, "before bob") || !slices.Contains(b, "after bob") {
		t.Errorf("alice's page: %s", page.line)
	}
	bob := mucAgent(t, ts, "bob", "--mam")
	bob.do(map[string]any{"cmd": "mam", "to": room, "max": 10})
	page = bob.expect("bob's page", func(o observation) bool { return o.Event == "mam_page" || o.Event == "mam_error" })
	if b := page.strings("bodies"); slices.Contains(b, "before bob") || !slices.Contains(b, "after bob") {
		t.Errorf("bob's page (from his join on): %s", page.line)
	}
	if ids := page.strings("ids"); len(ids) == 0 || page.strings("stanza_ids")[len(ids)-1] != ids[len(ids)-1] {
		t.Errorf("archive ids are not the room's stanza-ids: %s", page.line)
	}
	eve := mucAgent(t, ts, "eve", "--mam")
	eve.do(map[string]any{"cmd": "mam", "to": room, "max": 10})
	if o := eve.expect("eve's answer", func(o observation) bool { return o.Event == "mam_page" || o.Event == "mam_error" }); o.Condition != "forbidden" {
		t.Errorf("a non-member's query: %s", o.line)
	}
	eve.do(map[string]any{"cmd": "join", "room": room, "nick": "eve"})
	if o := eve.expect("eve's join refused", func(o observation) bool { return o.Event == "joined" || o.Event == "join_error" }); o.Event != "join_error" || o.Condition != "registration-required" {
		t.Errorf("a non-member's join: %s", o.line)
	}
}
