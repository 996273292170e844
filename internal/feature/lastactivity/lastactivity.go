package lastactivity

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"time"

	"github.com/parley-im/parley/internal/jid"
	"github.com/parley-im/parley/internal/module"
	"github.com/parley-im/parley/internal/stanza"
	"github.com/parley-im/parley/internal/store"
)

// Store is what the feature needs from storage.
type Store interface {
	store.LastActivity
	GetRosterItem(ctx context.Context, owner, contact string) (store.RosterItem, error)
}

// Feature is the last-activity module.
type Feature struct {
	st      Store
	now     func() time.Time
	started time.Time
	host    module.Host

	mu     sync.Mutex
	recent map[string]store.LastSeen // not yet flushed; guarded by mu
}

// New returns the feature. now may be nil (time.Now).
func New(st Store, now func() time.Time) *Feature {
	if now == nil {
		now = time.Now
	}
	return &Feature{st: st, now: now, started: now(), recent: make(map[string]store.LastSeen)}
}

// Name implements module.Feature.
func (f *Feature) Name() string { return "lastactivity" }

// Register implements module.Feature.
func (f *Feature) Register(h module.Host) error {
	f.host = h
	h.AddDiscoFeature(stanza.NSLast)
	h.OnUnavailable(f.wentUnavailable)
	if err := h.HandleIQ(stanza.NSLast, module.ToServer, f.serverUptime); err != nil {
		return err
	}
	if err := h.HandleIQ(stanza.NSLast, module.ToOwnAccount, f.own); err != nil {
		return err
	}
	return h.HandleIQ(stanza.NSLast, module.ToOtherAccount, f.contact)
}

// wentUnavailable records the time when a user's last available device goes.
func (f *Feature) wentUnavailable(_ context.Context, s module.Session, _ bool) {
	user := s.JID().Bare()
	for _, other := range f.host.Sessions(user) {
		if other != s && other.Available() {
			return
		}
	}
	f.Record(user, store.LastSeen{At: f.now(), Status: s.LastStatus()})
}

// Record notes that user was last seen at ls.At.
func (f *Feature) Record(user jid.JID, ls store.LastSeen) {
	f.mu.Lock()
	f.recent[user.String()] = ls
	f.mu.Unlock()
}

// Flush writes the records noted since the last flush.
func (f *Feature) Flush(ctx context.Context) error {
	f.mu.Lock()
	batch := f.recent
	f.recent = make(map[string]store.LastSeen)
	f.mu.Unlock()
	if len(batch) == 0 {
		return nil
	}
	if err := f.st.PutLastSeen(ctx, batch); err != nil {
		f.mu.Lock()
		for k, v := range batch { // keep them for the next try, unless newer ones came
			if _, newer := f.recent[k]; !newer {
				f.recent[k] = v
			}
		}
		f.mu.Unlock()
		return err
	}
	return nil
}

func (f *Feature) lookup(ctx context.Context, user jid.JID) (store.LastSeen, error) {
	f.mu.Lock()
	ls, ok := f.recent[user.String()]
	f.mu.Unlock()
	if ok {
		return ls, nil
	}
	return f.st.GetLastSeen(ctx, user.String())
}

func (f *Feature) serverUptime(_ context.Context, iq *stanza.Element) (*stanza.Element, error) {
	if iq.Type() != "get" {
		return nil, stanza.NewError(stanza.BadRequest, "")
	}
	return answer(iq, f.now().Sub(f.started), ""), nil
}

func (f *Feature) own(_ context.Context, iq *stanza.Element) (*stanza.Element, error) {
	if iq.Type() != "get" {
		return nil, stanza.NewError(stanza.BadRequest, "")
	}
	return answer(iq, 0, ""), nil
}

func (f *Feature) contact(ctx context.Context, iq *stanza.Element) (*stanza.Element, error) {
	if iq.Type() != "get" {
		return nil, stanza.NewError(stanza.BadRequest, "")
	}
	from, err1 := iq.From()
	to, err2 := iq.To()
	if err1 != nil || err2 != nil {
		return nil, stanza.NewError(stanza.JIDMalformed, "")
	}
	item, err := f.st.GetRosterItem(ctx, to.String(), from.Bare().String())
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	if item.Subscription != store.SubFrom && item.Subscription != store.SubBoth {
		return nil, stanza.NewError(stanza.Forbidden, "not subscribed to this contact's presence")
	}
	for _, s := range f.host.Sessions(to) {
		if s.Available() {
			return answer(iq, 0, ""), nil
		}
	}
	ls, err := f.lookup(ctx, to)
	if errors.Is(err, store.ErrNotFound) {
		return nil, stanza.NewError(stanza.ItemNotFound, "no last activity recorded")
	}
	if err != nil {
		return nil, err
	}
	return answer(iq, f.now().Sub(ls.At), ls.Status), nil
}

func answer(iq *stanza.Element, d time.Duration, status string) *stanza.Element {
	q := stanza.NewElement(stanza.NSLast, "query", "seconds", strconv.FormatInt(int64(max(d, 0)/time.Second), 10))
	q.Text = status
	return stanza.Result(iq).AddChild(q)
}
