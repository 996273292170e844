package roster

import (
	"context"
	"testing"

	"github.com/parley-im/parley/internal/jid"
	"github.com/parley-im/parley/internal/store"
)

// friends makes alice and bob subscribed to each other.
func friends(st *memStore, a, b string) {
	ctx := context.Background()
	st.PutRosterItem(ctx, a, store.RosterItem{JID: b, Subscription: store.SubBoth})
	st.PutRosterItem(ctx, b, store.RosterItem{JID: a, Subscription: store.SubBoth})
}

func TestInitialPresenceProbesAndBroadcasts(t *testing.T) {
	st := newMemStore()
	friends(st, alice, bob)
	h := newHost(t, st)
	b := h.login("bob/laptop")
	h.sendEl(b, withStatus(presence(), "at work"))
	b.drain()

	a := h.connect("alice/phone")
	h.send(a, "presence")
	// bob sees alice come online.
	b.expect(t, "presence", "from", alice+"/phone", "to", bob)
	b.expectNothing(t)
	// alice: her own presence, then bob's answer to her probe.
	a.expect(t, "presence", "from", alice+"/phone", "to", alice)
	got := a.expect(t, "presence", "type", "", "from", bob+"/laptop", "to", alice)
	if got.ChildText("", "status") != "at work" {
		t.Errorf("probe answer %v lost bob's status", got)
	}
	a.expectNothing(t)

	// A second device of alice learns about the first one.
	a2 := h.connect("alice/tablet")
	h.send(a2, "presence")
	b.expect(t, "presence", "from", alice+"/tablet")
	a.expect(t, "presence", "from", alice+"/tablet", "to", alice)
	a2.expect(t, "presence", "from", alice+"/tablet", "to", alice)
	a2.expect(t, "presence", "from", bob+"/laptop")
	a2.expect(t, "presence", "from", alice+"/phone", "to", alice+"/tablet")
	a2.expectNothing(t)
}

func TestProbeAnswers(t *testing.T) {
	st := newMemStore()
	ctx := context.Background()
	st.PutRosterItem(ctx, alice, store.RosterItem{JID: bob, Subscription: store.SubFrom})
	st.PutRosterItem(ctx, alice, store.RosterItem{JID: carol, Subscription: store.SubTo})
	h := newHost(t, st)
	b := h.login("bob/laptop")
	c := h.login("carol/desk")

	probe := func(from string) {
		h.f.Inbound(ctx, presence("type", "probe", "from", from, "to", alice), jid.MustParse(alice))
	}
	// alice is offline: bob (subscribed) learns so, carol (not) learns nothing.
	probe(bob)
	b.expect(t, "presence", "type", "unavailable", "from", alice, "to", bob)
	probe(carol)
	c.expectNothing(t)

	a := h.login("alice/phone")
	b.drain()
	probe(bob)
	b.expect(t, "presence", "type", "", "from", alice+"/phone", "to", bob)
	b.expectNothing(t)
	probe(carol)
	c.expectNothing(t)
	_ = a
}

func TestDirectedPresence(t *testing.T) {
	st := newMemStore()
	friends(st, alice, bob)
	h := newHost(t, st)
	a := h.login("alice/phone")
	b := h.login("bob/laptop")
	c := h.login("carol/desk")

	// alice tells carol (not a contact) and bob's laptop directly.
	h.send(a, "presence", "to", carol+"/desk")
	c.expect(t, "presence", "from", alice+"/phone", "to", carol+"/desk")
	h.send(a, "presence", "to", bob+"/laptop")
	b.expect(t, "presence", "from", alice+"/phone", "to", bob+"/laptop")

	// Her unavailable presence reaches her subscriber bob once, and carol.
	h.send(a, "presence", "type", "unavailable")
	b.expect(t, "presence", "type", "unavailable", "from", alice+"/phone", "to", bob)
	c.expect(t, "presence", "type", "unavailable", "from", alice+"/phone", "to", carol+"/desk")
	b.expectNothing(t)
	c.expectNothing(t)

	// The list was cleared: next time carol is not told.
	h.send(a, "presence")
	b.expect(t, "presence", "from", alice+"/phone")
	h.send(a, "presence", "type", "unavailable")
	b.expect(t, "presence", "type", "unavailable", "from", alice+"/phone")
	c.expectNothing(t)

	// Directed unavailable removes a recipient.
	h.send(a, "presence")
	h.send(a, "presence", "to", carol)
	c.expect(t, "presence", "to", carol)
	h.send(a, "presence", "type", "unavailable", "to", carol)
	c.expect(t, "presence", "type", "unavailable", "to", carol)
	h.end(a)
	c.expectNothing(t)
}

func TestSessionEndBroadcastsUnavailable(t *testing.T) {
	st := newMemStore()
	friends(st, alice, bob)
	h := newHost(t, st)
	a := h.login("alice/phone")
	a2 := h.login("alice/tablet")
	b := h.login("bob/laptop")
	c := h.login("carol/desk")
	h.send(a, "presence", "to", carol)
	drain(a, a2, b, c)

	h.end(a)
	b.expect(t, "presence", "type", "unavailable", "from", alice+"/phone", "to", bob)
	a2.expect(t, "presence", "type", "unavailable", "from", alice+"/phone", "to", alice)
	c.expect(t, "presence", "type", "unavailable", "from", alice+"/phone", "to", carol)
	b.expectNothing(t)
	a2.expectNothing(t)
	c.expectNothing(t)

	// A device that never sent presence leaves silently (the core only
	// runs the hook for available sessions).
	quiet := h.connect("alice/quiet")
	h.end(quiet)
	b.expectNothing(t)
}

func TestReplacedSessionDoesNotAnnounceUnavailable(t *testing.T) {
	st := newMemStore()
	friends(st, alice, bob)
	h := newHost(t, st)
	old := h.login("alice/phone")
	b := h.login("bob/laptop")
	// A reconnect with the same resource: the new session is available
	// before the old one's end is processed.
	h.mu.Lock()
	h.sessions[alice] = nil
	h.mu.Unlock()
	fresh := h.login("alice/phone")
	b.drain()
	old.mu.Lock()
	old.available = true
	old.mu.Unlock()
	for _, fn := range h.onUnav {
		fn(context.Background(), old, true)
	}
	b.expectNothing(t)
	fresh.expectNothing(t)
}

func TestInboundDelivery(t *testing.T) {
	h := newHost(t, newMemStore())
	ctx := context.Background()
	a := h.login("alice/phone")
	idle := h.connect("alice/idle") // connected, not available
	p := presence("from", bob+"/laptop", "to", alice+"/idle")
	h.f.Inbound(ctx, p, jid.MustParse(alice+"/idle"))
	idle.expect(t, "presence", "from", bob+"/laptop")
	a.expectNothing(t)

	// To a resource that is not connected: dropped (RFC 6121 8.5.3.2.1).
	h.f.Inbound(ctx, presence("from", bob+"/laptop", "to", alice+"/gone"), jid.MustParse(alice+"/gone"))
	a.expectNothing(t)
	idle.expectNothing(t)

	// To the bare JID: every available device.
	h.f.Inbound(ctx, presence("from", bob+"/laptop", "to", alice), jid.MustParse(alice))
	a.expect(t, "presence", "from", bob+"/laptop")
	idle.expectNothing(t)
}

func TestSubscribeWithoutToIsIgnored(t *testing.T) {
	h := newHost(t, newMemStore())
	a := h.login("alice/phone")
	h.send(a, "presence", "type", "subscribe")
	a.expectNothing(t)
}
