package roster

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/parley-im/parley/internal/stanza"
	"github.com/parley-im/parley/internal/store"
)

func TestItemElement(t *testing.T) {
	got := ItemElement(store.RosterItem{
		JID: bob, Name: "Bob", Groups: []string{"Friends", "Work"},
		Subscription: store.SubNone, AskOut: true, PreApproved: true, PendingIn: true, Hidden: true,
	}).String()
	want := `<item xmlns="jabber:iq:roster" jid="bob@example.org" name="Bob" subscription="none" ask="subscribe" approved="true">` +
		`<group>Friends</group><group>Work</group></item>`
	if got != want {
		t.Errorf("ItemElement:\n got %s\nwant %s", got, want)
	}
	got = ItemElement(store.RosterItem{JID: bob, Subscription: store.SubBoth, PreApproved: true}).String()
	if want := `<item xmlns="jabber:iq:roster" jid="bob@example.org" subscription="both"/>`; got != want {
		t.Errorf("ItemElement:\n got %s\nwant %s", got, want)
	}
}

func TestRosterSetGetAndVersioning(t *testing.T) {
	st := newMemStore()
	h := newHost(t, st)
	a := h.connect("alice/phone")

	first := h.getRoster(a, "")
	q := first.Child(stanza.NSRoster, "query")
	if q == nil || q.Attr("ver") != "0" || len(q.Children) != 0 {
		t.Fatalf("empty roster = %v, want <query ver='0'/>", first)
	}

	if err := h.setItem(a, []string{"Work", "Friends"}, "jid", "Bob@Example.org", "name", "Bob",
		"subscription", "both", "ask", "subscribe", "approved", "true"); err != nil {
		t.Fatal(err)
	}
	// The client cannot set subscription state: only name and groups count.
	it := a.expectPush(t, "jid", bob, "name", "Bob", "subscription", "none", "ask", "", "approved", "")
	if g := it.Children; len(g) != 2 || g[0].Text != "Friends" || g[1].Text != "Work" {
		t.Errorf("pushed groups %v, want Friends, Work", it)
	}
	a.expectNothing(t)

	// A hidden item (a pending request) is never shown.
	st.PutRosterItem(context.Background(), alice, store.RosterItem{JID: carol, Subscription: store.SubNone, PendingIn: true, Hidden: true})
	full := h.getRoster(a, "1")
	if got := rosterJIDs(full); !slices.Equal(got, []string{bob}) {
		t.Errorf("roster = %v, want only bob", got)
	}
	ver := full.Child(stanza.NSRoster, "query").Attr("ver")
	if ver != "2" {
		t.Errorf("ver = %q, want 2", ver)
	}
	// The client has the current version: empty result.
	if resp := h.getRoster(a, ver); len(resp.Children) != 0 || resp.Type() != "result" {
		t.Errorf("get with current ver = %v, want an empty result", resp)
	}

	// Update keeps the subscription state, replaces name and groups.
	st.PutRosterItem(context.Background(), alice, store.RosterItem{JID: bob, Name: "Bob", Subscription: store.SubTo})
	if err := h.setItem(a, nil, "jid", bob, "name", "Robert"); err != nil {
		t.Fatal(err)
	}
	a.expectPush(t, "jid", bob, "name", "Robert", "subscription", "to")

	// Adding the hidden contact makes it visible.
	if err := h.setItem(a, nil, "jid", carol); err != nil {
		t.Fatal(err)
	}
	a.expectPush(t, "jid", carol, "subscription", "none")
	if it, _ := item(t, st, alice, carol); it.Hidden || !it.PendingIn {
		t.Errorf("carol's item = %+v, want visible and still pending-in", it)
	}
}

func TestRosterPushGoesToInterestedResources(t *testing.T) {
	h := newHost(t, newMemStore())
	phone := h.connect("alice/phone")
	laptop := h.connect("alice/laptop")
	watch := h.connect("alice/watch") // never asked for the roster
	h.getRoster(phone, "")
	h.getRoster(laptop, "")

	if err := h.setItem(laptop, []string{"Friends"}, "jid", bob, "name", "Bob"); err != nil {
		t.Fatal(err)
	}
	p1 := phone.expectPush(t, "jid", bob, "name", "Bob")
	p2 := laptop.expectPush(t, "jid", bob, "name", "Bob")
	if !stanza.Equal(p1, p2) {
		t.Errorf("pushes differ: %v / %v", p1, p2)
	}
	watch.expectNothing(t)
}

