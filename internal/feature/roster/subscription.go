package roster

import (
	"context"
	"errors"

	"github.com/parley-im/parley/internal/jid"
	"github.com/parley-im/parley/internal/module"
	"github.com/parley-im/parley/internal/stanza"
	"github.com/parley-im/parley/internal/store"
)

// This file holds the subscription handshake of RFC 6121 section 3. The
// state changes are the tables of RFC 6121 Appendix A, written as small
// functions on a roster item; the methods around them store the change,
// push it, and route or deliver the stanzas the RFC asks for. Subscription
// stanzas always travel between bare JIDs.

// outboundSubscription processes a subscription stanza sent by the owner's
// device s to contact (RFC 6121 3.1.2, 3.1.5, 3.2.2, 3.3.2, 3.4).
func (f *Feature) outboundSubscription(ctx context.Context, s module.Session, typ string, contact jid.JID, p *stanza.Element) {
	owner := s.JID().Bare()
	var fn func(*store.RosterItem, bool) action
	switch typ {
	case typeSubscribe:
		fn = outSubscribe
	case typeSubscribed:
		fn = outSubscribed
	case typeUnsubscribe:
		fn = outUnsubscribe
	case typeUnsubscribed:
		fn = outUnsubscribed
	}
	c, err := f.modify(ctx, owner, contact.String(), func(it *store.RosterItem, found bool) (action, error) {
		// subscribe and subscribed may add a contact to the visible roster.
		if (!found || it.Hidden) && (typ == typeSubscribe || typ == typeSubscribed) {
			if err := f.checkRoom(ctx, owner); err != nil {
				return keep, err
			}
		}
		return fn(it, found), nil
	})
	if err != nil {
		f.refuse(s, p, err)
		return
	}
	out := subscription(typ, owner, contact, p)
	switch typ {
	case typeSubscribe, typeUnsubscribe:
		f.host.Route(ctx, out)
	case typeSubscribed:
		// Only a granted request is routed; a pre-approval stays here.
		if c.act == put && subscribedFrom(c.after.Subscription) {
			f.host.Route(ctx, out)
			f.sendPresenceOf(ctx, owner, contact.String())
		}
	case typeUnsubscribed:
		f.host.Route(ctx, out)
		if subscribedFrom(c.before.Subscription) {
			f.sendUnavailableOf(ctx, owner, contact.String())
		}
	}
}

// refuse reports a failed outbound subscription change to the device.
func (f *Feature) refuse(s module.Session, p *stanza.Element, err error) {
	var se *stanza.Error
	if !errors.As(storeError(err), &se) {
		f.log.Error("subscription change failed", "user", s.JID(), "err", err)
		se = stanza.NewError(stanza.InternalServerError, "")
	}
	if reply := stanza.ErrorReply(p, se); reply != nil {
		s.Send(reply)
	}
}

// inboundSubscription processes a subscription stanza from contact to the
// local user owner (RFC 6121 3.1.3, 3.1.6, 3.2.3, 3.3.3, 3.4).
func (f *Feature) inboundSubscription(ctx context.Context, typ string, owner, contact jid.JID, p *stanza.Element) {
	var next inResult
	c, err := f.modify(ctx, owner, contact.String(), func(it *store.RosterItem, found bool) (action, error) {
		var act action
		switch typ {
		case typeSubscribe:
			act, next = inSubscribe(it, found, p.ChildText(stanza.NSClient, "status"))
		case typeSubscribed:
			act, next = inSubscribed(it, found)
		case typeUnsubscribe:
			act, next = inUnsubscribe(it, found)
		case typeUnsubscribed:
			act, next = inUnsubscribed(it, found)
		}
		return act, nil
	})
	if err != nil {
		f.log.Error("inbound subscription: roster change failed", "user", owner, "contact", contact, "type", typ, "err", err)
		return
	}
	switch next {
	case deliver:
		f.host.DeliverToAvailable(owner, subscription(typ, contact, owner, p))
	case autoReply:
		f.host.Route(ctx, subscription(typeSubscribed, owner, contact, nil))
	case autoApprove:
		f.host.Route(ctx, subscription(typeSubscribed, owner, contact, nil))
		f.sendPresenceOf(ctx, owner, contact.String())
	}
	// The contact stopped receiving the owner's presence: tell it the
	// owner's resources are gone (RFC 6121 3.3.3).
	if typ == typeUnsubscribe && subscribedFrom(c.before.Subscription) {
		f.sendUnavailableOf(ctx, owner, contact.String())
	}
}

// inResult says what to do with an inbound subscription stanza after the
// state change.
type inResult int

const (
	ignore      inResult = iota // drop it
	deliver                     // deliver it to the owner's available resources
	autoReply                   // answer "subscribed" for the owner (already subscribed)
	autoApprove                 // answer "subscribed" and send presence (pre-approved)
)

func putIf(changed bool) action {
	if changed {
		return put
	}
	return keep
}

