package router

import (
	"context"
	"time"

	"github.com/parley-im/parley/internal/jid"
	"github.com/parley-im/parley/internal/stanza"
	"github.com/parley-im/parley/internal/store"
)

// Batch collects the messages of one read from a device that go to users
// with no device online, so that they are stored with one queue write
// (one Pebble batch and commit for all of them) instead of one each: a
// session hands it to Route through its Assigned (Assigned.Batch) and
// calls Commit before it waits for the read's messages (settleInbound).
//
// A message is batched when it is storable and its recipient has no
// available device when it is routed, or when an earlier message of the
// batch went to the same recipient (so that a recipient's messages stay in
// the order they were sent, whichever way they went). A message that is
// not batched but goes to a recipient with batched messages commits the
// batch first, for the same reason. Until Commit, batched messages are
// not visible: a recipient logging in meanwhile drains its queue without
// them and is handed them by Commit, which chooses the targets after the
// write made them visible (as Route does). They are acknowledged to their
// sender only once Commit's write is durable (the Assigned's Wait).
//
// A Batch is used by one goroutine at a time (the session's reader, under
// its inbound lock) and reused from read to read.
type Batch struct {
	r     *Router
	items []batched
	keys  []store.QueueBatch // one per recipient, in the order first seen
	// encoded holds the items' payloads one after the other (batched.end):
	// one buffer for the read instead of an allocation per message. The
	// queue copies payloads into its write, so the next read reuses it.
	encoded []byte
	// pending is the outcome of the next Commit, made with the batch's
	// first message: the Settlement every message of one commit shares.
	pending *commitResult
}

// commitResult is one Commit's outcome, for the Waits of its messages.
type commitResult struct {
	r         *Router
	committed bool         // Commit ran: the messages were written or failed
	wait      func() error // the write's wait for durability; nil: durable
	failed    *stanza.Error
	waited    bool
}

// Settle is the Settlement of a committed message: the first call waits
// for the commit's write to be durable, the others return what it
// returned. Before Commit the messages are not stored: it returns an
// error, so that they are never acknowledged.
func (c *commitResult) Settle() *stanza.Error {
	if !c.committed {
		return stanza.NewError(stanza.InternalServerError, "")
	}
	if !c.waited {
		c.waited = true
		if c.wait != nil {
			c.failed = c.r.waitFailed(c.wait())
		}
	}
	return c.failed
}

// batched is one message of a Batch.
type batched struct {
	m   *stanza.Element
	to  jid.JID
	key int // index in Batch.keys
	// start and end delimit the message's payload in Batch.encoded.
	start, end int
	// bare: it goes to all of the user's available devices (to is bare, or
	// a full JID that was not connected when it was routed), not to the
	// one device to names.
	bare bool
}

// NewBatch returns an empty Batch of r.
func (r *Router) NewBatch() *Batch {
	return &Batch{r: r}
}

// Len is the number of messages waiting for Commit.
func (b *Batch) Len() int { return len(b.items) }

// keyIndex returns the index of key in b.keys, -1 when absent.
func (b *Batch) keyIndex(key string) int {
	for i := range b.keys {
		if b.keys[i].Key == key {
			return i
		}
	}
	return -1
}

// add batches m (stamped) for to's queue key, encoded with codec, and
// returns the Settlement its sender's session waits on.
func (b *Batch) add(m *stanza.Element, to jid.JID, bare bool, key string, codec Codec) Settlement {
	if len(b.items) == 0 {
		b.pending = &commitResult{r: b.r}
	}
	k := b.keyIndex(key)
	if k < 0 {
		k = len(b.keys)
		b.keys = append(b.keys, store.QueueBatch{Key: key})
	}
	start := len(b.encoded)
	if ac, ok := codec.(AppendCodec); ok {
		b.encoded = ac.AppendEncoded(b.encoded, m)
	} else {
		b.encoded = append(b.encoded, codec.Encode(m)...)
	}
	b.items = append(b.items, batched{m: m, to: to, key: k, bare: bare, start: start, end: len(b.encoded)})
	return b.pending
}

// payloads points each recipient's batch at its messages' encodings, now
// that encoded no longer grows.
func (b *Batch) payloads() {
	for i := range b.items {
		it := &b.items[i]
		qb := &b.keys[it.key]
		qb.Payloads = append(qb.Payloads, b.encoded[it.start:it.end:it.end])
	}
}

