package client_test

import (
	"testing"
	"time"

	"github.com/parley-im/parley/client"
	"github.com/parley-im/parley/internal/servertest"
)

// TestBinaryProtocolExtensions: over the binary protocol every stored
// message gets an explicit ack with the server's stanza-id and time, a
// login announces the offline queue before delivering it and marks its
// end, and one receipt acknowledges several messages.
func TestBinaryProtocolExtensions(t *testing.T) {
	srv := servertest.Start(t, nil)
	srv.AddUser(t, "alice@localhost", "pw-alice")
	srv.AddUser(t, "bob@localhost", "pw-bob")
	alice := dial(t, srv, "alice@localhost/phone", "pw-alice", binary(srv))

	before := time.Now().Add(-time.Second)
	var ids []string
	for _, body := range []string{"one", "two", "three"} {
		id, err := alice.SendMessage("bob@localhost", body)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	stanzaIDs := map[string]string{}
	for _, id := range ids {
		s := next(t, alice, func(s *client.Sent) bool { return s.ID == id })
		if s.StanzaID == "" || s.Time.Before(before) || s.Time.After(time.Now().Add(time.Second)) {
			t.Fatalf("explicit ack %+v", s)
		}
		stanzaIDs[id] = s.StanzaID
	}

	bob := dial(t, srv, "bob@localhost/phone", "pw-bob", binary(srv))
	if err := bob.SetPresence("", ""); err != nil {
		t.Fatal(err)
	}
	if p := next(t, bob, func(*client.OfflinePreview) bool { return true }); p.Count != 3 {
		t.Fatalf("offline preview %+v, want 3", p)
	}
	var got []string
	for range 3 {
		m := next(t, bob, func(*client.Message) bool { return true })
		if m.StanzaID != stanzaIDs[m.ID] {
			t.Fatalf("bob's copy has stanza-id %q, alice's ack said %q", m.StanzaID, stanzaIDs[m.ID])
		}
		got = append(got, m.ID)
	}
	next(t, bob, func(*client.OfflineDone) bool { return true })
	if err := bob.SendReceipts("alice@localhost/phone", got...); err != nil {
		t.Fatal(err)
	}
	r := next(t, alice, func(*client.Receipt) bool { return true })
	if len(r.IDs) != 3 || r.IDs[0] != ids[0] || r.IDs[2] != ids[2] {
		t.Fatalf("multi-id receipt %+v, want %v", r, ids)
	}
}

// TestXMPPClientsGetNoExtensions: an XML client gets its ticks from
// stream management, no Parley nonzas, and a standard receipt from a
// multi-id one.
func TestXMPPClientsGetNoExtensions(t *testing.T) {
	srv := servertest.Start(t, nil)
	srv.AddUser(t, "alice@localhost", "pw-alice")
	srv.AddUser(t, "bob@localhost", "pw-bob")
	alice := dial(t, srv, "alice@localhost/phone", "pw-alice") // XML
	bob := dial(t, srv, "bob@localhost/phone", "pw-bob", binary(srv))
	if err := bob.SetPresence("", ""); err != nil {
		t.Fatal(err)
	}
	id, _ := alice.SendMessage("bob@localhost", "hi")
	if s := next(t, alice, func(s *client.Sent) bool { return s.ID == id }); s.StanzaID != "" {
		t.Fatalf("XML client got an explicit ack: %+v", s)
	}
	m := next(t, bob, func(*client.Message) bool { return true })
	if err := bob.SendReceipts("alice@localhost/phone", "earlier", m.ID); err != nil {
		t.Fatal(err)
	}
	// The client library reads the multi-id form on XML too; the standard
	// receipt inside names the last id for other XMPP apps.
	if r := next(t, alice, func(*client.Receipt) bool { return true }); len(r.IDs) != 2 || r.IDs[1] != id {
		t.Fatalf("receipt %+v", r)
	}
	alice2 := dial(t, srv, "alice@localhost/laptop", "pw-alice")
	if err := alice2.SetPresence("", ""); err != nil {
		t.Fatal(err)
	}
	select {
	case e := <-alice2.Events():
		for e != nil {
			if _, ok := e.(*client.OfflinePreview); ok {
				t.Fatal("an XML client got an offline preview")
			}
			select {
			case e = <-alice2.Events():
			case <-time.After(300 * time.Millisecond):
				e = nil
			}
		}
	case <-time.After(300 * time.Millisecond):
	}
}
