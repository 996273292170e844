package roster

import (
	"context"
	"testing"

	"github.com/parley-im/parley/internal/stanza"
	"github.com/parley-im/parley/internal/store"
)

const (
	alice = "alice@example.org"
	bob   = "bob@example.org"
	carol = "carol@example.org"
)

func withStatus(p *stanza.Element, text string) *stanza.Element {
	st := stanza.NewElement(stanza.NSClient, "status")
	st.Text = text
	return p.AddChild(st)
}

func presence(attrs ...string) *stanza.Element {
	return stanza.NewElement(stanza.NSClient, "presence", attrs...)
}

func item(t *testing.T, st Store, owner, contact string) (store.RosterItem, bool) {
	t.Helper()
	it, err := st.GetRosterItem(context.Background(), owner, contact)
	if err != nil {
		return it, false
	}
	return it, true
}

func TestSubscriptionHandshake(t *testing.T) {
	st := newMemStore()
	h := newHost(t, st)
	a := h.login("alice/phone")
	b := h.login("bob/laptop")

	// alice asks to see bob's presence.
	h.sendEl(a, withStatus(presence("type", "subscribe", "to", bob), "it's alice"))
	a.expectPush(t, "jid", bob, "subscription", "none", "ask", "subscribe")
	a.expectNothing(t)
	// bob receives the request from alice's bare JID, and no push: the
	// pending request lives in a hidden item.
	req := b.expect(t, "presence", "type", "subscribe", "from", alice, "to", bob)
	if req.ChildText(stanza.NSClient, "status") != "it's alice" {
		t.Errorf("request lost its status: %v", req)
	}
	b.expectNothing(t)
	if got := rosterJIDs(h.getRoster(b, "")); len(got) != 0 {
		t.Errorf("bob's roster shows %v, want the hidden request left out", got)
	}

	// bob approves.
	h.send(b, "presence", "type", "subscribed", "to", alice)
	b.expectPush(t, "jid", alice, "subscription", "from", "ask", "")
	b.expectNothing(t)
	// alice gets the push, the approval, and bob's current presence.
	a.expectPush(t, "jid", bob, "subscription", "to", "ask", "")
	a.expect(t, "presence", "type", "subscribed", "from", bob, "to", alice)
	a.expect(t, "presence", "type", "", "from", bob+"/laptop", "to", alice)
	a.expectNothing(t)

	// bob asks back; alice approves: both.
	h.send(b, "presence", "type", "subscribe", "to", alice)
	b.expectPush(t, "jid", alice, "subscription", "from", "ask", "subscribe")
	a.expectPush(t, "jid", bob, "subscription", "to") // pending-in bumps the version
	a.expect(t, "presence", "type", "subscribe", "from", bob)
	h.send(a, "presence", "type", "subscribed", "to", bob)
	a.expectPush(t, "jid", bob, "subscription", "both")
	b.expectPush(t, "jid", alice, "subscription", "both", "ask", "")
	b.expect(t, "presence", "type", "subscribed", "from", alice)
	b.expect(t, "presence", "type", "", "from", alice+"/phone")
	a.expectNothing(t)
	b.expectNothing(t)

	// Now presence flows: alice goes away; bob and alice's own device see it.
	h.sendEl(a, presence().AddChild(&stanza.Element{Space: stanza.NSClient, Name: "show", Text: "away"}))
	b.expect(t, "presence", "from", alice+"/phone", "to", bob)
	a.expect(t, "presence", "from", alice+"/phone", "to", alice)
	a.expectNothing(t)
	b.expectNothing(t)
}

func TestSubscribeWhenAlreadySubscribedIsAutoApproved(t *testing.T) {
	st := newMemStore()
	h := newHost(t, st)
	ctx := context.Background()
	// bob's server remembers alice as a subscriber; alice's lost it.
	st.PutRosterItem(ctx, bob, store.RosterItem{JID: alice, Subscription: store.SubFrom})
	a := h.login("alice/phone")
	b := h.login("bob/laptop")
	drain(a, b)

	h.send(a, "presence", "type", "subscribe", "to", bob)
	a.expectPush(t, "jid", bob, "subscription", "none", "ask", "subscribe")
	// bob's server confirms for bob without bothering him (RFC 6121 3.1.3).
	a.expectPush(t, "jid", bob, "subscription", "to", "ask", "")
	a.expect(t, "presence", "type", "subscribed", "from", bob)
	a.expectNothing(t)
	b.expectNothing(t)

	// Asking again in state To changes nothing; the confirmation that
	// comes back is not delivered (RFC 6121 A.3.2).
	h.send(a, "presence", "type", "subscribe", "to", bob)
	a.expectNothing(t)
	b.expectNothing(t)
}

