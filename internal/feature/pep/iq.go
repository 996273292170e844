package pep

import (
	"context"
	"crypto/rand"
	"errors"
	"strconv"
	"time"

	"github.com/parley-im/parley/internal/jid"
	"github.com/parley-im/parley/internal/stanza"
	"github.com/parley-im/parley/internal/store"
)

// ownRequest answers pubsub requests to the sender's own account.
func (f *Feature) ownRequest(ctx context.Context, iq *stanza.Element) (*stanza.Element, error) {
	from, err := iq.From()
	if err != nil || from.Local() == "" {
		return nil, stanza.NewError(stanza.JIDMalformed, "")
	}
	ps := iq.Children[0]
	if ps.Name != "pubsub" {
		return nil, stanza.NewError(stanza.BadRequest, "expected <pubsub/>")
	}
	owner := from.Bare()
	switch {
	case iq.Type() == "get" && ps.Child(NSPubSub, "items") != nil:
		return f.items(ctx, iq, owner, owner)
	case iq.Type() == "set" && ps.Child(NSPubSub, "publish") != nil:
		return f.publish(ctx, iq, owner)
	case iq.Type() == "set" && ps.Child(NSPubSub, "retract") != nil:
		return f.retract(ctx, iq, owner)
	}
	return nil, pubsubError(stanza.FeatureNotImplemented, "unsupported")
}

// otherRequest answers requests to another account's PEP service: only
// item retrieval.
func (f *Feature) otherRequest(ctx context.Context, iq *stanza.Element) (*stanza.Element, error) {
	from, err1 := iq.From()
	to, err2 := iq.To()
	if err1 != nil || err2 != nil {
		return nil, stanza.NewError(stanza.JIDMalformed, "")
	}
	ps := iq.Children[0]
	if iq.Type() == "get" && ps.Name == "pubsub" && ps.Child(NSPubSub, "items") != nil {
		return f.items(ctx, iq, to.Bare(), from)
	}
	return nil, pubsubError(stanza.FeatureNotImplemented, "unsupported")
}

// ownerRequest answers pubsub#owner requests: node deletion.
func (f *Feature) ownerRequest(ctx context.Context, iq *stanza.Element) (*stanza.Element, error) {
	from, err := iq.From()
	if err != nil || from.Local() == "" {
		return nil, stanza.NewError(stanza.JIDMalformed, "")
	}
	del := iq.Children[0].Child(NSPubSubOwner, "delete")
	if iq.Type() != "set" || del == nil || del.Attr("node") == "" {
		return nil, pubsubError(stanza.FeatureNotImplemented, "unsupported")
	}
	owner, node := from.Bare(), del.Attr("node")
	if err := f.st.DeletePEPNode(ctx, owner.String(), node); errors.Is(err, store.ErrNotFound) {
		return nil, stanza.NewError(stanza.ItemNotFound, "")
	} else if err != nil {
		return nil, err
	}
	f.notify(ctx, owner, node, store.PEPNode{}, stanza.NewElement(NSPubSubEvent, "delete", "node", node))
	return nil, nil
}

// items returns owner's items of a node to viewer.
func (f *Feature) items(ctx context.Context, iq *stanza.Element, owner, viewer jid.JID) (*stanza.Element, error) {
	req := iq.Children[0].Child(NSPubSub, "items")
	node := req.Attr("node")
	if node == "" {
		return nil, pubsubError(stanza.BadRequest, "nodeid-required")
	}
	cfg, err := f.st.GetPEPNode(ctx, owner.String(), node)
	if errors.Is(err, store.ErrNotFound) {
		return nil, stanza.NewError(stanza.ItemNotFound, "")
	}
	if err != nil {
		return nil, err
	}
	if err := f.checkAccess(ctx, owner, viewer, cfg.Access); err != nil {
		return nil, err
	}
	max, _ := strconv.Atoi(req.Attr("max_items"))
	list, err := f.st.GetPEPItems(ctx, owner.String(), node, max)
	if err != nil {
		return nil, err
	}
	out := stanza.NewElement(NSPubSub, "items", "node", node)
	wanted := wantedIDs(req)
	for i := len(list) - 1; i >= 0; i-- { // oldest first
		if len(wanted) > 0 && !wanted[list[i].ID] {
			continue
		}
		if el := f.itemElement(NSPubSub, list[i]); el != nil {
			out.AddChild(el)
		}
	}
	return stanza.Result(iq).AddChild(stanza.NewElement(NSPubSub, "pubsub").AddChild(out)), nil
}

