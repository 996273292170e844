package privacy

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

// NS is Parley's private namespace for privacy settings.
const NS = "urn:parley:privacy:0"

// Store is what the feature needs from storage: the settings, and the
// roster to know who is a contact.
type Store interface {
	store.Privacy
	GetRoster(ctx context.Context, owner string) ([]store.RosterItem, uint64, error)
	GetRosterItem(ctx context.Context, owner, contact string) (store.RosterItem, error)
}

// cacheSize bounds the settings kept in memory.
const cacheSize = 100_000

// Feature is the privacy module.
type Feature struct {
	st Store

	// Set by Register, read-only afterwards.
	host module.Host
	log  *slog.Logger

	mu    sync.Mutex
	cache map[string]store.PrivacySettings // bare JID -> settings; guarded by mu
}

// New returns the feature.
func New(st Store) *Feature {
	return &Feature{st: st, cache: make(map[string]store.PrivacySettings)}
}

// Name implements module.Feature.
func (f *Feature) Name() string { return "privacy" }

// Register implements module.Feature.
func (f *Feature) Register(h module.Host) error {
	f.host, f.log = h, h.Log()
	h.AddDiscoFeature(NS)
	h.FilterRoute(f.filter)
	return h.HandleIQ(NS, module.ToOwnAccount, f.command)
}

// Settings returns user's settings; settings that cannot be read are the
// most private ones (the error is logged).
func (f *Feature) Settings(ctx context.Context, user jid.JID) store.PrivacySettings {
	key := user.Bare().String()
	f.mu.Lock()
	p, ok := f.cache[key]
	f.mu.Unlock()
	if ok {
		return p
	}
	p, err := f.st.GetPrivacy(ctx, key)
	if err != nil {
		f.log.Error("reading privacy settings", "user", key, "err", err)
		return store.PrivacySettings{LastSeen: store.AudienceNobody, OnlineAsLastSeen: true,
			ReadReceiptsOff: true, Photo: store.AudienceNobody}
	}
	f.remember(key, p)
	return p
}

func (f *Feature) remember(key string, p store.PrivacySettings) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.cache) >= cacheSize {
		for k := range f.cache { // evict an arbitrary entry
			delete(f.cache, k)
			break
		}
	}
	f.cache[key] = p
}

// isContact reports whether owner added viewer as a contact: viewer is in
// owner's roster with a subscription of to or both.
func (f *Feature) isContact(ctx context.Context, owner, viewer jid.JID) bool {
	item, err := f.st.GetRosterItem(ctx, owner.Bare().String(), viewer.Bare().String())
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			f.log.Error("reading a roster item", "owner", owner.Bare().String(), "err", err)
		}
		return false
	}
	return item.Subscription == store.SubTo || item.Subscription == store.SubBoth
}

// sees reports whether viewer is in owner's audience a.
func (f *Feature) sees(ctx context.Context, owner, viewer jid.JID, a store.Audience) bool {
	switch a {
	case store.AudienceEveryone:
		return true
	case store.AudienceContacts:
		return f.isContact(ctx, owner, viewer)
	}
	return false
}

// onlineAudience is who sees p's owner online.
func onlineAudience(p store.PrivacySettings) store.Audience {
	if p.OnlineAsLastSeen {
		return p.LastSeen
	}
	return store.AudienceEveryone
}

// command answers a get or set of the user's settings.
func (f *Feature) command(ctx context.Context, iq *stanza.Element) (*stanza.Element, error) {
	from, err := iq.From()
	if err != nil || from.Local() == "" {
		return nil, stanza.NewError(stanza.JIDMalformed, "")
	}
	q := iq.Children[0]
	if q.Name != "privacy" {
		return nil, stanza.NewError(stanza.BadRequest, "expected <privacy/>")
	}
	user := from.Bare()
	old := f.Settings(ctx, user)
	if iq.Type() == "get" {
		return stanza.Result(iq).AddChild(encode(old)), nil
	}
	p, perr := decode(q, old)
	if perr != nil {
		return nil, perr
	}
	if err := f.st.PutPrivacy(ctx, user.String(), p); err != nil {
		return nil, err
	}
	f.remember(user.String(), p)
	if onlineAudience(p) != onlineAudience(old) {
		f.rebroadcast(ctx, user, old, p)
	}
	return stanza.Result(iq).AddChild(encode(p)), nil
}
