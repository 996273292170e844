package server

import (
	"context"
	"crypto/tls"
	"fmt"
	"testing"
	"time"

	"github.com/parley-im/parley/client"
	"github.com/parley-im/parley/internal/feature/groups"
	"github.com/parley-im/parley/internal/stanza"
	"github.com/parley-im/parley/internal/xmpptest"
)

// TestGroupsReceiptsBatchedForTheSender: 20 members each send a delivery
// receipt and a read marker for alice's post within a moment; alice gets
// them in a few <batch/> stanzas, not 40 (her laptop, XML, counts the
// stanzas), and her phone, on the binary protocol with Parley's Go
// client, gets each member's receipt and marker exactly once as events.
func TestGroupsReceiptsBatchedForTheSender(t *testing.T) {
	const n = 20
	ts := startServer(t, nil)
	groupUsers(t, ts, "alice")
	names := make([]string, n)
	jids := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("m%02d", i)
		jids[i] = names[i] + "@localhost"
		groupUsers(t, ts, names[i])
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	phone, err := client.Dial(ctx, client.Options{JID: "alice@localhost/phone", Password: "pw-alice", Addr: ts.addrs.Native,
		TLS: &tls.Config{InsecureSkipVerify: true}})
	must(t, err)
	defer phone.Close()
	must(t, phone.SetPresence("", ""))
	laptop := ts.login(t, "alice", "laptop")
	laptop.SendRaw("<presence/>")
	g, err := phone.CreateGroup(ctx, "Big", jids...)
	must(t, err)
	members := make([]*xmpptest.Client, n)
	for i, name := range names {
		members[i] = online(t, ts, name)
	}
	id, err := phone.SendGroupMessage(g.JID, "tick me")
	must(t, err)
	for i, m := range members {
		m.Expect(names[i]+": the post", xmpptest.IsMessageWithBody("tick me"))
	}
	for _, m := range members {
		m.SendRaw(fmt.Sprintf("<message to='%s'><received xmlns='urn:xmpp:receipts' id='%s'/></message>", g.JID, id))
		m.SendRaw(fmt.Sprintf("<message to='%s' type='groupchat'><displayed xmlns='urn:xmpp:chat-markers:0' id='%s'/></message>", g.JID, id))
	}

	got := map[string]int{} // "member kind" -> times
	stanzas := 0
	for len(got) < 2*n {
		el := laptop.Expect("receipts", func(el *stanza.Element) bool {
			return el.Name == "message" && (el.Child(groups.NS, "batch") != nil || el.Child(groups.NS, "sender") != nil && el.Body() == "")
		})
		stanzas++
		if b := el.Child(groups.NS, "batch"); b != nil {
			for _, it := range b.Children {
				if it.Attr("id") == id {
					got[it.Attr("jid")+" "+it.Name]++
				}
			}
			continue
		}
		kind := "received"
		if el.Child(stanza.NSMarkers, "displayed") != nil {
			kind = "displayed"
		}
		got[el.Child(groups.NS, "sender").Attr("jid")+" "+kind]++
	}
	for k, times := range got {
		if times != 1 {
			t.Errorf("%s came %d times", k, times)
		}
	}
	if stanzas > n/2 {
		t.Errorf("%d receipts came in %d stanzas: not batched", 2*n, stanzas)
	}
	t.Logf("%d receipts in %d stanzas", 2*n, stanzas)

	received, displayed := map[string]int{}, map[string]int{}
	for len(received) < n || len(displayed) < n {
		select {
		case e := <-phone.Events():
			switch e := e.(type) {
			case *client.Receipt:
				received[e.From]++
			case *client.Marker:
				if e.Kind == "displayed" {
					displayed[e.From]++
				}
			}
		case <-time.After(expectTimeout):
			t.Fatalf("phone: %d receipts and %d markers of %d", len(received), len(displayed), n)
		}
	}
	for _, j := range jids {
		if received[g.JID+"/"+j] != 1 || displayed[g.JID+"/"+j] != 1 {
			t.Errorf("phone: %s's receipt %d times, marker %d times", j, received[g.JID+"/"+j], displayed[g.JID+"/"+j])
		}
	}
	mi, err := phone.MessageInfo(ctx, g.JID, id)
	must(t, err)
	if !mi.DeliveredAll || !mi.DisplayedAll || len(mi.Receipts) != n {
		t.Errorf("message info %+v", mi)
	}
}

// TestGroupsMarkerByRoomStanzaID: bob marks alice's post read by the
// room's stanza-id, as XEP-0333 advises group chats (and Conversations
// does); alice gets the marker under her own id and the message info
// counts it.
func TestGroupsMarkerByRoomStanzaID(t *testing.T) {
	ts := startServer(t, nil)
	groupUsers(t, ts, "alice", "bob")
	alice, bob := online(t, ts, "alice"), online(t, ts, "bob")
	g := createGroup(t, alice, "Marks", "bob")
	post(alice, g, "a1", "mark me")
	copyOf := bob.Expect("the post", xmpptest.IsMessageWithBody("mark me"))
	var gid string
	for _, c := range copyOf.Children {
		if c.Space == stanza.NSSID && c.Name == "stanza-id" && c.Attr("by") == g {
			gid = c.Attr("id")
		}
	}
	if gid == "" || gid == "a1" {
		t.Fatalf("no room stanza-id on %v", copyOf)
	}
	bob.SendRaw("<message to='" + g + "' type='groupchat'><displayed xmlns='urn:xmpp:chat-markers:0' id='" + gid + "'/></message>")
	m := alice.Expect("bob's marker", func(el *stanza.Element) bool { return el.Child(stanza.NSMarkers, "displayed") != nil })
	if m.Child(stanza.NSMarkers, "displayed").Attr("id") != "a1" || m.Attr("from") != g+"/bob@localhost" {
		t.Fatalf("alice got %v", m)
	}
	rc := mustResult(t, groupIQ(t, alice, "get", g, "<info NS id='a1'/>")).Child(groups.NS, "receipts")
	if rc.Attr("displayed-all") != "true" {
		t.Fatalf("message info %v", rc)
	}
}
