package server

import (
	"context"
	"crypto/tls"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/parley-im/parley/client"
)

// TestRealClientsBinaryClientAndSlixmppChat: one server, two encodings.
// bob uses Parley's Go client over the binary protocol, alice is slixmpp
// over XMPP; messages, receipts (a multi-id one included), markers and
// typing go both ways, and bob gets explicit "sent" acks.
func TestRealClientsBinaryClientAndSlixmppChat(t *testing.T) {
	t.Parallel()
	needSlixmpp(t)
	ts := startServer(t, nil)
	ts.addUser(t, "alice", "pw-alice")
	ts.addUser(t, "bob", "pw-bob")
	slix := slixAgent(t, ts, "alice", "laptop")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	bob, err := client.Dial(ctx, client.Options{JID: "bob@localhost/phone", Password: "pw-bob", Addr: ts.addrs.Native,
		TLS: &tls.Config{InsecureSkipVerify: true}})
	if err != nil {
		t.Fatal(err)
	}
	defer bob.Close()
	if err := bob.SetPresence("", ""); err != nil {
		t.Fatal(err)
	}
	slix.send("<presence/>")
	slix.do(map[string]any{"cmd": "iq", "xml": "<iq type='get' to='localhost' id='sync'><ping xmlns='urn:xmpp:ping'/></iq>"})
	slix.expect("ping result (a barrier)", isEvent("iq_result"))

	// slixmpp -> binary
	slix.send(fmt.Sprintf("<message to='bob@localhost' type='chat' id='s1'><body>hello from slixmpp</body>"+
		"<request xmlns='%s'/><markable xmlns='%s'/></message>", nsReceipts, nsMarkers))
	m := nextEvent(t, bob, func(m *client.Message) bool { return m.Body == "hello from slixmpp" })
	if m.ID != "s1" || !m.WantsReceipt || !m.Markable || m.StanzaID == "" || !strings.HasPrefix(m.From, "alice@localhost/laptop") {
		t.Fatalf("bob got %+v", m)
	}
	must(t, bob.SendReceipt(m.From, m.ID))
	must(t, bob.SendDisplayed(m.From, m.ID))
	must(t, bob.SendChatState("alice@localhost", "composing"))
	slix.expect("bob's receipt", func(o observation) bool { return o.has(nsReceipts, "received") && strings.Contains(o.XML, "s1") })
	slix.expect("bob's displayed marker", func(o observation) bool { return o.has(nsMarkers, "displayed") && strings.Contains(o.XML, "s1") })
	slix.expect("bob's typing", msgWithChild(nsChatStates, "composing"))

	// binary -> slixmpp
	id, err := bob.SendMessage("alice@localhost", "hello from the binary protocol")
	must(t, err)
	if s := nextEvent(t, bob, func(s *client.Sent) bool { return s.ID == id }); s.StanzaID == "" {
		t.Fatalf("no explicit ack: %+v", s)
	}
	got := slix.expect("bob's message", msgWithBody("hello from the binary protocol"))
	if !got.has(nsReceipts, "request") || !got.has(nsMarkers, "markable") || got.ID != id {
		t.Fatalf("slixmpp got %s", got.XML)
	}
	slix.send(fmt.Sprintf("<message to='%s' id='r1'><received xmlns='%s' id='%s'/></message>", got.From, nsReceipts, id))
	slix.send(fmt.Sprintf("<message to='bob@localhost' type='chat' id='d1'><displayed xmlns='%s' id='%s'/></message>", nsMarkers, id))
	slix.send(fmt.Sprintf("<message to='bob@localhost' type='chat'><paused xmlns='%s'/></message>", nsChatStates))
	if r := nextEvent(t, bob, func(*client.Receipt) bool { return true }); len(r.IDs) != 1 || r.IDs[0] != id {
		t.Fatalf("receipt %+v", r)
	}
	if mk := nextEvent(t, bob, func(*client.Marker) bool { return true }); mk.Kind != "displayed" || mk.ID != id {
		t.Fatalf("marker %+v", mk)
	}
	nextEvent(t, bob, func(cs *client.ChatState) bool { return cs.State == "paused" })

	// A multi-id receipt reaches an XMPP app as a standard one (last id).
	must(t, bob.SendReceipts("alice@localhost/laptop", "s0", "s1"))
	r := slix.expect("the multi-id receipt", func(o observation) bool {
		return o.has(nsReceipts, "received") && strings.Contains(o.XML, "urn:parley:0")
	})
	if !strings.Contains(r.XML, "id=\"s1\"") && !strings.Contains(r.XML, "id='s1'") {
		t.Fatalf("standard receipt should name the last id: %s", r.XML)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func nextEvent[T client.Event](t *testing.T, c *client.Client, match func(T) bool) T {
	t.Helper()
	timeout := time.After(expectTimeout)
	for {
		select {
		case e, ok := <-c.Events():
			if !ok {
				t.Fatal("events closed")
			}
			if v, ok := e.(T); ok && match(v) {
				return v
			}
		case <-timeout:
			var zero T
			t.Fatalf("timed out waiting for %T", zero)
			return zero
		}
	}
}
