package groups

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/parley-im/parley/internal/jid"
	"github.com/parley-im/parley/internal/mamquery"
	"github.com/parley-im/parley/internal/module"
	"github.com/parley-im/parley/internal/stanza"
	"github.com/parley-im/parley/internal/store"
)

// NS is the namespace of the groups protocol.
const NS = "urn:parley:groups:0"

// DefaultMaxMembers is the default member limit of a group.
const DefaultMaxMembers = 1024

// Store is what the feature needs of the backend: groups, accounts (to
// check new members) and the queue that holds the group outbox.
type Store interface {
	store.Groups
	GetAccount(ctx context.Context, jid string) (store.Account, error)
	Enqueue(ctx context.Context, key string, payloads ...[]byte) (uint64, error)
	ReadQueue(ctx context.Context, key string, after uint64, limit int) ([]store.QueuedStanza, error)
	AckQueue(ctx context.Context, key string, seqs ...uint64) error
	// The group archive (Options.Archive): each group's posts under the
	// group's bare JID.
	AppendArchive(ctx context.Context, user string, m store.ArchivedMessage) error
	QueryArchive(ctx context.Context, user string, q store.ArchiveQuery) ([]store.ArchivedMessage, bool, error)
	CountArchive(ctx context.Context, user string, q store.ArchiveQuery) (int, error)
}

// Codec turns stanzas into outbox payloads and back.
type Codec interface {
	Encode(st *stanza.Element) []byte
	Decode(b []byte) (*stanza.Element, error)
}

// Options configure the feature.
type Options struct {
	// MaxMembers is the member limit of every group (group_max_members);
	// 0 means DefaultMaxMembers.
	MaxMembers int
	// Batch is how many members' copies are stored with one durable
	// write (default 256).
	Batch int
	// Now is the clock (time.Now by default).
	Now func() time.Time
	// Archive keeps each group's posts in an archive on the group's
	// address (MAM on the room); off with --no-server-history.
	Archive bool
	// ReceiptWindow is how long members' receipts for one sender are
	// collected before they are passed on together (default
	// DefaultReceiptWindow).
	ReceiptWindow time.Duration
	// ArchivePage bounds a page of the group archive (default 50, at
	// most 100).
	ArchivePage mamquery.Limits
}

// Feature is the groups module.
type Feature struct {
	st    Store
	codec Codec
	opts  Options

	host    module.Host
	deliver module.StoredDeliverer
	logs    module.LogDeliverer // nil: every copy goes through the members' queues
	log     *slog.Logger
	service string // groups.<domain>
	outbox  string // the queue key of the group outbox
	wake    chan struct{}
	occ     *occupants // devices joined to MUC rooms
	batcher *receiptBatcher
	ids     *idCache // recent posts' group stanza-ids -> senders' ids

	held atomic.Bool // set by Hold: the worker waits

	// Used by the worker only (fanout.go): the last outbox entry fanned
	// out, those fanned out but kept (at or above the low-water mark), and
	// the wave it reuses (nil before the first).
	fanned uint64
	kept   []uint64
	wave   *wave
}

// New returns the feature.
func New(st Store, codec Codec, opts Options) *Feature {
	if opts.MaxMembers <= 0 {
		opts.MaxMembers = DefaultMaxMembers
	}
	if opts.Batch <= 0 {
		opts.Batch = 256
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.ArchivePage.MaxPage <= 0 {
		opts.ArchivePage = mamquery.Limits{DefaultPage: 50, MaxPage: 100}
	}
	if opts.ReceiptWindow <= 0 {
		opts.ReceiptWindow = DefaultReceiptWindow
	}
	f := &Feature{st: st, codec: codec, opts: opts, wake: make(chan struct{}, 1), occ: newOccupants(), ids: newIDCache()}
	f.batcher = newReceiptBatcher(opts.ReceiptWindow, receiptBatchMax, f.sendReceipts)
	return f
}

// Name implements module.Feature.
func (f *Feature) Name() string { return "groups" }

// Service returns the service domain (groups.<domain>), after Register.
func (f *Feature) Service() string { return f.service }

// Register implements module.Feature: it owns groups.<domain>.
func (f *Feature) Register(h module.Host) error {
	sh, ok := h.(module.ServiceHost)
	if !ok {
		return errors.New("groups: the host cannot give a service domain")
	}
	d, ok := h.(module.StoredDeliverer)
	if !ok {
		return errors.New("groups: the host cannot deliver stored messages")
	}
	f.host, f.deliver, f.log = h, d, h.Log()
	f.service = "groups." + h.Domain()
	f.outbox = f.service
	if ld, ok := h.(module.LogDeliverer); ok {
		f.logs = ld
		ld.OnLogReleased(f.outbox, f.poke)
	}
	h.AddDiscoFeature(NS)
	h.OnSessionEnded(f.sessionEnded)
	if di, ok := h.(module.DiscoItems); ok {
		di.AddDiscoItem(module.DiscoItem{JID: f.service, Name: "Groups"})
	}
	return sh.HandleService(f.service, f.handle)
}

// handle is the service handler: iq requests to the service or a group,
// messages to a group. Only local users take part.
func (f *Feature) handle(ctx context.Context, st *stanza.Element, to jid.JID) (module.Stored, *stanza.Error) {
	from, err := st.From()
	if err != nil || from.Local() == "" || from.Domain() != f.host.Domain() {
		return module.Stored{}, stanza.NewError(stanza.Forbidden, "groups are for this server's users")
	}
	switch st.Name {
	case stanza.KindIQ:
		f.handleIQ(ctx, st, to, from)
		return module.Stored{}, nil
	case stanza.KindMessage:
		return f.post(ctx, st, to, from)
	case stanza.KindPresence:
		return module.Stored{}, f.presence(ctx, st, to, from)
	}
	return module.Stored{}, nil
}

// groupJID is the address of group id.
func (f *Feature) groupJID(id string) jid.JID {
	j, _ := jid.New(id, f.service, "") // ids are made here or come from parsed addresses
	return j
}

// limit is the member limit of g.
func (f *Feature) limit(g store.Group) int {
	if g.MaxMembers > 0 && g.MaxMembers < f.opts.MaxMembers {
		return g.MaxMembers
	}
	return f.opts.MaxMembers
}

// storeErr maps a store error to a stanza error, logging unexpected ones.
func (f *Feature) storeErr(what string, err error) *stanza.Error {
	switch {
	case errors.Is(err, store.ErrNotFound):
		return stanza.NewError(stanza.ItemNotFound, what+": not found")
	case errors.Is(err, store.ErrUnavailable):
		return stanza.NewError(stanza.ResourceConstraint, "the server cannot store this right now; try again later")
	}
	f.log.Error("groups store", "what", what, "err", err)
	return stanza.NewError(stanza.InternalServerError, "")
}
