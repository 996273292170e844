package client_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/parley-im/parley/client"
	"github.com/parley-im/parley/internal/servertest"
)

// groupBodies collects the group messages c gets until it has had each of
// want, counted by body.
func groupBodies(t *testing.T, c *client.Client, group string, want ...string) map[string]int {
	t.Helper()
	got := map[string]int{}
	for _, w := range want {
		for got[w] == 0 {
			m := next(t, c, func(m *client.Message) bool { return m.Group == group })
			got[m.Body]++
		}
	}
	return got
}

// sentAndCopy waits for c's "sent" ack of message id and its own copy
// with body, in either order.
func sentAndCopy(t *testing.T, c *client.Client, id, body string) (*client.Sent, *client.Message) {
	t.Helper()
	var sent *client.Sent
	var own *client.Message
	for timeout := time.After(10 * time.Second); sent == nil || own == nil; {
		select {
		case e := <-c.Events():
			switch e := e.(type) {
			case *client.Sent:
				if e.ID == id {
					sent = e
				}
			case *client.Message:
				if e.Body == body {
					own = e
				}
			}
		case <-timeout:
			t.Fatalf("%s got sent ack %+v and copy %+v", c.JID(), sent, own)
		}
	}
	return sent, own
}

// TestGroupOverBothEncodings: alice (binary) creates a group with bob
// (binary), carol (XML) and dave (offline); her post is acknowledged with
// the group's stanza-id, and reaches each member once, marked with the
// group and its sender; dave gets it at login; after his removal bob gets
// no more.
func TestGroupOverBothEncodings(t *testing.T) {
	srv := servertest.Start(t, nil)
	for _, u := range []string{"alice", "bob", "carol", "dave"} {
		srv.AddUser(t, u+"@localhost", "pw-"+u)
	}
	alice := dial(t, srv, "alice@localhost/phone", "pw-alice", binary(srv))
	bob := dial(t, srv, "bob@localhost/phone", "pw-bob", binary(srv))
	carol := dial(t, srv, "carol@localhost/phone", "pw-carol", xml)
	for _, c := range []*client.Client{alice, bob, carol} {
		if err := c.SetPresence("", ""); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	g, err := alice.CreateGroup(ctx, "Climbing", "bob@localhost", "carol@localhost", "dave@localhost")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(g.JID, "@groups.localhost") || len(g.Members) != 4 || g.Owner != "alice@localhost" || g.MaxMembers != 1024 {
		t.Fatalf("created %+v", g)
	}
	id, err := alice.SendGroupMessage(g.JID, "rope?")
	if err != nil {
		t.Fatal(err)
	}
	// alice's "sent" ack and her own copy come by two paths (her session's
	// answer once the post is stored, the fan-out's live delivery with no
	// queue write): either may arrive first.
	sent, own := sentAndCopy(t, alice, id, "rope?")
	if sent.StanzaID == "" {
		t.Fatalf("sent ack without the group's stanza-id: %+v", sent)
	}
	for _, c := range []*client.Client{alice, bob, carol} {
		m := own
		if c != alice {
			m = next(t, c, func(m *client.Message) bool { return m.Body == "rope?" })
		}
		if m.Group != g.JID || m.Sender != "alice@localhost" || m.StanzaID != sent.StanzaID || m.ID != id {
			t.Fatalf("%s got %+v", c.JID(), m)
		}
	}

	// Receipts go to alice only, and make the message info.
	if err := bob.SendReceipt(g.JID, id); err != nil {
		t.Fatal(err)
	}
	if err := carol.SendDisplayed(g.JID, id); err != nil {
		t.Fatal(err)
	}
	// bob's receipt and carol's marker come from two sessions: either may
	// arrive first.
	var rc *client.Receipt
	var mk *client.Marker
	for timeout := time.After(10 * time.Second); rc == nil || mk == nil; {
		select {
		case e := <-alice.Events():
			switch e := e.(type) {
			case *client.Receipt:
				rc = e
			case *client.Marker:
				mk = e
			}
		case <-timeout:
			t.Fatalf("alice got receipt %+v and marker %+v", rc, mk)
		}
	}
	if rc.From != g.JID+"/bob@localhost" || len(rc.IDs) != 1 || rc.IDs[0] != id {
		t.Fatalf("alice got receipt %+v", rc)
	}
	if mk.From != g.JID+"/carol@localhost" || mk.ID != id {
		t.Fatalf("alice got marker %+v", mk)
	}
	mi, err := alice.MessageInfo(ctx, g.JID, id)
	if err != nil {
		t.Fatal(err)
	}
	if mi.Sender != "alice@localhost" || len(mi.Receipts) != 2 || mi.DeliveredAll || mi.DisplayedAll ||
		mi.Receipts[0].JID != "bob@localhost" || !mi.Receipts[0].Displayed.IsZero() || mi.Receipts[1].Displayed.IsZero() {
		t.Fatalf("message info before dave: %+v", mi)
	}

	dave := dial(t, srv, "dave@localhost/phone", "pw-dave", binary(srv))
	if err := dave.SetPresence("", ""); err != nil {
		t.Fatal(err)
	}
	if got := groupBodies(t, dave, g.JID, "rope?"); got["rope?"] != 1 {
		t.Fatalf("dave got %v", got)
	}

	if err := alice.RemoveMember(ctx, g.JID, "bob@localhost"); err != nil {
		t.Fatal(err)
	}
	ev := next(t, bob, func(m *client.Message) bool { return m.GroupEvent == "removed" })
	if ev.Group != g.JID || ev.Sender != "" {
		t.Fatalf("removal event %+v", ev)
	}
	if _, err := alice.SendGroupMessage(g.JID, "without bob"); err != nil {
		t.Fatal(err)
	}
	if got := groupBodies(t, carol, g.JID, "without bob"); got["rope?"] != 0 {
		t.Fatalf("carol got the first message again: %v", got)
	}
	if got := groupBodies(t, dave, g.JID, "without bob"); got["rope?"] != 0 {
		t.Fatalf("dave got the first message again: %v", got)
	}
	if err := carol.LeaveGroup(ctx, g.JID); err != nil {
		t.Fatal(err)
	}
	info, err := alice.GroupInfo(ctx, g.JID)
	if err != nil || len(info.Members) != 2 {
		t.Fatalf("info after bob's removal and carol's leaving: %+v, %v", info, err)
	}
	if _, err := bob.GroupInfo(ctx, g.JID); err == nil || !strings.Contains(err.Error(), "forbidden") {
		t.Fatalf("bob's info request after his removal: %v", err)
	}
	// By now carol and dave had "without bob": bob's copy, if any, would
	// have been delivered in the same fan-out.
	for {
		select {
		case e := <-bob.Events():
			if m, ok := e.(*client.Message); ok && m.Body == "without bob" {
				t.Fatalf("bob got a message after his removal: %+v", m)
			}
		case <-time.After(200 * time.Millisecond):
			return
		}
	}
}
