package groups

import (
	"context"
	"errors"

	"github.com/parley-im/parley/internal/jid"
	"github.com/parley-im/parley/internal/module"
	"github.com/parley-im/parley/internal/stanza"
	"github.com/parley-im/parley/internal/store"
)

// post takes a message to a group: it checks the sender, stamps the group
// copy and appends it to the outbox (durable) for the worker.
func (f *Feature) post(ctx context.Context, m *stanza.Element, to, from jid.JID) (module.Stored, *stanza.Error) {
	sender := from.Bare()
	switch m.Type() {
	case "groupchat", "chat", "normal", "":
	case "error":
		return module.Stored{}, nil
	default:
		return module.Stored{}, stanza.NewError(stanza.BadRequest, "a group message has type groupchat (or chat)")
	}
	if to.Local() == "" || !to.IsBare() {
		if m.Type() == "chat" {
			return module.Stored{}, stanza.NewError(stanza.NotAcceptable, "private messages through a group are not supported; write to the member's address")
		}
		return module.Stored{}, stanza.NewError(stanza.NotAcceptable, "send group messages to the group's bare address")
	}
	g, err := f.st.GetGroup(ctx, to.Local())
	if errors.Is(err, store.ErrNotFound) {
		return module.Stored{}, stanza.NewError(stanza.ItemNotFound, "no such group")
	}
	if err != nil {
		return module.Stored{}, f.storeErr("group", err)
	}
	mem, err := f.st.GroupMember(ctx, g.ID, sender.String())
	if errors.Is(err, store.ErrNotFound) {
		return module.Stored{}, stanza.NewError(stanza.Forbidden, "you are not a member of this group")
	}
	if err != nil {
		return module.Stored{}, f.storeErr("member", err)
	}
	if m.Body() == "" {
		switch {
		case m.Child(stanza.NSClient, "subject") != nil:
			return module.Stored{}, f.changeSubject(ctx, m, g, mem, sender)
		case m.Child(NSMUCUser, "x") != nil:
			return module.Stored{}, f.mediatedInvite(ctx, m, g, mem, from)
		}
		return f.receipt(ctx, m, g, sender) // chat states are not fanned out (yet)
	}
	if g.AdminsOnly && mem.Role == store.RoleMember {
		return module.Stored{}, stanza.NewError(stanza.NotAllowed, "only admins can post in this group")
	}
	c := f.groupCopy(m, g.ID, sender)
	return f.appendPost(ctx, c)
}

// groupCopy is the message every member gets: type groupchat, from the
// group with the sender's bare JID as resource, a fresh group stanza-id
// and a <sender/> element. Stanza-ids, delays, receipts, markers other
// than markable, and elements of this namespace that the client put in are
// removed (no forgery; receipts go to senders, not to the group).
func (f *Feature) groupCopy(m *stanza.Element, id string, sender jid.JID) *stanza.Element {
	gj := f.groupJID(id)
	from, _ := gj.WithResource(sender.String())
	c := stanza.NewElement(stanza.NSClient, stanza.KindMessage, "type", "groupchat", "from", from.String())
	if mid := m.ID(); mid != "" {
		c.SetAttr("id", mid)
	}
	for _, ch := range m.Children {
		switch {
		case ch.Space == stanza.NSSID && ch.Name == "stanza-id", ch.Space == NS, ch.Name == "delay",
			ch.Space == stanza.NSReceipts && ch.Name == "received",
			ch.Space == stanza.NSMarkers && ch.Name != "markable":
			continue
		}
		c.AddChild(ch)
	}
	c.AddChild(stanza.NewElement(NS, "sender", "jid", sender.String()))
	return stampGroupID(c, gj)
}

func stampGroupID(c *stanza.Element, gj jid.JID) *stanza.Element {
	return c.AddChild(stanza.NewElement(stanza.NSSID, "stanza-id", "id", newID(), "by", gj.String()))
}

// append writes c to the outbox, durably, and wakes the worker.
func (f *Feature) append(ctx context.Context, c *stanza.Element) (module.Stored, *stanza.Error) {
	return f.appendWaiting(ctx, c, false)
}

// appendPost is append for a device's own post: when the store makes the
// post visible before it is durable (store.QueueStarter) and the host
// lets the device's session wait for that (module.DurabilityDeferrer),
// the session acknowledges the post only once it is durable, reading the
// device's next stanzas meanwhile: a burst of posts shares syncs, where
// each waited for one of its own. The worker may fan a post out while it
// syncs, as the router hands a one-to-one message to its recipient's
// devices while it syncs. The outbox's other writes (system messages, a
// subject's announcement) are waited for where they are made (append):
// their failures are logged there, not answered to the device.
func (f *Feature) appendPost(ctx context.Context, c *stanza.Element) (module.Stored, *stanza.Error) {
	return f.appendWaiting(ctx, c, true)
}

func (f *Feature) appendWaiting(ctx context.Context, c *stanza.Element, sessionWaits bool) (module.Stored, *stanza.Error) {
	if serr := f.enqueue(ctx, f.codec.Encode(c), sessionWaits); serr != nil {
		return module.Stored{}, serr
	}
	f.poke()
	return module.Stored{StanzaID: groupStanzaID(c), Time: f.opts.Now()}, nil
}

