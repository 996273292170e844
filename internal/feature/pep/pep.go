package pep

import (
	"context"
	"errors"
	"log/slog"
	"sync"

	"github.com/parley-im/parley/internal/jid"
	"github.com/parley-im/parley/internal/module"
	"github.com/parley-im/parley/internal/stanza"
	"github.com/parley-im/parley/internal/store"
)

// Namespaces of the feature.
const (
	NSPubSub      = "http://jabber.org/protocol/pubsub"        // XEP-0060
	NSPubSubEvent = "http://jabber.org/protocol/pubsub#event"  // XEP-0060
	NSPubSubOwner = "http://jabber.org/protocol/pubsub#owner"  // XEP-0060
	NSPubSubErrs  = "http://jabber.org/protocol/pubsub#errors" // XEP-0060
	NSCaps        = "http://jabber.org/protocol/caps"          // XEP-0115
	nsData        = "jabber:x:data"                            // XEP-0004
)

// Access models.
const (
	AccessPresence  = "presence"
	AccessOpen      = "open"
	AccessWhitelist = "whitelist"
)

// maxItemsLimit is what "max" means for pubsub#max_items.
const maxItemsLimit = 1000

// Store is what the feature needs from storage: the nodes, and rosters to
// know who is subscribed to whose presence.
type Store interface {
	store.PEP
	GetRoster(ctx context.Context, owner string) ([]store.RosterItem, uint64, error)
	GetRosterItem(ctx context.Context, owner, contact string) (store.RosterItem, error)
}

// Codec turns item payloads into bytes for the store and back.
type Codec interface {
	Encode(el *stanza.Element) []byte
	Decode(b []byte) (*stanza.Element, error)
}

// ErrNoRequester is returned by Register when the Host cannot send iq
// requests to devices (needed for entity capabilities).
var ErrNoRequester = errors.New("pep: the host does not implement module.IQRequester")

// Feature is the PEP module.
type Feature struct {
	st    Store
	codec Codec
	caps  *capsCache

	// Set by Register, read-only afterwards.
	host module.Host
	req  module.IQRequester
	log  *slog.Logger

	mu        sync.Mutex
	interests map[module.Session]interest // guarded by mu
}

// New returns the feature.
func New(st Store, codec Codec) *Feature {
	return &Feature{st: st, codec: codec, caps: newCapsCache(), interests: make(map[module.Session]interest)}
}

// Name implements module.Feature.
func (f *Feature) Name() string { return "pep" }

// AccountFeatures are the disco#info features of every account.
var accountFeatures = []string{
	NSPubSub + "#access-open", NSPubSub + "#access-presence", NSPubSub + "#access-whitelist",
	NSPubSub + "#auto-create", NSPubSub + "#auto-subscribe", NSPubSub + "#delete-nodes",
	NSPubSub + "#filtered-notifications", NSPubSub + "#item-ids", NSPubSub + "#last-published",
	NSPubSub + "#persistent-items", NSPubSub + "#publish", NSPubSub + "#publish-options",
	NSPubSub + "#retract-items", NSPubSub + "#retrieve-items",
}

// Register implements module.Feature.
func (f *Feature) Register(h module.Host) error {
	req, ok := h.(module.IQRequester)
	if !ok {
		return ErrNoRequester
	}
	f.host, f.req, f.log = h, req, h.Log()
	if ad, ok := h.(module.AccountDisco); ok {
		for _, v := range accountFeatures {
			ad.AddAccountDiscoFeature(v)
		}
		ad.AddAccountDiscoIdentity(module.DiscoIdentity{Category: "pubsub", Type: "pep"})
	}
	h.OnAvailable(f.available)
	h.OnSessionEnded(f.forget)
	if err := h.HandleIQ(NSPubSub, module.ToOwnAccount, f.ownRequest); err != nil {
		return err
	}
	if err := h.HandleIQ(NSPubSubOwner, module.ToOwnAccount, f.ownerRequest); err != nil {
		return err
	}
	return h.HandleIQ(NSPubSub, module.ToOtherAccount, f.otherRequest)
}

// mayAccess reports whether viewer may read owner's node with access model
// access.
func (f *Feature) mayAccess(ctx context.Context, owner, viewer jid.JID, access string) (bool, error) {
	if owner.Bare() == viewer.Bare() || access == AccessOpen {
		return true, nil
	}
	if access != AccessPresence {
		return false, nil
	}
	return f.subscribed(ctx, owner, viewer)
}

// subscribed reports whether viewer is subscribed to owner's presence.
func (f *Feature) subscribed(ctx context.Context, owner, viewer jid.JID) (bool, error) {
	item, err := f.st.GetRosterItem(ctx, owner.Bare().String(), viewer.Bare().String())
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return item.Subscription == store.SubFrom || item.Subscription == store.SubBoth, nil
}

// pubsubError is a XEP-0060 error with its pubsub#errors condition.
func pubsubError(cond stanza.Condition, app string) *stanza.Error {
	e := stanza.NewError(cond, "")
	if app != "" {
		e.App = stanza.NewElement(NSPubSubErrs, app)
	}
	return e
}
