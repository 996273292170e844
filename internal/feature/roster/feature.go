package roster

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"log/slog"
	"sync"

	"github.com/parley-im/parley/internal/jid"
	"github.com/parley-im/parley/internal/module"
	"github.com/parley-im/parley/internal/stanza"
	"github.com/parley-im/parley/internal/store"
)

// Store is what the feature needs from storage (*pebble.Store and every
// store.Roster satisfy it).
type Store interface {
	GetRoster(ctx context.Context, owner string) ([]store.RosterItem, uint64, error)
	GetRosterItem(ctx context.Context, owner, contact string) (store.RosterItem, error)
	PutRosterItem(ctx context.Context, owner string, item store.RosterItem) (uint64, error)
	DeleteRosterItem(ctx context.Context, owner, contact string) (uint64, error)
}

// Options are the feature's settings.
type Options struct {
	// MaxItems is the largest number of (visible) items in one roster; a
	// roster set or subscription request beyond it fails with
	// policy-violation. Default 1000.
	MaxItems int
	// MaxTextLen is the largest size in bytes of an item's name and of each
	// group name (RFC 6121 2.3.3: not-acceptable beyond). Default 1023.
	MaxTextLen int
}

// DefaultOptions returns the default settings.
func DefaultOptions() Options { return Options{MaxItems: 1000, MaxTextLen: 1023} }

// ErrInvalidOptions is returned (wrapped) by Options.Validate.
var ErrInvalidOptions = errors.New("roster: invalid options")

// Validate checks the settings.
func (o Options) Validate() error {
	if o.MaxItems < 1 {
		return fmt.Errorf("%w: MaxItems must be at least 1, not %d", ErrInvalidOptions, o.MaxItems)
	}
	if o.MaxTextLen < 1 {
		return fmt.Errorf("%w: MaxTextLen must be at least 1, not %d", ErrInvalidOptions, o.MaxTextLen)
	}
	return nil
}

const lockStripes = 64

// Feature is the roster and presence module (RFC 6121).
type Feature struct {
	st   Store
	opts Options

	// Set by Register, read-only afterwards.
	host module.Host
	log  *slog.Logger

	seed  maphash.Seed
	locks [lockStripes]sync.Mutex // per-owner read-modify-write of roster items

	directed directedSet
}

// New returns the feature with the default options.
func New(st Store) *Feature {
	f, _ := NewWithOptions(st, DefaultOptions())
	return f
}

// NewWithOptions returns the feature with the given options.
func NewWithOptions(st Store, opts Options) (*Feature, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	return &Feature{
		st:       st,
		opts:     opts,
		seed:     maphash.MakeSeed(),
		directed: directedSet{m: make(map[module.Session]map[string]struct{})},
	}, nil
}

// Name implements module.Feature.
func (f *Feature) Name() string { return "roster" }

// Register implements module.Feature. The core must also pass presence
// addressed to local users to Inbound.
func (f *Feature) Register(h module.Host) error {
	f.host = h
	f.log = h.Log()
	if f.log == nil {
		f.log = slog.New(slog.DiscardHandler)
	}
	if err := h.HandleIQ(stanza.NSRoster, module.ToOwnAccount, f.handleIQ); err != nil {
		return err
	}
	h.HandlePresence(f.outbound)
	h.OnAvailable(f.onAvailable)
	h.OnUnavailable(f.onUnavailable)
	return nil
}

func (f *Feature) lock(owner jid.JID) *sync.Mutex {
	return &f.locks[maphash.String(f.seed, owner.String())%lockStripes]
}

// action is what a change function decided to do with a roster item.
type action int

const (
	keep   action = iota // no state change
	put                  // store the item
	remove               // delete the item
)

// change is the outcome of modify.
type change struct {
	before store.RosterItem // the item before the change
	after  store.RosterItem // the item after the change
	found  bool             // the item existed before
	act    action
}

// modify runs fn on the owner's item for contact (a fresh item with
// subscription none when there is none) under the owner's lock, stores the
// result and pushes it to the owner's interested resources. Hidden items are
// never pushed.
func (f *Feature) modify(ctx context.Context, owner jid.JID, contact string,
	fn func(it *store.RosterItem, found bool) (action, error)) (change, error) {
	mu := f.lock(owner)
	mu.Lock()
	defer mu.Unlock()
	var c change
	it, err := f.st.GetRosterItem(ctx, owner.String(), contact)
	switch {
	case err == nil:
		c.found = true
	case errors.Is(err, store.ErrNotFound):
		it = store.RosterItem{JID: contact, Subscription: store.SubNone}
	default:
		return c, fmt.Errorf("roster: reading %s's item %s: %w", owner, contact, err)
	}
	if it.Subscription == "" {
		it.Subscription = store.SubNone
	}
	c.before = it
	c.before.Groups = append([]string(nil), it.Groups...)
	if c.act, err = fn(&it, c.found); err != nil {
		return c, err
	}
	c.after = it
	return c, f.apply(ctx, owner, &c)
}

// apply stores (or deletes) the changed item and sends the roster push;
// the caller holds the owner's lock.
func (f *Feature) apply(ctx context.Context, owner jid.JID, c *change) error {
	switch c.act {
	case put:
		ver, err := f.st.PutRosterItem(ctx, owner.String(), c.after)
		if err != nil {
			return fmt.Errorf("roster: storing %s's item %s: %w", owner, c.after.JID, err)
		}
		if !c.after.Hidden {
			f.push(owner, ver, ItemElement(c.after))
		}
	case remove:
		if !c.found {
			return nil
		}
		ver, err := f.st.DeleteRosterItem(ctx, owner.String(), c.before.JID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("roster: deleting %s's item %s: %w", owner, c.before.JID, err)
		}
		if err == nil && !c.before.Hidden {
			f.push(owner, ver, removedElement(c.before.JID))
		}
	}
	return nil
}

// directedSet remembers, per available session, the addresses it sent
// directed available presence to (RFC 6121 4.6), so that its unavailable
// presence reaches them too.
type directedSet struct {
	mu sync.Mutex
	m  map[module.Session]map[string]struct{} // guarded by mu
}

func (d *directedSet) add(s module.Session, to string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	set := d.m[s]
	if set == nil {
		set = make(map[string]struct{})
		d.m[s] = set
	}
	set[to] = struct{}{}
}

func (d *directedSet) remove(s module.Session, to string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if set := d.m[s]; set != nil {
		delete(set, to)
		if len(set) == 0 {
			delete(d.m, s)
		}
	}
}

// take returns and forgets the session's recipients.
func (d *directedSet) take(s module.Session) []string {
	d.mu.Lock()
	set := d.m[s]
	delete(d.m, s)
	d.mu.Unlock()
	out := make([]string, 0, len(set))
	for to := range set {
		out = append(out, to)
	}
	return out
}
