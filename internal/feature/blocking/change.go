package blocking

import (
	"context"
	"errors"
	"maps"

	"github.com/parley-im/parley/internal/jid"
	"github.com/parley-im/parley/internal/stanza"
	"github.com/parley-im/parley/internal/store"
)

// block adds the items to the user's list, cuts presence both ways for the
// new ones, stores the list and pushes the change. Presence goes out before
// the contacts are blocked (the filter would drop it after), and without
// the stripe lock (routing reads other users' lists).
func (f *Feature) block(ctx context.Context, user jid.JID, q *stanza.Element) (*stanza.Element, error) {
	jids, serr := items(q)
	if serr != nil {
		return nil, serr
	}
	if len(jids) == 0 {
		return nil, stanza.NewError(stanza.BadRequest, "a block has at least one item")
	}
	old, err := f.lists.get(ctx, user.String())
	if err != nil {
		return nil, err
	}
	added := newItems(old, jids)
	if len(old)+len(added) > f.opts.MaxItems {
		return nil, stanza.NewError(stanza.PolicyViolation, "the block list is full")
	}
	for _, j := range added {
		f.cutPresence(ctx, user, j)
	}
	if err := f.add(ctx, user.String(), jids); err != nil {
		return nil, err
	}
	f.push(user, "block", jids)
	return nil, nil
}

// add stores the items not yet in the user's list and updates the cache.
func (f *Feature) add(ctx context.Context, user string, jids []string) error {
	l := f.lists.lock(user)
	l.Lock()
	defer l.Unlock()
	old, err := f.lists.getLocked(ctx, user)
	if err != nil {
		return err
	}
	added := newItems(old, jids)
	if len(added) == 0 {
		return nil
	}
	if len(old)+len(added) > f.opts.MaxItems {
		return stanza.NewError(stanza.PolicyViolation, "the block list is full")
	}
	if err := f.st.AddToBlocklist(ctx, user, added); err != nil {
		return err
	}
	next := maps.Clone(old)
	for _, j := range added {
		next[j] = struct{}{}
	}
	f.lists.put(user, next)
	return nil
}

// newItems returns the jids not in b.
func newItems(b blockSet, jids []string) []string {
	var out []string
	for _, j := range jids {
		if _, ok := b[j]; !ok {
			out = append(out, j)
		}
	}
	return out
}

// unblock removes the items (all of them when there are none), stores the
// list, pushes the change and restores presence for the removed ones.
func (f *Feature) unblock(ctx context.Context, user jid.JID, q *stanza.Element) (*stanza.Element, error) {
	jids, serr := items(q)
	if serr != nil {
		return nil, serr
	}
	l := f.lists.lock(user.String())
	l.Lock()
	old, err := f.lists.getLocked(ctx, user.String())
	if err != nil {
		l.Unlock()
		return nil, err
	}
	var removed []string
	next := maps.Clone(old)
	if len(jids) == 0 {
		removed = slicesOf(old)
		err = f.st.ClearBlocklist(ctx, user.String())
		next = blockSet{}
	} else {
		for _, j := range jids {
			if _, ok := old[j]; ok {
				removed = append(removed, j)
				delete(next, j)
			}
		}
		err = f.st.RemoveFromBlocklist(ctx, user.String(), removed)
	}
	if err == nil {
		f.lists.put(user.String(), next)
	}
	l.Unlock()
	if err != nil {
		return nil, err
	}
	f.push(user, "unblock", jids)
	for _, j := range removed {
		f.restorePresence(ctx, user, j)
	}
	return nil, nil
}

func slicesOf(b blockSet) []string {
	out := make([]string, 0, len(b))
	for j := range b {
		out = append(out, j)
	}
	return out
}

// subscription returns the user's roster subscription with contact
// (store.SubNone when there is no item).
func (f *Feature) subscription(ctx context.Context, user, contact jid.JID) string {
	it, err := f.st.GetRosterItem(ctx, user.String(), contact.Bare().String())
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			f.log.Error("reading a roster item", "user", user.String(), "contact", contact.Bare().String(), "err", err)
		}
		return store.SubNone
	}
	return it.Subscription
}

// contactOf parses a blocked item that names one account (bare or full
// JID); domains are not enumerated.
func contactOf(item string) (jid.JID, bool) {
	j, err := jid.Parse(item)
	return j, err == nil && j.Local() != ""
}

// cutPresence sends unavailable presence from the user's available devices
// to a contact subscribed to them, and from the contact's available devices
// to the user's devices when the user is subscribed to the contact.
func (f *Feature) cutPresence(ctx context.Context, user jid.JID, item string) {
	c, ok := contactOf(item)
	if !ok || c.Bare() == user {
		return
	}
	sub := f.subscription(ctx, user, c)
	if sub == store.SubFrom || sub == store.SubBoth {
		for _, s := range f.host.Sessions(user) {
			if s.Available() {
				f.host.Route(ctx, unavailable(s.JID(), c))
			}
		}
	}
	if sub == store.SubTo || sub == store.SubBoth {
		for _, s := range f.host.Sessions(c.Bare()) {
			if s.Available() && (c.IsBare() || s.JID() == c) {
				f.host.DeliverToAvailable(user, unavailable(s.JID(), user))
			}
		}
	}
}

// restorePresence sends the user's current presence to an unblocked
// contact subscribed to it, and probes the contact for the user when the
// user is subscribed to the contact (the roster feature answers the probe).
func (f *Feature) restorePresence(ctx context.Context, user jid.JID, item string) {
	c, ok := contactOf(item)
	if !ok || c.Bare() == user {
		return
	}
	sub := f.subscription(ctx, user, c)
	if sub == store.SubFrom || sub == store.SubBoth {
		for _, s := range f.host.Sessions(user) {
			if p := s.Presence(); s.Available() && p != nil {
				cp := p.Copy()
				cp.SetAttr("from", s.JID().String())
				cp.SetAttr("to", c.String())
				f.host.Route(ctx, cp)
			}
		}
	}
	if sub == store.SubTo || sub == store.SubBoth {
		f.host.Route(ctx, stanza.NewElement(stanza.NSClient, stanza.KindPresence,
			"type", "probe", "from", user.String(), "to", c.Bare().String()))
	}
}

func unavailable(from, to jid.JID) *stanza.Element {
	return stanza.NewElement(stanza.NSClient, stanza.KindPresence,
		"type", "unavailable", "from", from.String(), "to", to.String())
}