func TestRosterRemoveCancelsBothWays(t *testing.T) {
	st := newMemStore()
	h := newHost(t, st)
	ctx := context.Background()
	st.PutRosterItem(ctx, alice, store.RosterItem{JID: bob, Subscription: store.SubBoth})
	st.PutRosterItem(ctx, bob, store.RosterItem{JID: alice, Subscription: store.SubBoth})
	a := h.login("alice/phone")
	b := h.login("bob/laptop")
	drain(a, b)

	if err := h.setItem(a, nil, "jid", bob, "subscription", "remove"); err != nil {
		t.Fatal(err)
	}
	a.expectPush(t, "jid", bob, "subscription", "remove")
	// bob: alice unsubscribes from him (both -> to), then cancels his
	// subscription to her (to -> none); each side's unavailable presence
	// reaches the other.
	b.expectPush(t, "jid", alice, "subscription", "to")
	b.expect(t, "presence", "type", "unsubscribe", "from", alice)
	a.expect(t, "presence", "type", "unavailable", "from", bob+"/laptop")
	b.expectPush(t, "jid", alice, "subscription", "none")
	b.expect(t, "presence", "type", "unsubscribed", "from", alice)
	b.expect(t, "presence", "type", "unavailable", "from", alice+"/phone")
	a.expectNothing(t)
	b.expectNothing(t)
	if _, ok := item(t, st, alice, bob); ok {
		t.Error("alice's item for bob still stored")
	}
}

func TestRosterRemoveDeniesPendingRequest(t *testing.T) {
	st := newMemStore()
	h := newHost(t, st)
	a := h.login("alice/phone")
	b := h.login("bob/laptop")
	h.send(a, "presence", "type", "subscribe", "to", bob)
	a.drain()
	b.drain()
	// bob adds alice to his roster, then removes her: the request is denied.
	if err := h.setItem(b, nil, "jid", alice); err != nil {
		t.Fatal(err)
	}
	b.expectPush(t, "jid", alice, "subscription", "none")
	if err := h.setItem(b, nil, "jid", alice, "subscription", "remove"); err != nil {
		t.Fatal(err)
	}
	b.expectPush(t, "jid", alice, "subscription", "remove")
	a.expectPush(t, "jid", bob, "subscription", "none", "ask", "")
	a.expect(t, "presence", "type", "unsubscribed", "from", bob)
	a.expectNothing(t)
}

func TestRosterSetErrors(t *testing.T) {
	st := newMemStore()
	h := newHost(t, st)
	h.f.opts.MaxItems = 2
	a := h.connect("alice/phone")
	long := strings.Repeat("x", 1024)
	ok := strings.Repeat("x", 1023)
	for _, tc := range []struct {
		name   string
		query  *stanza.Element
		groups []string
		attrs  []string
		want   stanza.Condition
	}{
		{name: "two items", want: stanza.BadRequest, query: stanza.NewElement(stanza.NSRoster, "query").
			AddChild(stanza.NewElement(stanza.NSRoster, "item", "jid", bob)).
			AddChild(stanza.NewElement(stanza.NSRoster, "item", "jid", carol))},
		{name: "no item", want: stanza.BadRequest, query: stanza.NewElement(stanza.NSRoster, "query")},
		{name: "no jid", want: stanza.BadRequest, attrs: []string{"name", "x"}},
		{name: "bad jid", want: stanza.JIDMalformed, attrs: []string{"jid", "a@b@c"}},
		{name: "empty group", want: stanza.NotAcceptable, attrs: []string{"jid", bob}, groups: []string{""}},
		{name: "long group", want: stanza.NotAcceptable, attrs: []string{"jid", bob}, groups: []string{long}},
		{name: "long name", want: stanza.NotAcceptable, attrs: []string{"jid", bob, "name", long}},
		{name: "duplicate group", want: stanza.BadRequest, attrs: []string{"jid", bob}, groups: []string{"a", "b", "a"}},
		{name: "remove unknown", want: stanza.ItemNotFound, attrs: []string{"jid", carol, "subscription", "remove"}},
		{name: "longest name and group", attrs: []string{"jid", bob, "name", ok}, groups: []string{ok}},
		{name: "own jid", attrs: []string{"jid", alice}},
		{name: "roster full", want: stanza.PolicyViolation, attrs: []string{"jid", carol}},
		{name: "update when full", attrs: []string{"jid", bob, "name", "Bob"}},
	} {
		var err error
		if tc.query != nil {
			_, err = h.iqRoster(a, "set", tc.query)
		} else {
			err = h.setItem(a, tc.groups, tc.attrs...)
		}
		var se *stanza.Error
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v, want success", tc.name, err)
		case tc.want != "" && (!errors.As(err, &se) || se.Condition != tc.want):
			t.Errorf("%s: error %v, want %s", tc.name, err, tc.want)
		}
	}
}

func TestRosterGetMarksInterest(t *testing.T) {
	h := newHost(t, newMemStore())
	a := h.connect("alice/phone")
	if a.RosterRequested() {
		t.Fatal("interested before asking")
	}
	h.getRoster(a, "")
	if !a.RosterRequested() {
		t.Error("roster get did not mark the device interested")
	}
	if _, err := h.iqRoster(a, "get", stanza.NewElement(stanza.NSRoster, "other")); err == nil {
		t.Error("a payload that is not <query/> was accepted")
	}
}
