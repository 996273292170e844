package vcard

import (
	"context"
	"errors"
	"time"

	"github.com/parley-im/parley/internal/jid"
	"github.com/parley-im/parley/internal/module"
	"github.com/parley-im/parley/internal/stanza"
	"github.com/parley-im/parley/internal/store"
)

// NS is the vcard-temp namespace (XEP-0054).
const NS = "vcard-temp"

// node is the PEP node holding the vCard; itemID its one item.
const (
	node   = "vcard-temp"
	itemID = "current"
)

// Store is what the feature needs from storage.
type Store interface {
	store.PEP
	store.Privacy
	GetRosterItem(ctx context.Context, owner, contact string) (store.RosterItem, error)
}

// Codec turns a vCard into bytes for the store and back.
type Codec interface {
	Encode(el *stanza.Element) []byte
	Decode(b []byte) (*stanza.Element, error)
}

// Feature is the vcard-temp module.
type Feature struct {
	st    Store
	codec Codec
}

// New returns the feature.
func New(st Store, codec Codec) *Feature { return &Feature{st: st, codec: codec} }

// Name implements module.Feature.
func (f *Feature) Name() string { return "vcard" }

// Register implements module.Feature.
func (f *Feature) Register(h module.Host) error {
	h.AddDiscoFeature(NS)
	if err := h.HandleIQ(NS, module.ToOwnAccount, f.own); err != nil {
		return err
	}
	return h.HandleIQ(NS, module.ToOtherAccount, f.other)
}

// own answers a get or set of the sender's own vCard.
func (f *Feature) own(ctx context.Context, iq *stanza.Element) (*stanza.Element, error) {
	from, err := iq.From()
	if err != nil || from.Local() == "" {
		return nil, stanza.NewError(stanza.JIDMalformed, "")
	}
	q := iq.Children[0]
	if q.Name != "vCard" {
		return nil, stanza.NewError(stanza.BadRequest, "expected <vCard/>")
	}
	if iq.Type() == "get" {
		v, err := f.load(ctx, from.Bare())
		if err != nil {
			return nil, err
		}
		return stanza.Result(iq).AddChild(v), nil
	}
	return nil, f.save(ctx, from.Bare(), q)
}

// other answers a get of another user's vCard.
func (f *Feature) other(ctx context.Context, iq *stanza.Element) (*stanza.Element, error) {
	from, err1 := iq.From()
	to, err2 := iq.To()
	if err1 != nil || err2 != nil {
		return nil, stanza.NewError(stanza.JIDMalformed, "")
	}
	if iq.Type() != "get" || iq.Children[0].Name != "vCard" {
		return nil, stanza.NewError(stanza.NotAllowed, "only the owner sets a vCard")
	}
	v, err := f.load(ctx, to.Bare())
	if err != nil {
		return nil, err
	}
	f.addAvatarPhoto(ctx, to.Bare(), v)
	if ok, err := f.seesPhoto(ctx, to.Bare(), from.Bare()); err != nil {
		return nil, err
	} else if !ok {
		v.RemoveChildren(NS, "PHOTO")
	}
	return stanza.Result(iq).AddChild(v), nil
}

// load returns user's vCard (empty when none was set).
func (f *Feature) load(ctx context.Context, user jid.JID) (*stanza.Element, error) {
	items, err := f.st.GetPEPItems(ctx, user.String(), node, 1)
	if errors.Is(err, store.ErrNotFound) || (err == nil && len(items) == 0) {
		return stanza.NewElement(NS, "vCard"), nil
	}
	if err != nil {
		return nil, err
	}
	v, err := f.codec.Decode(items[0].Payload)
	if err != nil {
		return nil, err
	}
	return v, nil
}

// save stores v as user's vCard.
func (f *Feature) save(ctx context.Context, user jid.JID, v *stanza.Element) error {
	if _, err := f.st.GetPEPNode(ctx, user.String(), node); errors.Is(err, store.ErrNotFound) {
		if err := f.st.PutPEPNode(ctx, user.String(), node, store.PEPNode{Access: "whitelist", MaxItems: 1}); err != nil {
			return err
		}
	} else if err != nil {
		return err
	}
	return f.st.PutPEPItem(ctx, user.String(), node, store.PEPItem{ID: itemID, Payload: f.codec.Encode(v), Published: time.Now()})
}

// seesPhoto applies owner's photo privacy setting to viewer.
func (f *Feature) seesPhoto(ctx context.Context, owner, viewer jid.JID) (bool, error) {
	p, err := f.st.GetPrivacy(ctx, owner.String())
	if err != nil {
		return false, err
	}
	switch p.Photo {
	case store.AudienceEveryone:
		return true, nil
	case store.AudienceNobody:
		return false, nil
	}
	item, err := f.st.GetRosterItem(ctx, owner.String(), viewer.String())
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return item.Subscription == store.SubTo || item.Subscription == store.SubBoth, nil
}
