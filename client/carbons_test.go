package client_test

import (
	"context"
	"testing"
	"time"

	"github.com/parley-im/parley/client"
	"github.com/parley-im/parley/internal/servertest"
)

// TestEnableCarbons: a password login gets no carbons until it asks; then
// it sees what the account's other device sends (message and read marker).
func TestEnableCarbons(t *testing.T) {
	srv := servertest.Start(t, nil)
	srv.AddUser(t, "alice@localhost", "pw-alice")
	srv.AddUser(t, "bob@localhost", "pw-bob")
	phone := dial(t, srv, "alice@localhost/phone", "pw-alice", binary(srv))
	laptop := dial(t, srv, "alice@localhost/laptop", "pw-alice", binary(srv))
	bob := dial(t, srv, "bob@localhost/phone", "pw-bob", binary(srv))
	for _, c := range []*client.Client{phone, laptop, bob} {
		if err := c.SetPresence("", ""); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	before, err := laptop.SendMessage("bob@localhost", "before carbons")
	if err != nil {
		t.Fatal(err)
	}
	next(t, bob, func(m *client.Message) bool { return m.ID == before })
	// The server's "sent" ack comes after routing is done, carbons included:
	// only then does enabling carbons on the phone come after "before".
	next(t, laptop, func(s *client.Sent) bool { return s.ID == before })
	if err := phone.EnableCarbons(ctx); err != nil {
		t.Fatal(err)
	}
	after, err := laptop.SendMessage("bob@localhost", "after carbons")
	if err != nil {
		t.Fatal(err)
	}
	m := next(t, phone, func(m *client.Message) bool { return m.Carbon == "sent" })
	if m.ID != after || m.Body != "after carbons" {
		t.Fatalf("the first carbon is %+v, want the message sent after enabling", m)
	}
	next(t, bob, func(m *client.Message) bool { return m.ID == after })
	hi, err := bob.SendMessage("alice@localhost", "hi alice")
	if err != nil {
		t.Fatal(err)
	}
	in := next(t, laptop, func(m *client.Message) bool { return m.ID == hi })
	if err := laptop.SendDisplayed("bob@localhost", in.ID); err != nil { // read on the laptop...
		t.Fatal(err)
	}
	mk := next(t, phone, func(mk *client.Marker) bool { return mk.Carbon == "sent" }) // ...is read on the phone
	if mk.ID != hi || mk.To != "bob@localhost" {
		t.Fatalf("marker carbon %+v", mk)
	}
}
