package roster

import (
	"context"
	"errors"
	"strconv"

	"github.com/parley-im/parley/internal/jid"
	"github.com/parley-im/parley/internal/stanza"
	"github.com/parley-im/parley/internal/store"
)

// handleIQ answers jabber:iq:roster requests for the sender's own account.
func (f *Feature) handleIQ(ctx context.Context, iq *stanza.Element) (*stanza.Element, error) {
	from, err := iq.From()
	if err != nil || from.Local() == "" {
		return nil, stanza.NewError(stanza.Forbidden, "")
	}
	q := iq.Children[0]
	if q.Name != "query" {
		return nil, stanza.NewError(stanza.BadRequest, "")
	}
	var resp *stanza.Element
	switch iq.Type() {
	case "get":
		resp, err = f.get(ctx, iq, from)
	case "set":
		err = f.set(ctx, q, from.Bare())
	default:
		err = stanza.NewError(stanza.BadRequest, "")
	}
	return resp, storeError(err)
}

// storeError turns a store failure the client can retry into a wait error.
func storeError(err error) error {
	if errors.Is(err, store.ErrUnavailable) {
		return stanza.NewError(stanza.ResourceConstraint, "the server cannot store this right now; try again later")
	}
	return err
}

// get returns the roster (RFC 6121 2.2), or an empty result when the client
// holds the current version already (roster versioning, RFC 6121 2.6).
func (f *Feature) get(ctx context.Context, iq *stanza.Element, from jid.JID) (*stanza.Element, error) {
	// Mark the device interested before reading, so that no push of a change
	// made after the read is missed.
	if s := f.host.Session(from); s != nil {
		s.SetRosterRequested()
	}
	items, ver, err := f.st.GetRoster(ctx, from.Bare().String())
	if err != nil {
		return nil, err
	}
	v := strconv.FormatUint(ver, 10)
	q := iq.Children[0]
	if q.HasAttr("ver") && q.Attr("ver") == v {
		return stanza.Result(iq), nil
	}
	out := stanza.NewElement(stanza.NSRoster, "query", "ver", v)
	for _, it := range items {
		if !it.Hidden {
			out.AddChild(ItemElement(it))
		}
	}
	return stanza.Result(iq).AddChild(out), nil
}

// set adds, updates or removes one item (RFC 6121 2.3 to 2.5).
func (f *Feature) set(ctx context.Context, q *stanza.Element, owner jid.JID) error {
	req, serr := f.parseSet(q)
	if serr != nil {
		return serr
	}
	if req.remove {
		return f.removeItem(ctx, owner, req.contact)
	}
	_, err := f.modify(ctx, owner, req.contact.String(), func(it *store.RosterItem, found bool) (action, error) {
		if !found || it.Hidden {
			if err := f.checkRoom(ctx, owner); err != nil {
				return keep, err
			}
		}
		it.Hidden = false
		it.Name = req.name
		it.Groups = req.groups
		return put, nil
	})
	return err
}

// checkRoom fails with policy-violation when the owner's roster is full. The
// caller holds the owner's lock.
func (f *Feature) checkRoom(ctx context.Context, owner jid.JID) error {
	items, _, err := f.st.GetRoster(ctx, owner.String())
	if err != nil {
		return err
	}
	n := 0
	for _, it := range items {
		if !it.Hidden {
			n++
		}
	}
	if n >= f.opts.MaxItems {
		return stanza.NewError(stanza.PolicyViolation,
			"the roster is full ("+strconv.Itoa(f.opts.MaxItems)+" contacts)")
	}
	return nil
}

// removeItem deletes a contact and cancels the subscriptions both ways
// (RFC 6121 2.5.2): unsubscribe if the user was subscribed to the contact
// (or asked to be), unsubscribed if the contact was subscribed to the user
// (or asked to be), and unavailable presence from the user's available
// resources when the contact was receiving it.
func (f *Feature) removeItem(ctx context.Context, owner, contact jid.JID) error {
	c, err := f.modify(ctx, owner, contact.String(), func(it *store.RosterItem, found bool) (action, error) {
		if !found || it.Hidden {
			return keep, stanza.NewError(stanza.ItemNotFound, "")
		}
		return remove, nil
	})
	if err != nil {
		return err
	}
	old := c.before
	if subscribedTo(old.Subscription) || old.AskOut {
		f.host.Route(ctx, subscription("unsubscribe", owner, contact, nil))
	}
	if subscribedFrom(old.Subscription) || old.PendingIn {
		f.host.Route(ctx, subscription("unsubscribed", owner, contact, nil))
	}
	if subscribedFrom(old.Subscription) {
		f.sendUnavailableOf(ctx, owner, contact.String())
	}
	return nil
}