func TestPendingRequestKeptAndRedelivered(t *testing.T) {
	st := newMemStore()
	h := newHost(t, st, "bob")
	a := h.login("alice/phone")

	// bob is offline: the request is stored.
	h.sendEl(a, withStatus(presence("type", "subscribe", "to", bob), "hello"))
	a.expectPush(t, "jid", bob, "ask", "subscribe")
	it, ok := item(t, st, bob, alice)
	if !ok || !it.PendingIn || !it.Hidden || it.PendingInStatus != "hello" {
		t.Fatalf("bob's item for alice = %+v (found %v), want hidden pending-in with status", it, ok)
	}

	// bob logs in: the request comes with his initial presence.
	b := h.connect("bob/laptop")
	if got := rosterJIDs(h.getRoster(b, "")); len(got) != 0 {
		t.Errorf("bob's roster = %v, want empty", got)
	}
	h.send(b, "presence")
	b.expect(t, "presence", "from", bob+"/laptop") // his own presence
	req := b.expect(t, "presence", "type", "subscribe", "from", alice, "to", bob)
	if req.ChildText(stanza.NSClient, "status") != "hello" {
		t.Errorf("redelivered request %v lost its status", req)
	}
	b.expectNothing(t)
	h.end(b)

	// A restart (a new feature on the same store) and a new login: the
	// request is delivered again, until answered.
	h2 := newHost(t, st, "alice")
	b = h2.connect("bob/tablet")
	h2.send(b, "presence")
	b.expect(t, "presence", "from", bob+"/tablet")
	b.expect(t, "presence", "type", "subscribe", "from", alice)
	b.expectNothing(t)

	// A second subscribe while pending is not delivered again.
	a2 := h2.login("alice/phone")
	h2.send(a2, "presence", "type", "subscribe", "to", bob)
	b.expectNothing(t)

	// bob declines: the hidden item goes away, alice's ask is cleared.
	h2.send(b, "presence", "type", "unsubscribed", "to", alice)
	b.expectNothing(t) // hidden item: no push
	a2.expectPush(t, "jid", bob, "subscription", "none", "ask", "")
	a2.expect(t, "presence", "type", "unsubscribed", "from", bob)
	if _, ok := item(t, st, bob, alice); ok {
		t.Error("bob's hidden item for alice survived the denial")
	}
	h2.send(b, "presence")
	b.expect(t, "presence", "from", bob+"/tablet")
	b.expectNothing(t) // no more redelivery
}

func TestPreApproval(t *testing.T) {
	st := newMemStore()
	h := newHost(t, st)
	a := h.login("alice/phone")
	b := h.login("bob/laptop")

	// bob approves before alice asks (RFC 6121 3.4): nothing is routed.
	h.send(b, "presence", "type", "subscribed", "to", alice)
	b.expectPush(t, "jid", alice, "subscription", "none", "approved", "true")
	a.expectNothing(t)

	// alice asks: bob's server approves at once.
	h.send(a, "presence", "type", "subscribe", "to", bob)
	a.expectPush(t, "jid", bob, "subscription", "none", "ask", "subscribe")
	b.expectPush(t, "jid", alice, "subscription", "from", "approved", "")
	b.expectNothing(t) // bob is not asked
	a.expectPush(t, "jid", bob, "subscription", "to", "ask", "")
	a.expect(t, "presence", "type", "subscribed", "from", bob)
	a.expect(t, "presence", "from", bob+"/laptop")
	a.expectNothing(t)
}

func TestPreApprovalWithdrawn(t *testing.T) {
	st := newMemStore()
	h := newHost(t, st)
	a := h.login("alice/phone")
	b := h.login("bob/laptop")
	h.send(b, "presence", "type", "subscribed", "to", alice)
	b.expectPush(t, "approved", "true")
	h.send(b, "presence", "type", "unsubscribed", "to", alice)
	b.expectPush(t, "jid", alice, "approved", "")
	a.expectNothing(t) // nothing to cancel on alice's side

	h.send(a, "presence", "type", "subscribe", "to", bob)
	a.expectPush(t, "ask", "subscribe")
	b.expectPush(t, "jid", alice, "subscription", "none") // pending-in recorded
	b.expect(t, "presence", "type", "subscribe", "from", alice)
}

func TestUnsubscribeAndCancel(t *testing.T) {
	st := newMemStore()
	h := newHost(t, st)
	ctx := context.Background()
	st.PutRosterItem(ctx, alice, store.RosterItem{JID: bob, Subscription: store.SubBoth})
	st.PutRosterItem(ctx, bob, store.RosterItem{JID: alice, Subscription: store.SubBoth})
	a := h.login("alice/phone")
	b := h.login("bob/laptop")
	drain(a, b)

	// alice no longer wants bob's presence.
	h.send(a, "presence", "type", "unsubscribe", "to", bob)
	a.expectPush(t, "jid", bob, "subscription", "from")
	b.expectPush(t, "jid", alice, "subscription", "to")
	b.expect(t, "presence", "type", "unsubscribe", "from", alice)
	// bob's server tells alice bob is gone for her (RFC 6121 3.3.3).
	a.expect(t, "presence", "type", "unavailable", "from", bob+"/laptop")
	a.expectNothing(t)
	b.expectNothing(t)

	// alice cancels bob's subscription to her presence.
	h.send(a, "presence", "type", "unsubscribed", "to", bob)
	a.expectPush(t, "jid", bob, "subscription", "none")
	b.expectPush(t, "jid", alice, "subscription", "none")
	b.expect(t, "presence", "type", "unsubscribed", "from", alice)
	b.expect(t, "presence", "type", "unavailable", "from", alice+"/phone")
	a.expectNothing(t)
	b.expectNothing(t)

	// No subscriptions left: presence goes nowhere but alice's own devices.
	h.send(a, "presence")
	a.expect(t, "presence", "from", alice+"/phone")
	b.expectNothing(t)
}
