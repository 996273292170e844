package groups

import (
	"context"
	"errors"
	"strconv"

	"github.com/parley-im/parley/internal/jid"
	"github.com/parley-im/parley/internal/module"
	"github.com/parley-im/parley/internal/stanza"
	"github.com/parley-im/parley/internal/store"
)

// receiptOf returns the message id and kind of a delivery receipt
// (XEP-0184) or displayed marker (XEP-0333) in m, or "".
func receiptOf(m *stanza.Element) (id string, displayed bool) {
	if r := m.Child(stanza.NSMarkers, "displayed"); r != nil {
		return r.Attr("id"), true
	}
	if r := m.Child(stanza.NSReceipts, "received"); r != nil {
		return r.Attr("id"), false
	}
	if r := m.Child(stanza.NSMarkers, "received"); r != nil {
		return r.Attr("id"), false
	}
	return "", false
}

// receipt records a member's receipt for a group message and passes it
// to the message's sender only, batched with the others of a short window
// (receiptbatch.go).
func (f *Feature) receipt(ctx context.Context, m *stanza.Element, g store.Group, member jid.JID) (module.Stored, *stanza.Error) {
	id, displayed := receiptOf(m)
	if id == "" {
		return module.Stored{}, nil
	}
	sender, err := f.st.GroupMessageSender(ctx, g.ID, id)
	if errors.Is(err, store.ErrNotFound) {
		orig, ok := f.ids.get(g.ID, id) // named by the room's stanza-id?
		if !ok {
			return module.Stored{}, nil // not (yet) fanned out, or not a member's post
		}
		id = orig
		sender, err = f.st.GroupMessageSender(ctx, g.ID, id)
	}
	if errors.Is(err, store.ErrNotFound) {
		return module.Stored{}, nil
	}
	if err != nil {
		return module.Stored{}, f.storeErr("group message", err)
	}
	if err := f.st.MarkGroupReceipt(ctx, g.ID, id, member.String(), displayed, f.opts.Now()); err != nil {
		return module.Stored{}, f.storeErr("group receipt", err)
	}
	if sender == member.String() {
		return module.Stored{}, nil // one's own devices
	}
	f.batcher.add(batchKey{sender: sender, group: g.ID},
		receiptItem{id: id, member: member.String(), displayed: displayed, at: f.opts.Now(), orig: m})
	return module.Stored{}, nil
}

// receipts answers <info id='MSGID'/>: the per-member state of a message
// and the aggregate ticks over the current members other than the sender.
func (f *Feature) receipts(ctx context.Context, r *request, id string) (*stanza.Element, *stanza.Error) {
	sender, err := f.st.GroupMessageSender(ctx, r.group.ID, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, stanza.NewError(stanza.ItemNotFound, "no such message in this group")
	}
	if err != nil {
		return nil, f.storeErr("group message", err)
	}
	rcs, err := f.st.GroupReceipts(ctx, r.group.ID, id)
	if err != nil {
		return nil, f.storeErr("group receipts", err)
	}
	ms, err := f.st.GroupMembers(ctx, r.group.ID)
	if err != nil {
		return nil, f.storeErr("members", err)
	}
	by := make(map[string]store.GroupReceipt, len(rcs))
	el := stanza.NewElement(NS, "receipts", "id", id, "sender", sender)
	for _, rc := range rcs {
		by[rc.Member] = rc
		e := stanza.NewElement(NS, "receipt", "jid", rc.Member, "delivered", stamp(rc.Delivered))
		if !rc.Displayed.IsZero() {
			e.SetAttr("displayed", stamp(rc.Displayed))
		}
		el.AddChild(e)
	}
	all, read := true, true
	for _, m := range ms {
		if m.JID == sender {
			continue
		}
		rc, ok := by[m.JID]
		all = all && ok
		read = read && ok && !rc.Displayed.IsZero()
	}
	el.SetAttr("delivered-all", strconv.FormatBool(all)).SetAttr("displayed-all", strconv.FormatBool(read))
	return stanza.Result(r.iq).AddChild(el), nil
}