func (f *Feature) checkAccess(ctx context.Context, owner, viewer jid.JID, access string) error {
	ok, err := f.mayAccess(ctx, owner, viewer, access)
	switch {
	case err != nil:
		return err
	case ok:
		return nil
	case access == AccessPresence:
		return pubsubError(stanza.NotAuthorized, "presence-subscription-required")
	}
	return pubsubError(stanza.NotAllowed, "closed-node")
}

func wantedIDs(req *stanza.Element) map[string]bool {
	var ids map[string]bool
	for _, c := range req.Children {
		if c.Space == NSPubSub && c.Name == "item" && c.Attr("id") != "" {
			if ids == nil {
				ids = make(map[string]bool)
			}
			ids[c.Attr("id")] = true
		}
	}
	return ids
}

// itemElement rebuilds <item id>payload</item> in namespace ns.
func (f *Feature) itemElement(ns string, it store.PEPItem) *stanza.Element {
	el := stanza.NewElement(ns, "item", "id", it.ID)
	if len(it.Payload) == 0 {
		return el
	}
	payload, err := f.codec.Decode(it.Payload)
	if err != nil {
		f.log.Error("undecodable PEP item skipped", "id", it.ID, "err", err)
		return nil
	}
	return el.AddChild(payload)
}

// publish stores an item (creating or reconfiguring the node) and notifies.
func (f *Feature) publish(ctx context.Context, iq *stanza.Element, owner jid.JID) (*stanza.Element, error) {
	ps := iq.Children[0]
	pub := ps.Child(NSPubSub, "publish")
	node := pub.Attr("node")
	if node == "" {
		return nil, pubsubError(stanza.BadRequest, "nodeid-required")
	}
	item := pub.Child(NSPubSub, "item")
	if item == nil || len(item.Children) != 1 {
		return nil, pubsubError(stanza.BadRequest, "payload-required")
	}
	cfg, err := f.nodeFor(ctx, owner, node, ps.Child(NSPubSub, "publish-options"))
	if err != nil {
		return nil, err
	}
	id := item.Attr("id")
	if id == "" {
		id = rand.Text()
	}
	it := store.PEPItem{ID: id, Payload: f.codec.Encode(item.Children[0]), Published: time.Now()}
	if err := f.st.PutPEPItem(ctx, owner.String(), node, it); err != nil {
		return nil, err
	}
	if ev := f.itemElement(NSPubSubEvent, it); ev != nil {
		f.notify(ctx, owner, node, cfg, stanza.NewElement(NSPubSubEvent, "items", "node", node).AddChild(ev))
	}
	res := stanza.NewElement(NSPubSub, "publish", "node", node).AddChild(stanza.NewElement(NSPubSub, "item", "id", id))
	return stanza.Result(iq).AddChild(stanza.NewElement(NSPubSub, "pubsub").AddChild(res)), nil
}

// nodeFor returns the node's configuration after applying the publish
// options, creating the node when it does not exist.
func (f *Feature) nodeFor(ctx context.Context, owner jid.JID, node string, opts *stanza.Element) (store.PEPNode, error) {
	cfg, err := f.st.GetPEPNode(ctx, owner.String(), node)
	exists := err == nil
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return cfg, err
	}
	if !exists {
		cfg = store.PEPNode{Access: AccessPresence, MaxItems: 1}
	}
	changed, perr := applyOptions(&cfg, opts)
	if perr != nil {
		return cfg, perr
	}
	if !exists || changed {
		if err := f.st.PutPEPNode(ctx, owner.String(), node, cfg); err != nil {
			return cfg, err
		}
	}
	return cfg, nil
}

// retract removes an item, notifying when asked to.
func (f *Feature) retract(ctx context.Context, iq *stanza.Element, owner jid.JID) (*stanza.Element, error) {
	r := iq.Children[0].Child(NSPubSub, "retract")
	node, item := r.Attr("node"), r.Child(NSPubSub, "item")
	if node == "" || item == nil || item.Attr("id") == "" {
		return nil, pubsubError(stanza.BadRequest, "item-required")
	}
	cfg, err := f.st.GetPEPNode(ctx, owner.String(), node)
	if err == nil {
		err = f.st.DeletePEPItem(ctx, owner.String(), node, item.Attr("id"))
	}
	if errors.Is(err, store.ErrNotFound) {
		return nil, stanza.NewError(stanza.ItemNotFound, "")
	}
	if err != nil {
		return nil, err
	}
	if n := r.Attr("notify"); n == "true" || n == "1" {
		ev := stanza.NewElement(NSPubSubEvent, "items", "node", node).
			AddChild(stanza.NewElement(NSPubSubEvent, "retract", "id", item.Attr("id")))
		f.notify(ctx, owner, node, cfg, ev)
	}
	return nil, nil
}
