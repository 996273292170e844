package roster

import (
	"context"

	"github.com/parley-im/parley/internal/jid"
	"github.com/parley-im/parley/internal/module"
	"github.com/parley-im/parley/internal/stanza"
	"github.com/parley-im/parley/internal/store"
)

// Presence types of RFC 6121 (the empty type is "available").
const (
	typeAvailable    = ""
	typeUnavailable  = "unavailable"
	typeProbe        = "probe"
	typeSubscribe    = "subscribe"
	typeSubscribed   = "subscribed"
	typeUnsubscribe  = "unsubscribe"
	typeUnsubscribed = "unsubscribed"
)

// outbound processes presence sent by a local device (module.PresenceHandler).
// p's from is the device's full JID; for broadcast presence the session has
// already recorded its new availability.
func (f *Feature) outbound(ctx context.Context, s module.Session, p *stanza.Element) bool {
	to, err := p.To()
	if err != nil {
		return false // the core answers jid-malformed
	}
	switch typ := p.Type(); typ {
	case typeAvailable, typeUnavailable:
		if to.IsZero() {
			f.broadcast(ctx, s, p)
		} else {
			f.directedPresence(ctx, s, p, to)
		}
		return true
	case typeSubscribe, typeSubscribed, typeUnsubscribe, typeUnsubscribed:
		if !to.IsZero() {
			f.outboundSubscription(ctx, s, typ, to.Bare(), p)
		}
		return true
	}
	return false // probes and errors are routed as they are
}

// broadcast sends a device's presence to the user's subscribers and to the
// user's available resources, including the sender (RFC 6121 4.2.2, 4.4.2,
// 4.5.2); unavailable presence also goes to the addresses the device sent
// directed presence to (4.6.3).
func (f *Feature) broadcast(ctx context.Context, s module.Session, p *stanza.Element) {
	user := s.JID().Bare()
	sent := f.toSubscribers(ctx, user, p)
	own := p.Copy()
	own.SetAttr("to", user.String())
	f.host.DeliverToAvailable(user, own)
	if p.Type() == typeUnavailable {
		f.toDirected(ctx, s, p, sent)
	}
}

// toSubscribers routes a copy of p to every contact with a subscription to
// the user's presence and returns their bare JIDs.
func (f *Feature) toSubscribers(ctx context.Context, user jid.JID, p *stanza.Element) map[string]bool {
	items, _, err := f.st.GetRoster(ctx, user.String())
	if err != nil {
		f.log.Error("presence broadcast: reading roster", "user", user, "err", err)
		return nil
	}
	sent := make(map[string]bool)
	for _, it := range items {
		if !subscribedFrom(it.Subscription) {
			continue
		}
		c := p.Copy()
		c.SetAttr("to", it.JID)
		f.host.Route(ctx, c)
		sent[it.JID] = true
	}
	return sent
}

// toDirected sends unavailable presence p to the directed-presence
// recipients of s that did not get it as subscribers, and forgets them.
func (f *Feature) toDirected(ctx context.Context, s module.Session, p *stanza.Element, sent map[string]bool) {
	for _, to := range f.directed.take(s) {
		j, err := jid.Parse(to)
		if err != nil || sent[j.Bare().String()] {
			continue
		}
		c := p.Copy()
		c.SetAttr("to", to)
		f.host.Route(ctx, c)
	}
}

// directedPresence routes available or unavailable presence addressed to
// one entity, remembering the recipients of an available session's
// directed presence (RFC 6121 4.6).
func (f *Feature) directedPresence(ctx context.Context, s module.Session, p *stanza.Element, to jid.JID) {
	switch {
	case p.Type() == typeUnavailable:
		f.directed.remove(s, to.String())
	case s.Available():
		f.directed.add(s, to.String())
	}
	f.host.Route(ctx, p)
}

