package client_test

import (
	"context"
	"testing"
	"time"

	"github.com/parley-im/parley/client"
	"github.com/parley-im/parley/internal/servertest"
)

// alice asks for bob's presence: her roster lists him as asked, then, once
// bob approves, with subscription "to"; his lists her with "from".
func TestRosterFollowsSubscriptions(t *testing.T) {
	srv := servertest.Start(t, nil)
	srv.AddUser(t, "alice@localhost", "pw-alice")
	srv.AddUser(t, "bob@localhost", "pw-bob")
	alice := dial(t, srv, "alice@localhost/phone", "pw-alice")
	bob := dial(t, srv, "bob@localhost/phone", "pw-bob")
	for _, c := range []*client.Client{alice, bob} {
		if err := c.SetPresence("", ""); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	if items, err := alice.Roster(ctx); err != nil || len(items) != 0 {
		t.Fatalf("alice's roster before: %v %v", items, err)
	}
	if err := alice.Subscribe("bob@localhost"); err != nil {
		t.Fatal(err)
	}
	next(t, bob, func(p *client.Presence) bool { return p.Type == "subscribe" })
	items, err := alice.Roster(ctx)
	if err != nil || len(items) != 1 || items[0].JID != "bob@localhost" || items[0].Subscription != "none" || !items[0].Asked {
		t.Fatalf("alice's roster after asking: %+v %v", items, err)
	}

	if err := bob.ApproveSubscription("alice@localhost"); err != nil {
		t.Fatal(err)
	}
	next(t, alice, func(p *client.Presence) bool { return p.Type == "subscribed" })
	items, err = alice.Roster(ctx)
	if err != nil || len(items) != 1 || items[0].JID != "bob@localhost" || items[0].Subscription != "to" || items[0].Asked {
		t.Fatalf("alice's roster after approval: %+v %v", items, err)
	}
	items, err = bob.Roster(ctx)
	if err != nil || len(items) != 1 || items[0].JID != "alice@localhost" || items[0].Subscription != "from" {
		t.Fatalf("bob's roster: %+v %v", items, err)
	}
}
