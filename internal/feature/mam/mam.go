package mam

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/parley-im/parley/internal/jid"
	"github.com/parley-im/parley/internal/mamquery"
	"github.com/parley-im/parley/internal/module"
	"github.com/parley-im/parley/internal/stanza"
	"github.com/parley-im/parley/internal/store"
)

// Namespaces of the feature.
const (
	NS        = mamquery.NS        // XEP-0313
	NSRSM     = mamquery.NSRSM     // XEP-0059
	NSForward = mamquery.NSForward // XEP-0297
	NSData    = mamquery.NSData    // XEP-0004
)

// Preference defaults (XEP-0313 section 6).
const (
	Always = "always"
	Never  = "never"
	Roster = "roster"
)

// Store is what the feature needs from storage: the archive, and the
// roster for the "roster" preference.
type Store interface {
	store.Archive
	GetRosterItem(ctx context.Context, owner, contact string) (store.RosterItem, error)
}

// Codec turns stanzas into archive payloads and back (the server's queue
// codec).
type Codec interface {
	Encode(st *stanza.Element) []byte
	Decode(b []byte) (*stanza.Element, error)
}

// Options are the feature's settings.
type Options struct {
	// Default is the preference of users who set none: always, never or
	// roster. Default "always".
	Default string
	// Retention is how long messages are kept; 0 keeps them forever.
	Retention time.Duration
	// DefaultPage is the page size when a query gives no <max>. Default 50.
	DefaultPage int
	// MaxPage caps <max>. Default 100. Results wait in the device's
	// mailbox until the query returns, so keep it below --mailbox-size.
	MaxPage int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// DefaultOptions returns the default settings.
func DefaultOptions() Options {
	return Options{Default: Always, DefaultPage: 50, MaxPage: 100}
}

// ErrInvalidOptions is returned (wrapped) by Options.Validate.
var ErrInvalidOptions = errors.New("mam: invalid options")

// Validate checks the settings.
func (o Options) Validate() error {
	switch {
	case o.Default != Always && o.Default != Never && o.Default != Roster:
		return fmt.Errorf("%w: Default %q (want always, never or roster)", ErrInvalidOptions, o.Default)
	case o.Retention < 0:
		return fmt.Errorf("%w: negative Retention", ErrInvalidOptions)
	case o.DefaultPage < 1 || o.MaxPage < o.DefaultPage:
		return fmt.Errorf("%w: want 1 <= DefaultPage (%d) <= MaxPage (%d)", ErrInvalidOptions, o.DefaultPage, o.MaxPage)
	}
	return nil
}

// Feature is the MAM module.
type Feature struct {
	st    Store
	codec Codec
	opts  Options
	prefs *prefsCache

	// Set by Register, read-only afterwards.
	host module.Host
	log  *slog.Logger

	mu   sync.Mutex
	last time.Time // the last archive time given out; guarded by mu
}

// New returns the feature.
func New(st Store, codec Codec, opts Options) (*Feature, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Feature{st: st, codec: codec, opts: opts, prefs: newPrefsCache(st, opts.Now), log: slog.New(slog.DiscardHandler)}, nil
}

// Name implements module.Feature.
func (f *Feature) Name() string { return "mam" }

// Register implements module.Feature.
func (f *Feature) Register(h module.Host) error {
	f.host, f.log = h, h.Log()
	h.AddDiscoFeature(NS)
	if ad, ok := h.(module.AccountDisco); ok {
		ad.AddAccountDiscoFeature(NS)
	}
	h.OnMessageRouted(f.routed)
	return h.HandleIQ(NS, module.ToOwnAccount, f.command)
}

// now returns a fresh archive time: microseconds (what every backend
// keeps), strictly increasing in this process.
func (f *Feature) now() time.Time {
	t := f.opts.Now().UTC().Truncate(time.Microsecond)
	f.mu.Lock()
	defer f.mu.Unlock()
	if !t.After(f.last) {
		t = f.last.Add(time.Microsecond)
	}
	f.last = t
	return t
}

// Archivable reports whether a routed message goes to the archives: a
// chat or normal message with a body, a store hint or a call proposal
// (XEP-0353), and no no-store hint.
func Archivable(m *stanza.Element) bool {
	switch m.Type() {
	case "", "normal", "chat":
	default:
		return false
	}
	worth := m.Body() != ""
	for _, c := range m.Children {
		switch {
		case c.Space == stanza.NSHints && (c.Name == "no-store" || c.Name == "no-permanent-store"):
			return false
		case c.Space == stanza.NSHints && c.Name == "store", c.Space == stanza.NSJingleMessage:
			worth = true // XEP-0334 store hint; XEP-0353 calls (missed calls are found in the archive)
		}
	}
	return worth
}

// stanzaID returns the id of m's stanza-id by by, or "".
func stanzaID(m *stanza.Element, by jid.JID) string {
	b := by.String()
	for _, c := range m.Children {
		if c.Space == stanza.NSSID && c.Name == "stanza-id" && c.Attr("by") == b {
			return c.Attr("id")
		}
	}
	return ""
}

// routed archives a message just handed to a local user
// (module.MessageHook).
func (f *Feature) routed(ctx context.Context, m *stanza.Element, to jid.JID, _ []module.Session) {
	if !Archivable(m) {
		return
	}
	recipient := to.Bare()
	id := stanzaID(m, recipient)
	from, err := m.From()
	if id == "" || err != nil || from.IsZero() {
		return // not stored by the router (to a full JID with no-store, ...)
	}
	sender, t := from.Bare(), f.now()
	if f.wants(ctx, recipient, sender) {
		f.append(ctx, recipient, store.ArchivedMessage{ID: id, Time: t, With: sender.String(), Payload: f.codec.Encode(m)})
	}
	if sender == recipient || from.Local() == "" || from.Domain() != f.host.Domain() || !f.wants(ctx, sender, recipient) {
		return
	}
	c := m.Copy()
	c.RemoveChildren(stanza.NSSID, "stanza-id")
	c.AddChild(stanza.NewElement(stanza.NSSID, "stanza-id", "id", id, "by", sender.String()))
	f.append(ctx, sender, store.ArchivedMessage{ID: id, Time: t, With: recipient.String(), Payload: f.codec.Encode(c)})
}

func (f *Feature) append(ctx context.Context, user jid.JID, m store.ArchivedMessage) {
	if err := f.st.AppendArchive(ctx, user.String(), m); err != nil {
		f.log.Error("archiving a message", "user", user.String(), "id", m.ID, "err", err)
	}
}

// wants applies user's preferences to a message with peer. A preference
// that cannot be read archives nothing (the user may have said never).
func (f *Feature) wants(ctx context.Context, user, peer jid.JID) bool {
	p, err := f.prefs.get(ctx, user.String())
	if err != nil {
		f.log.Error("reading archive preferences", "user", user.String(), "err", err)
		return false
	}
	ps := peer.String()
	switch {
	case slices.Contains(p.Never, ps):
		return false
	case slices.Contains(p.Always, ps):
		return true
	}
	switch f.defaultOf(p) {
	case Always:
		return true
	case Roster:
		_, err := f.st.GetRosterItem(ctx, user.String(), ps)
		return err == nil
	}
	return false
}

func (f *Feature) defaultOf(p store.ArchivePrefs) string {
	if p.Default == "" {
		return f.opts.Default
	}
	return p.Default
}

// command answers <query/> (set: a search; get: the form) and <prefs/>.
func (f *Feature) command(ctx context.Context, iq *stanza.Element) (*stanza.Element, error) {
	from, err := iq.From()
	if err != nil || from.Local() == "" {
		return nil, stanza.NewError(stanza.JIDMalformed, "")
	}
	q := iq.Children[0]
	switch {
	case q.Name == "query" && iq.Type() == "set":
		return f.query(ctx, iq, from)
	case q.Name == "query":
		return stanza.Result(iq).AddChild(stanza.NewElement(NS, "query").AddChild(mamquery.SearchForm())), nil
	case q.Name == "prefs" && iq.Type() == "get":
		return f.getPrefs(ctx, iq, from.Bare())
	case q.Name == "prefs":
		return f.setPrefs(ctx, iq, from.Bare())
	}
	return nil, stanza.NewError(stanza.FeatureNotImplemented, "")
}

// RunSweeper deletes messages older than the retention every interval
// until ctx ends; it returns at once when Retention is 0.
func (f *Feature) RunSweeper(ctx context.Context, every time.Duration) {
	if f.opts.Retention <= 0 {
		return
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if n, err := f.Sweep(ctx); err != nil {
			f.log.Error("archive retention sweep", "deleted", n, "err", err)
		} else if n > 0 {
			f.log.Info("archive retention sweep", "deleted", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// sweepBatch is how many messages one store call deletes.
const sweepBatch = 10_000

// Sweep deletes the messages older than the retention and returns how
// many it deleted.
func (f *Feature) Sweep(ctx context.Context) (int, error) {
	if f.opts.Retention <= 0 {
		return 0, nil
	}
	cutoff := f.opts.Now().Add(-f.opts.Retention)
	total := 0
	for {
		n, err := f.st.DeleteArchiveBefore(ctx, cutoff, sweepBatch)
		total += n
		if err != nil || n < sweepBatch {
			return total, err
		}
	}
}