// onAvailable runs after a device's available presence was broadcast. On
// initial presence it probes the contacts the user is subscribed to,
// redelivers pending subscription requests, and tells the new device about
// the user's other available devices.
func (f *Feature) onAvailable(ctx context.Context, s module.Session, initial bool) {
	if !initial {
		return
	}
	user := s.JID().Bare()
	items, _, err := f.st.GetRoster(ctx, user.String())
	if err != nil {
		f.log.Error("initial presence: reading roster", "user", user, "err", err)
		return
	}
	for _, it := range items {
		if subscribedTo(it.Subscription) {
			probe := stanza.NewElement(stanza.NSClient, stanza.KindPresence,
				"type", typeProbe, "from", user.String(), "to", it.JID)
			f.host.Route(ctx, probe)
		}
	}
	for _, it := range items {
		if it.PendingIn {
			s.Send(pendingRequest(it, user))
		}
	}
	for _, other := range f.host.Sessions(user) {
		if pres := other.Presence(); other != s && other.Available() && pres != nil {
			c := pres.Copy()
			c.SetAttr("to", s.JID().String())
			s.Send(c)
		}
	}
}

// pendingRequest rebuilds a stored inbound subscription request.
func pendingRequest(it store.RosterItem, user jid.JID) *stanza.Element {
	p := stanza.NewElement(stanza.NSClient, stanza.KindPresence,
		"type", typeSubscribe, "from", it.JID, "to", user.String())
	if it.PendingInStatus != "" {
		st := stanza.NewElement(stanza.NSClient, "status")
		st.Text = it.PendingInStatus
		p.AddChild(st)
	}
	return p
}

// onUnavailable broadcasts unavailable presence for a session that ended
// while available (an unavailable presence stanza was broadcast by
// outbound already).
func (f *Feature) onUnavailable(ctx context.Context, s module.Session, ended bool) {
	if !ended {
		return
	}
	full := s.JID()
	p := stanza.NewElement(stanza.NSClient, stanza.KindPresence, "type", typeUnavailable, "from", full.String())
	if cur := f.host.Session(full); cur != nil && cur != s && cur.Available() {
		// A new session took over this full JID and is available: telling
		// the contacts this resource went away would be wrong. Only the old
		// session's directed-presence recipients learn of it.
		f.toDirected(ctx, s, p, nil)
		return
	}
	sent := f.toSubscribers(ctx, full.Bare(), p)
	own := p.Copy()
	own.SetAttr("to", full.Bare().String())
	f.host.DeliverToAvailable(full.Bare(), own)
	f.toDirected(ctx, s, p, sent)
}

// sendPresenceOf routes the current presence of each of user's available
// resources to the address to, and reports how many it sent.
func (f *Feature) sendPresenceOf(ctx context.Context, user jid.JID, to string) int {
	n := 0
	for _, s := range f.host.Sessions(user) {
		pres := s.Presence()
		if !s.Available() || pres == nil {
			continue
		}
		c := pres.Copy()
		c.SetAttr("from", s.JID().String())
		c.SetAttr("to", to)
		f.host.Route(ctx, c)
		n++
	}
	return n
}

// sendUnavailableOf routes unavailable presence from each of user's
// available resources to the address to.
func (f *Feature) sendUnavailableOf(ctx context.Context, user jid.JID, to string) {
	for _, s := range f.host.Sessions(user) {
		if !s.Available() {
			continue
		}
		f.host.Route(ctx, stanza.NewElement(stanza.NSClient, stanza.KindPresence,
			"type", typeUnavailable, "from", s.JID().String(), "to", to))
	}
}

// subscription builds a subscription stanza between bare JIDs, keeping the
// children of orig (a status text) when given.
func subscription(typ string, from, to jid.JID, orig *stanza.Element) *stanza.Element {
	p := stanza.NewElement(stanza.NSClient, stanza.KindPresence)
	if orig != nil {
		p = orig.Copy()
		p.Attrs = p.Attrs[:0]
		for _, a := range orig.Attrs {
			if a.Space == stanza.NSXML || (a.Space == "" && a.Name == "id") {
				p.Attrs = append(p.Attrs, a)
			}
		}
	}
	p.SetAttr("type", typ)
	p.SetAttr("from", from.String())
	p.SetAttr("to", to.String())
	return p
}
