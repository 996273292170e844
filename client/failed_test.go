package client_test

import (
	"testing"
	"time"

	"github.com/parley-im/parley/client"
	"github.com/parley-im/parley/internal/servertest"
)

// TestRefusedMessagesFail: a message to an account that does not exist,
// or to another server's domain, gets a MessageFailed with the server's
// condition and no Sent tick, over both encodings; a message to an
// account that exists (offline) still gets its Sent tick.
func TestRefusedMessagesFail(t *testing.T) {
	for _, enc := range []string{"xml", "binary"} {
		t.Run(enc, func(t *testing.T) {
			srv := servertest.Start(t, nil)
			srv.AddUser(t, "alice@localhost", "pw-alice")
			srv.AddUser(t, "bob@localhost", "pw-bob")
			tweak := xml
			if enc == "binary" {
				tweak = binary(srv)
			}
			refusedMessages(t, dial(t, srv, "alice@localhost/phone", "pw-alice", tweak))
		})
	}
}

func refusedMessages(t *testing.T, alice *client.Client) {
	want := map[string]client.MessageFailed{
		"nobody@localhost":    {To: "nobody@localhost", Condition: "service-unavailable"},
		"someone@example.com": {To: "someone@example.com", Condition: "remote-server-not-found", Text: "this server talks to no other server"},
	}
	ids := map[string]string{} // message id: recipient
	for to := range want {
		id, err := alice.SendMessage(to, "hello?")
		if err != nil {
			t.Fatal(err)
		}
		ids[id] = to
	}
	good, err := alice.SendMessage("bob@localhost", "hi bob")
	if err != nil {
		t.Fatal(err)
	}
	// The acks come in order: once bob's message has its tick, the server
	// has answered the two before it.
	failed := map[string]client.MessageFailed{}
	for sent := false; !sent; {
		switch e := nextEvent(t, alice).(type) {
		case *client.Sent:
			if ids[e.ID] != "" {
				t.Errorf("a sent tick for the message to %s", ids[e.ID])
			}
			sent = e.ID == good
		case *client.MessageFailed:
			failed[ids[e.ID]] = client.MessageFailed{To: e.To, Condition: e.Condition, Text: e.Text}
		}
	}
	// The server's stream-management ack covering the refused messages
	// may come after bob's tick (over the binary protocol, where bob's is
	// explicit): it is in by the ping's answer, and must tick nothing.
	if _, err := alice.Ping(ctx10(t)); err != nil {
		t.Fatal(err)
	}
	for len(alice.Events()) > 0 {
		if e, ok := (<-alice.Events()).(*client.Sent); ok && ids[e.ID] != "" {
			t.Errorf("a late sent tick for the message to %s", ids[e.ID])
		}
	}
	for to, w := range want {
		if failed[to] != w {
			t.Errorf("message to %s: failure %+v, want %+v", to, failed[to], w)
		}
	}
}

// nextEvent returns c's next event.
func nextEvent(t *testing.T, c *client.Client) client.Event {
	t.Helper()
	select {
	case e, ok := <-c.Events():
		if !ok {
			t.Fatalf("%s: events closed", c.JID())
		}
		return e
	case <-time.After(10 * time.Second):
		t.Fatalf("%s: no event", c.JID())
		return nil
	}
}