// orphan reports whether a hidden item holds no state any more.
func orphan(it *store.RosterItem) bool {
	return it.Hidden && it.Subscription == store.SubNone && !it.AskOut && !it.PendingIn && !it.PreApproved
}

// addFrom grants the contact a subscription to the owner's presence.
func addFrom(it *store.RosterItem) {
	if it.Subscription == store.SubTo {
		it.Subscription = store.SubBoth
	} else {
		it.Subscription = store.SubFrom
	}
	it.PendingIn, it.PendingInStatus, it.PreApproved, it.Hidden = false, "", false, false
}

// dropFrom ends the contact's subscription to the owner's presence and
// reports whether there was one.
func dropFrom(it *store.RosterItem) bool {
	switch it.Subscription {
	case store.SubFrom:
		it.Subscription = store.SubNone
	case store.SubBoth:
		it.Subscription = store.SubTo
	default:
		return false
	}
	return true
}

// dropTo ends the owner's subscription to the contact's presence and
// reports whether there was one.
func dropTo(it *store.RosterItem) bool {
	switch it.Subscription {
	case store.SubTo:
		it.Subscription = store.SubNone
	case store.SubBoth:
		it.Subscription = store.SubFrom
	default:
		return false
	}
	return true
}

// outSubscribe: the owner asks for the contact's presence (Table A.2.1).
// The item becomes visible with ask="subscribe".
func outSubscribe(it *store.RosterItem, found bool) action {
	changed := !found || it.Hidden
	it.Hidden = false
	if !subscribedTo(it.Subscription) && !it.AskOut {
		it.AskOut = true
		changed = true
	}
	return putIf(changed)
}

// outSubscribed: the owner approves the contact's request (Table A.2.3),
// or pre-approves a future one when there is none (RFC 6121 3.4).
func outSubscribed(it *store.RosterItem, found bool) action {
	switch {
	case subscribedFrom(it.Subscription):
		return keep
	case it.PendingIn:
		addFrom(it)
		return put
	case it.PreApproved:
		return keep
	}
	it.PreApproved = true
	it.Hidden = false
	return put
}

// outUnsubscribe: the owner stops receiving the contact's presence, or
// withdraws its request (Table A.2.2).
func outUnsubscribe(it *store.RosterItem, found bool) action {
	if !found {
		return keep
	}
	changed := dropTo(it)
	if it.AskOut {
		it.AskOut = false
		changed = true
	}
	return putIf(changed)
}

// outUnsubscribed: the owner cancels the contact's subscription, denies its
// request, or withdraws a pre-approval (Table A.2.4, RFC 6121 3.4).
func outUnsubscribed(it *store.RosterItem, found bool) action {
	if !found {
		return keep
	}
	changed := dropFrom(it)
	if it.PendingIn || it.PreApproved {
		it.PendingIn, it.PendingInStatus, it.PreApproved = false, "", false
		changed = true
	}
	switch {
	case !changed:
		return keep
	case orphan(it):
		return remove
	}
	return put
}

// inSubscribe: the contact asks for the owner's presence (Table A.3.1). An
// existing subscription is confirmed again, a pre-approval is honoured,
// otherwise the request is kept (in a hidden item if the contact is not in
// the roster) and delivered once.
func inSubscribe(it *store.RosterItem, found bool, status string) (action, inResult) {
	switch {
	case subscribedFrom(it.Subscription):
		return keep, autoReply
	case it.PreApproved:
		addFrom(it)
		return put, autoApprove
	case it.PendingIn:
		return keep, ignore // no duplicate delivery
	}
	it.PendingIn = true
	it.PendingInStatus = status
	it.Hidden = !found || it.Hidden
	return put, deliver
}

// inSubscribed: the contact approved the owner's request (Table A.3.2);
// an approval nobody asked for is ignored.
func inSubscribed(it *store.RosterItem, found bool) (action, inResult) {
	if !found || !it.AskOut {
		return keep, ignore
	}
	it.AskOut = false
	switch it.Subscription {
	case store.SubNone:
		it.Subscription = store.SubTo
	case store.SubFrom:
		it.Subscription = store.SubBoth
	}
	return put, deliver
}

// inUnsubscribe: the contact stops receiving the owner's presence, or
// withdraws its request (Table A.3.3).
func inUnsubscribe(it *store.RosterItem, found bool) (action, inResult) {
	if !found {
		return keep, ignore
	}
	changed := dropFrom(it)
	if it.PendingIn {
		it.PendingIn, it.PendingInStatus = false, ""
		changed = true
	}
	switch {
	case !changed:
		return keep, ignore
	case orphan(it):
		return remove, deliver
	}
	return put, deliver
}

// inUnsubscribed: the contact cancelled the owner's subscription or denied
// its request (Table A.3.4).
func inUnsubscribed(it *store.RosterItem, found bool) (action, inResult) {
	if !found {
		return keep, ignore
	}
	changed := dropTo(it)
	if it.AskOut {
		it.AskOut = false
		changed = true
	}
	if !changed {
		return keep, ignore
	}
	return put, deliver
}
