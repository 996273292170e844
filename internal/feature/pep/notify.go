package pep

import (
	"context"
	"crypto/rand"
	"errors"
	"time"

	"github.com/parley-im/parley/internal/jid"
	"github.com/parley-im/parley/internal/module"
	"github.com/parley-im/parley/internal/stanza"
	"github.com/parley-im/parley/internal/store"
)

// notify sends ev (an event <items/> or <delete/>) to the devices
// interested in node: the owner's, and, unless the node is whitelisted,
// those of the owner's presence subscribers.
func (f *Feature) notify(ctx context.Context, owner jid.JID, node string, cfg store.PEPNode, ev *stanza.Element) {
	f.notifyUser(ctx, owner, owner, node, ev)
	if cfg.Access == AccessWhitelist {
		return
	}
	roster, _, err := f.st.GetRoster(ctx, owner.String())
	if err != nil {
		f.log.Error("reading the roster to notify", "owner", owner.String(), "err", err)
		return
	}
	for _, it := range roster {
		if it.Subscription != store.SubFrom && it.Subscription != store.SubBoth {
			continue
		}
		if contact, err := jid.Parse(it.JID); err == nil && contact.Domain() == f.host.Domain() {
			f.notifyUser(ctx, owner, contact, node, ev)
		}
	}
}

// notifyUser routes ev to user's available devices interested in node.
func (f *Feature) notifyUser(ctx context.Context, owner, user jid.JID, node string, ev *stanza.Element) {
	for _, s := range f.host.Sessions(user) {
		if s.Available() && f.interest(s).wants(node) {
			f.host.Route(ctx, eventMessage(owner, s.JID(), ev.Copy()))
		}
	}
}

// eventMessage wraps ev in a headline message from the owner's bare JID.
func eventMessage(owner, to jid.JID, ev *stanza.Element) *stanza.Element {
	m := stanza.NewElement(stanza.NSClient, stanza.KindMessage, "from", owner.String(), "to", to.String(),
		"type", "headline", "id", rand.Text()[:16])
	return m.AddChild(stanza.NewElement(NSPubSubEvent, "event").AddChild(ev))
}

// sendLastItems sends s the last item of each of nodes published by its
// own account and by the accounts whose presence it is subscribed to.
func (f *Feature) sendLastItems(ctx context.Context, s module.Session, nodes []string) {
	user := s.JID().Bare()
	owners := []jid.JID{user}
	roster, _, err := f.st.GetRoster(ctx, user.String())
	if err != nil {
		f.log.Error("reading the roster for last items", "user", user.String(), "err", err)
	}
	for _, it := range roster {
		if it.Subscription != store.SubTo && it.Subscription != store.SubBoth {
			continue
		}
		if o, err := jid.Parse(it.JID); err == nil && o.Domain() == f.host.Domain() {
			owners = append(owners, o)
		}
	}
	for _, o := range owners {
		for _, node := range nodes {
			if ev, at := f.lastItem(ctx, o, user, node); ev != nil {
				m := eventMessage(o, s.JID(), ev)
				m.AddChild(stanza.NewElement(stanza.NSDelay, "delay", "stamp", at.UTC().Format(time.RFC3339Nano)))
				f.host.Route(ctx, m)
			}
		}
	}
}

// lastItem returns the event <items/> with owner's last item of node and
// when it was published, if viewer may see it, or nil.
func (f *Feature) lastItem(ctx context.Context, owner, viewer jid.JID, node string) (*stanza.Element, time.Time) {
	cfg, err := f.st.GetPEPNode(ctx, owner.String(), node)
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			f.log.Error("reading a PEP node", "owner", owner.String(), "node", node, "err", err)
		}
		return nil, time.Time{}
	}
	if ok, err := f.mayAccess(ctx, owner, viewer, cfg.Access); err != nil || !ok {
		return nil, time.Time{}
	}
	list, err := f.st.GetPEPItems(ctx, owner.String(), node, 1)
	if err != nil || len(list) == 0 {
		return nil, time.Time{}
	}
	el := f.itemElement(NSPubSubEvent, list[0])
	if el == nil {
		return nil, time.Time{}
	}
	return stanza.NewElement(NSPubSubEvent, "items", "node", node).AddChild(el), list[0].Published
}