// enqueue appends payload to the outbox; it returns once payload is
// durable, or once it is visible when sessionWaits and the sending
// device's session took the wait (see appendPost).
func (f *Feature) enqueue(ctx context.Context, payload []byte, sessionWaits bool) *stanza.Error {
	if !sessionWaits {
		if _, err := f.st.Enqueue(ctx, f.outbox, payload); err != nil {
			return f.storeErr("group outbox", err)
		}
		return nil
	}
	_, wait, err := store.StartEnqueue(ctx, f.st, f.outbox, payload)
	if err != nil {
		return f.storeErr("group outbox", err)
	}
	if wait == nil {
		return nil
	}
	settle := func() *stanza.Error {
		if err := wait(); err != nil {
			return f.storeErr("group outbox", err)
		}
		return nil
	}
	if d, ok := f.host.(module.DurabilityDeferrer); ok && d.DeferDurability(ctx, settle) {
		return nil
	}
	return settle()
}

// groupStanzaID is the stanza-id the group stamped on c.
func groupStanzaID(c *stanza.Element) string {
	from, err := c.From()
	if err != nil {
		return ""
	}
	by := from.Bare().String()
	for _, ch := range c.Children {
		if ch.Space == stanza.NSSID && ch.Name == "stanza-id" && ch.Attr("by") == by {
			return ch.Attr("id")
		}
	}
	return ""
}

// system appends a system message of group id: an <event/> and a body
// for clients that do not know the element.
func (f *Feature) system(ctx context.Context, id string, event *stanza.Element, text string) {
	gj := f.groupJID(id)
	c := stanza.NewElement(stanza.NSClient, stanza.KindMessage, "type", "groupchat", "from", gj.String(), "id", newID())
	b := stanza.NewElement(stanza.NSClient, "body")
	b.Text = text
	c.AddChild(b).AddChild(event)
	if _, serr := f.append(ctx, stampGroupID(c, gj)); serr != nil {
		f.log.Error("group system message not stored", "group", id, "err", serr)
	}
}

// changeSubject takes a MUC subject change (a message with a <subject/>
// and no body): admins only, as the group's configure request.
func (f *Feature) changeSubject(ctx context.Context, m *stanza.Element, g store.Group, mem store.GroupMember, sender jid.JID) *stanza.Error {
	r := &request{user: sender.String(), group: g, role: mem.Role,
		payload: stanza.NewElement(NS, "configure", "subject", m.ChildText(stanza.NSClient, "subject"))}
	if !r.admin() {
		return stanza.NewError(stanza.Forbidden, "only the group's admins can change the subject")
	}
	_, serr := f.configure(ctx, r)
	return serr
}

// announceSubject tells every member the new subject as MUC does: a
// message with a <subject/> and no body, from the room as the member who
// changed it (delivered like a post; the "configured" system message
// carries it for Parley's clients).
func (f *Feature) announceSubject(ctx context.Context, g store.Group, actor string) {
	gj := f.groupJID(g.ID)
	from, _ := gj.WithResource(actor)
	c := stanza.NewElement(stanza.NSClient, stanza.KindMessage, "type", "groupchat", "from", from.String(), "id", newID())
	c.AddChild(textElement(stanza.NSClient, "subject", g.Subject))
	if _, serr := f.append(ctx, stampGroupID(c, gj)); serr != nil {
		f.log.Error("group subject not stored", "group", g.ID, "err", serr)
	}
}

func textElement(ns, name, s string) *stanza.Element {
	e := stanza.NewElement(ns, name)
	e.Text = s
	return e
}

// mediatedInvite takes XEP-0045 invitations sent through the room: an
// admin's invitation makes the invitee a member (the room is
// members-only) and is passed on to them from the room.
func (f *Feature) mediatedInvite(ctx context.Context, m *stanza.Element, g store.Group, mem store.GroupMember, from jid.JID) *stanza.Error {
	r := &request{user: from.Bare().String(), group: g, role: mem.Role}
	for _, inv := range m.Child(NSMUCUser, "x").Children {
		if inv.Space != NSMUCUser || inv.Name != "invite" {
			continue
		}
		if !r.admin() {
			return stanza.NewError(stanza.Forbidden, "only the group's admins can invite to this members-only group")
		}
		add := stanza.NewElement(NS, "add").AddChild(stanza.NewElement(NS, "member", "jid", inv.Attr("to")))
		members, serr := f.memberJIDs(ctx, add, "")
		if serr != nil {
			return serr
		}
		for _, to := range members {
			if serr := f.addMember(ctx, g, to, r.user); serr != nil {
				return serr
			}
			f.host.Route(ctx, f.inviteMessage(g, from, to, inv.ChildText(NSMUCUser, "reason")))
		}
	}
	return nil
}

// inviteMessage is an invitation from the room (XEP-0045 7.8.2).
func (f *Feature) inviteMessage(g store.Group, inviter jid.JID, to, reason string) *stanza.Element {
	msg := stanza.NewElement(stanza.NSClient, stanza.KindMessage, "from", f.groupJID(g.ID).String(), "to", to, "id", newID())
	inv := stanza.NewElement(NSMUCUser, "invite", "from", inviter.String())
	if reason != "" {
		inv.AddChild(textElement(NSMUCUser, "reason", reason))
	}
	msg.AddChild(stanza.NewElement(NSMUCUser, "x").AddChild(inv))
	return msg.AddChild(textElement(stanza.NSClient, "body", inviter.Bare().String()+" added you to the group "+f.groupJID(g.ID).String()))
}