// Commit stores the batched messages with one write, hands them to the
// devices of their recipients that are available now, runs the message
// hooks, and empties the batch. The Waits of its messages then wait for
// the write to be durable (or return its error). ctx must not carry b
// (Route would batch the hooks' own messages into it).
func (b *Batch) Commit(ctx context.Context) {
	if len(b.items) == 0 {
		return
	}
	c := b.pending
	c.committed = true
	b.payloads()
	wait, err := b.r.enqueueAllStart(ctx, b.keys)
	if err != nil {
		c.failed, c.waited = b.r.writeFailed(err), true
	} else {
		c.wait = wait
		b.deliver(ctx)
	}
	b.reset()
}

// deliver hands each committed message to its recipient's devices that
// are available now (chosen after the write made them visible), in order,
// and runs the message hooks.
func (b *Batch) deliver(ctx context.Context) {
	var targets []Device
	var last batched
	for i := range b.items {
		it := &b.items[i]
		if i == 0 || it.to != last.to || it.bare != last.bare {
			targets, last = b.r.targetsNow(it.to, it.bare), *it
		}
		qb := &b.keys[it.key]
		seq := qb.First
		qb.First++
		for _, d := range targets {
			d.Deliver(it.m, qb.Key, seq)
		}
		b.r.delivered(ctx, it.m, it.to, targets)
	}
}

// keptItems is the largest batch whose arrays reset keeps for the next
// read: a device's burst grows them, an idle session should not hold them.
// keptEncoded is the same for the payloads' buffer: a device sending
// bursts of a hundred short messages keeps it from read to read (at
// 250-400 bytes a message); Session.Idle drops the batch with it.
const (
	keptItems   = 32
	keptEncoded = 64 << 10
)

// reset empties the batch, keeping its arrays unless a burst grew them.
func (b *Batch) reset() {
	clear(b.items)
	b.items = b.items[:0]
	for i := range b.keys {
		clear(b.keys[i].Payloads)
		b.keys[i] = store.QueueBatch{Payloads: b.keys[i].Payloads[:0]}
	}
	b.keys = b.keys[:0]
	if cap(b.items) > keptItems || cap(b.keys) > keptItems {
		b.items, b.keys = nil, nil
	}
	b.encoded = b.encoded[:0]
	if cap(b.encoded) > keptEncoded {
		b.encoded = nil
	}
	b.pending = nil
}

// targetsNow returns the devices a batched message goes to now, by the
// choice routeMessage made when it was routed: the user's available
// devices with a non-negative priority (bare), or the one device to names
// (none if it left since).
func (r *Router) targetsNow(to jid.JID, bare bool) []Device {
	if bare {
		return r.availableNonNegative(to)
	}
	if d := r.cfg.Registry.Device(to); d != nil {
		return []Device{d}
	}
	return nil
}

// batchable reports whether Route should add a storable message for key
// to b rather than store it now: b holds messages for key already, or key
// has no target now.
func (b *Batch) batchable(key string, targetsOf func() []Device) bool {
	return b.keyIndex(key) >= 0 || len(targetsOf()) == 0
}

// batchMessage stamps m, encodes it and adds it to b, and fills a.
func (r *Router) batchMessage(a *Assigned, m *stanza.Element, to jid.JID, key string) {
	bare := to.IsBare() || r.cfg.Registry.Device(to) == nil // routeMessage's choice
	m, id := stampStanzaID(m, key)
	a.Wait = a.Batch.add(m, to, bare, key, r.cfg.Codec)
	a.StanzaID, a.Stored = id, time.Now()
}

// enqueueAllStart stores bs with one write and returns the function that
// waits until it is durable (nil when it already is).
func (r *Router) enqueueAllStart(ctx context.Context, bs []store.QueueBatch) (wait func() error, err error) {
	if bq, ok := r.cfg.Queue.(store.BatchQueueStarter); ok {
		return bq.EnqueueAllStart(ctx, bs)
	}
	return nil, r.enqueueAll(ctx, bs)
}

// commitBefore commits a's batch before Route goes on with a message that
// is not batched but goes to a recipient with batched messages. a is set
// aside meanwhile, so that the hooks' own messages are routed as usual
// (stored and waited for, not batched or deferred) and leave no trace in
// it.
func commitBefore(ctx context.Context, a *Assigned) {
	saved := *a
	*a = Assigned{}
	defer func() { *a = saved }()
	saved.Batch.Commit(ctx)
}
