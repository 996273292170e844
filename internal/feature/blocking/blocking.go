package blocking

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"slices"

	"github.com/parley-im/parley/internal/jid"
	"github.com/parley-im/parley/internal/module"
	"github.com/parley-im/parley/internal/stanza"
	"github.com/parley-im/parley/internal/store"
)

// Namespaces of the feature.
const (
	NS       = "urn:xmpp:blocking"        // XEP-0191
	NSErrors = "urn:xmpp:blocking:errors" // the <blocked/> error condition
)

// Store is what the feature needs from storage: the block lists, and the
// roster to know who sees whose presence.
type Store interface {
	store.Blocking
	GetRosterItem(ctx context.Context, owner, contact string) (store.RosterItem, error)
}

// Options are the feature's settings.
type Options struct {
	// MaxItems is the largest block list; a block beyond it fails with
	// policy-violation. Default 1000.
	MaxItems int
	// CacheSize is how many users' lists are kept in memory. Default 100000.
	CacheSize int
}

// DefaultOptions returns the default settings.
func DefaultOptions() Options { return Options{MaxItems: 1000, CacheSize: 100_000} }

// ErrInvalidOptions is returned (wrapped) by Options.Validate.
var ErrInvalidOptions = errors.New("blocking: invalid options")

// Validate checks the settings.
func (o Options) Validate() error {
	if o.MaxItems < 1 || o.CacheSize < 1 {
		return fmt.Errorf("%w: MaxItems and CacheSize must be at least 1 (got %d, %d)", ErrInvalidOptions, o.MaxItems, o.CacheSize)
	}
	return nil
}

// Feature is the blocking module.
type Feature struct {
	st    Store
	opts  Options
	lists *cache

	// Set by Register, read-only afterwards.
	host module.Host
	log  *slog.Logger
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
	return &Feature{st: st, opts: opts, lists: newCache(st, opts.CacheSize)}, nil
}

// Name implements module.Feature.
func (f *Feature) Name() string { return "blocking" }

// Register implements module.Feature.
func (f *Feature) Register(h module.Host) error {
	f.host, f.log = h, h.Log()
	h.AddDiscoFeature(NS)
	h.FilterRoute(f.filter)
	return h.HandleIQ(NS, module.ToOwnAccount, f.command)
}

// Blocks reports whether user's list blocks entity. A list that cannot be
// read blocks nothing (the error is logged).
func (f *Feature) Blocks(ctx context.Context, user, entity jid.JID) bool {
	b, err := f.lists.get(ctx, user.Bare().String())
	if err != nil {
		f.log.Error("reading a block list", "user", user.Bare().String(), "err", err)
		return false
	}
	return b.matches(entity)
}

// filter enforces the lists on a stanza routed to a local user
// (module.RouteFilter).
func (f *Feature) filter(ctx context.Context, st *stanza.Element, from, to jid.JID) (bool, *stanza.Error) {
	if from.IsZero() || from.Bare() == to.Bare() {
		return true, nil
	}
	if f.Blocks(ctx, to, from) {
		return false, refusal(st, stanza.NewError(stanza.ServiceUnavailable, ""))
	}
	if from.Local() != "" && from.Domain() == f.host.Domain() && f.Blocks(ctx, from, to) {
		e := stanza.NewError(stanza.NotAcceptable, "you have blocked this contact")
		e.App = stanza.NewElement(NSErrors, "blocked")
		return false, refusal(st, e)
	}
	return true, nil
}

// refusal returns e for messages and iq requests, nil (drop silently) for
// presence and for errors and iq results, which are never answered.
func refusal(st *stanza.Element, e *stanza.Error) *stanza.Error {
	switch typ := st.Type(); {
	case st.Name == stanza.KindMessage && typ != "error":
		return e
	case st.Name == stanza.KindIQ && (typ == "get" || typ == "set"):
		return e
	}
	return nil
}

// command answers <blocklist/>, <block/> and <unblock/>.
func (f *Feature) command(ctx context.Context, iq *stanza.Element) (*stanza.Element, error) {
	from, err := iq.From()
	if err != nil || from.Local() == "" {
		return nil, stanza.NewError(stanza.JIDMalformed, "")
	}
	user := from.Bare()
	q := iq.Children[0]
	switch {
	case iq.Type() == "get" && q.Name == "blocklist":
		return f.get(ctx, iq, user)
	case iq.Type() == "set" && q.Name == "block":
		return f.block(ctx, user, q)
	case iq.Type() == "set" && q.Name == "unblock":
		return f.unblock(ctx, user, q)
	}
	return nil, stanza.NewError(stanza.BadRequest, "expected a blocklist get, or a block or unblock set")
}

func (f *Feature) get(ctx context.Context, iq *stanza.Element, user jid.JID) (*stanza.Element, error) {
	b, err := f.lists.get(ctx, user.String())
	if err != nil {
		return nil, err
	}
	items := make([]string, 0, len(b))
	for j := range b {
		items = append(items, j)
	}
	slices.Sort(items)
	return stanza.Result(iq).AddChild(itemsElement("blocklist", items)), nil
}

// items parses the <item jid=.../> children of q into normalized JIDs.
func items(q *stanza.Element) ([]string, *stanza.Error) {
	var out []string
	for _, c := range q.Children {
		if c.Space != NS || c.Name != "item" {
			continue
		}
		j, err := jid.Parse(c.Attr("jid"))
		if err != nil || j.IsZero() {
			return nil, stanza.NewError(stanza.JIDMalformed, "invalid jid in an item")
		}
		if s := j.String(); !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out, nil
}

func itemsElement(name string, jids []string) *stanza.Element {
	el := stanza.NewElement(NS, name)
	for _, j := range jids {
		el.AddChild(stanza.NewElement(NS, "item", "jid", j))
	}
	return el
}

// push sends a block or unblock push to every device of the user.
func (f *Feature) push(user jid.JID, name string, jids []string) {
	for _, s := range f.host.Sessions(user) {
		iq := stanza.NewIQ("set", "push-"+rand.Text()[:12])
		iq.SetAttr("to", s.JID().String())
		s.Send(iq.AddChild(itemsElement(name, jids)))
	}
}
