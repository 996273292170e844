package roster

import (
	"crypto/rand"
	"slices"
	"strconv"

	"github.com/parley-im/parley/internal/jid"
	"github.com/parley-im/parley/internal/stanza"
	"github.com/parley-im/parley/internal/store"
)

// ItemElement renders a roster item as the <item/> of a roster result or
// push (RFC 6121 2.1.2): jid, name, subscription, ask="subscribe" for a
// pending outbound request, approved="true" for a pre-approval, and the
// groups. The server-side PendingIn and Hidden flags are not shown.
func ItemElement(it store.RosterItem) *stanza.Element {
	el := stanza.NewElement(stanza.NSRoster, "item", "jid", it.JID)
	el.SetAttr("name", it.Name)
	sub := it.Subscription
	if sub == "" {
		sub = store.SubNone
	}
	el.SetAttr("subscription", sub)
	if it.AskOut {
		el.SetAttr("ask", "subscribe")
	}
	if it.PreApproved && !subscribedFrom(sub) {
		el.SetAttr("approved", "true")
	}
	for _, g := range it.Groups {
		ge := stanza.NewElement(stanza.NSRoster, "group")
		ge.Text = g
		el.AddChild(ge)
	}
	return el
}

// removedElement is the pushed <item/> of a removed contact.
func removedElement(contact string) *stanza.Element {
	return stanza.NewElement(stanza.NSRoster, "item", "jid", contact, "subscription", "remove")
}

// subscribedFrom reports whether the contact receives the owner's presence.
func subscribedFrom(sub string) bool { return sub == store.SubFrom || sub == store.SubBoth }

// subscribedTo reports whether the owner receives the contact's presence.
func subscribedTo(sub string) bool { return sub == store.SubTo || sub == store.SubBoth }

// push sends a roster push with one item to every interested resource of
// user (RFC 6121 2.1.6): those that requested the roster in their session.
func (f *Feature) push(user jid.JID, ver uint64, item *stanza.Element) {
	v := strconv.FormatUint(ver, 10)
	for _, s := range f.host.Sessions(user) {
		if !s.RosterRequested() {
			continue
		}
		iq := stanza.NewIQ("set", "push-"+rand.Text())
		iq.SetAttr("to", s.JID().String())
		q := stanza.NewElement(stanza.NSRoster, "query", "ver", v)
		q.AddChild(item.Copy())
		s.Send(iq.AddChild(q))
	}
}

// setRequest is a validated roster set.
type setRequest struct {
	contact jid.JID // bare
	name    string
	groups  []string // sorted
	remove  bool
}

// parseSet validates the query of a roster set (RFC 6121 2.3.3, 2.5.3).
func (f *Feature) parseSet(q *stanza.Element) (setRequest, *stanza.Error) {
	var r setRequest
	if len(q.Children) != 1 || q.Children[0].Space != stanza.NSRoster || q.Children[0].Name != "item" {
		return r, stanza.NewError(stanza.BadRequest, "a roster set carries exactly one item")
	}
	item := q.Children[0]
	raw := item.Attr("jid")
	if raw == "" {
		return r, stanza.NewError(stanza.BadRequest, "the item has no jid")
	}
	contact, err := jid.Parse(raw)
	if err != nil {
		return r, stanza.NewError(stanza.JIDMalformed, "the item's jid is not a valid address")
	}
	r.contact = contact.Bare()
	// Any subscription value other than "remove" is ignored, as are ask and
	// approved: clients change those with presence stanzas (RFC 6121 2.1.2).
	if item.Attr("subscription") == "remove" {
		r.remove = true
		return r, nil
	}
	r.name = item.Attr("name")
	if len(r.name) > f.opts.MaxTextLen {
		return r, stanza.NewError(stanza.NotAcceptable, "the item's name is too long")
	}
	var serr *stanza.Error
	if r.groups, serr = f.parseGroups(item); serr != nil {
		return r, serr
	}
	return r, nil
}

func (f *Feature) parseGroups(item *stanza.Element) ([]string, *stanza.Error) {
	var groups []string
	for _, c := range item.Children {
		if c.Space != stanza.NSRoster || c.Name != "group" {
			continue
		}
		switch {
		case c.Text == "":
			return nil, stanza.NewError(stanza.NotAcceptable, "empty group name")
		case len(c.Text) > f.opts.MaxTextLen:
			return nil, stanza.NewError(stanza.NotAcceptable, "group name too long")
		}
		groups = append(groups, c.Text)
	}
	slices.Sort(groups)
	for i := 1; i < len(groups); i++ {
		if groups[i] == groups[i-1] {
			return nil, stanza.NewError(stanza.BadRequest, "duplicate group "+strconv.Quote(groups[i]))
		}
	}
	return groups, nil
}
