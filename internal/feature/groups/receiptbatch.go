package groups

import (
	"context"
	"sync"
	"time"

	"github.com/parley-im/parley/internal/jid"
	"github.com/parley-im/parley/internal/stanza"
)

// Defaults of the receipt batcher.
const (
	DefaultReceiptWindow = 200 * time.Millisecond
	receiptBatchMax      = 512 // items per batch stanza (~40 KB)
)

// receiptItem is one member's receipt or read marker for a group message,
// waiting to be passed to the message's sender.
type receiptItem struct {
	id        string // the message's id
	member    string // who got or read it
	displayed bool
	at        time.Time
	orig      *stanza.Element // the member's message, for the single form
}

// batchKey is one sender in one group: a batch goes to one sender from one
// group.
type batchKey struct{ sender, group string }

// receiptBatcher aggregates the receipts a sender gets from a group within
// a short window (issue 9: a 1,000-member group must not send its sender
// 2,000 stanzas one by one). The first receipt of a key starts the
// window; when it ends (or the batch is full) flush gets everything
// collected. Safe for concurrent use.
type receiptBatcher struct {
	window time.Duration
	max    int
	flush  func(batchKey, []receiptItem)

	mu      sync.Mutex
	pending map[batchKey][]receiptItem // guarded by mu
}

func newReceiptBatcher(window time.Duration, limit int, flush func(batchKey, []receiptItem)) *receiptBatcher {
	return &receiptBatcher{window: window, max: limit, flush: flush, pending: make(map[batchKey][]receiptItem)}
}

// add queues a receipt; the caller never waits for the window.
func (b *receiptBatcher) add(k batchKey, it receiptItem) {
	b.mu.Lock()
	items := append(b.pending[k], it)
	b.pending[k] = items
	first, full := len(items) == 1, len(items) >= b.max
	if full {
		delete(b.pending, k)
	}
	b.mu.Unlock()
	switch {
	case full:
		b.flush(k, items)
	case first:
		time.AfterFunc(b.window, func() { b.take(k) })
	}
}

// take flushes what is pending for k.
func (b *receiptBatcher) take(k batchKey) {
	b.mu.Lock()
	items := b.pending[k]
	delete(b.pending, k)
	b.mu.Unlock()
	if len(items) > 0 {
		b.flush(k, items)
	}
}

// flushAll flushes everything pending (at shutdown).
func (b *receiptBatcher) flushAll() {
	b.mu.Lock()
	keys := make([]batchKey, 0, len(b.pending))
	for k := range b.pending {
		keys = append(keys, k)
	}
	b.mu.Unlock()
	for _, k := range keys {
		b.take(k)
	}
}

// sendReceipts passes a window's receipts to the sender: one receipt as
// XMPP apps know it (XEP-0184 or XEP-0333 from group/member), several as
// one <batch/> stanza from the group (docs/protocol/groups.md).
func (f *Feature) sendReceipts(k batchKey, items []receiptItem) {
	ctx := context.Background()
	if len(items) == 1 {
		f.host.Route(ctx, f.singleReceipt(k, items[0]))
		return
	}
	m := stanza.NewElement(stanza.NSClient, stanza.KindMessage, "from", f.groupJID(k.group).String(), "to", k.sender, "id", newID())
	batch := stanza.NewElement(NS, "batch")
	for _, it := range items {
		kind := "received"
		if it.displayed {
			kind = "displayed"
		}
		batch.AddChild(stanza.NewElement(NS, kind, "id", it.id, "jid", it.member, "stamp", stamp(it.at)))
	}
	// Stored for a sender with no device online, like a single receipt.
	f.host.Route(ctx, m.AddChild(batch).AddChild(stanza.NewElement(stanza.NSHints, "store")))
}

// singleReceipt is a member's receipt passed on as it came, from
// group/member with a <sender/> element.
func (f *Feature) singleReceipt(k batchKey, it receiptItem) *stanza.Element {
	from, _ := jid.New(k.group, f.service, it.member)
	fwd := stanza.NewElement(stanza.NSClient, stanza.KindMessage, "from", from.String(), "to", k.sender, "id", newID())
	for _, c := range it.orig.Children {
		if c.Space == stanza.NSReceipts || c.Space == stanza.NSMarkers {
			c = c.Copy()
			if c.HasAttr("id") {
				c.SetAttr("id", it.id) // the sender's id, also when the member named the room's stanza-id
			}
			fwd.AddChild(c)
		}
	}
	return fwd.AddChild(stanza.NewElement(NS, "sender", "jid", it.member))
}
