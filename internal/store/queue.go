package store

import (
	"context"
	"time"
)

// QueuedStanza is one stanza waiting in a queue for a device.
type QueuedStanza struct {
	Seq     uint64    // position in the queue; increases by one per enqueued stanza (see Queue; a gap may follow a failed write)
	Stored  time.Time // when it was enqueued
	Payload []byte    // the encoded stanza; the store does not interpret it
}

// Queue is the store-and-forward queue: one ordered queue per key (a user's
// bare JID, or a bare JID plus a device suffix). Stanzas are kept until the
// device acknowledges them.
//
// Ordering contract: sequence numbers within a key are assigned in the order
// Enqueue calls for that key commit, and a stanza becomes visible to
// ReadQueue only after every lower sequence number of the key is visible.
// A consumer that has seen Seq n may therefore read (n, ∞) and miss nothing.
//
// Sequence numbers start above 0 (so ReadQueue(after=0) reads a queue from
// its start) and are never reused for a key: not after the queue drains,
// not after a restart. Only DeleteAccount, which removes the user's queues
// with their counters, lets a re-registered user's queues start again.
type Queue interface {
	// Enqueue appends payloads, in order, and returns the sequence number
	// of the first. Durable: on return the stanzas survive a crash. They
	// may become visible to ReadQueue before Enqueue returns, that is
	// before they are durable (Pebble does this): a reader may deliver a
	// stanza that a crash then loses; its sender got no return and
	// resends, and recipients dedupe by stanza-id. With no payloads,
	// Enqueue writes nothing and returns the seq the next stanza would get.
	Enqueue(ctx context.Context, key string, payloads ...[]byte) (uint64, error)
	// ReadQueue returns up to limit stanzas with Seq > after, in order
	// (all of them when limit <= 0); none is not an error.
	ReadQueue(ctx context.Context, key string, after uint64, limit int) ([]QueuedStanza, error)
	// AckQueue deletes the given sequence numbers (unknown ones are
	// ignored). Not necessarily durable: a lost ack means a redelivery,
	// which recipients dedupe by stanza-id. Backends must not let acked
	// stanzas slow down later reads (use range deletes or a cursor).
	AckQueue(ctx context.Context, key string, seqs ...uint64) error
	// QueueLen returns how many stanzas are waiting under key (0 for a
	// key never written).
	QueueLen(ctx context.Context, key string) (int, error)
}

// QueueStarter is implemented by a Queue whose appends become visible to
// ReadQueue and AckQueue before they are durable (Pebble). The router uses
// it to hand a message to the recipient's devices while the write syncs,
// and acknowledges it to the sender only once wait returned.
type QueueStarter interface {
	// EnqueueStart appends payloads as Enqueue does, but returns as soon
	// as they are visible, with the seq of the first and a function that
	// waits until they are durable (nil when they already are). The
	// caller calls wait at most once; its error is Enqueue's. A wait
	// whose append a sync already covered (one that started after the
	// append was applied) returns at once: a caller with several started
	// appends calls their waits in turn at the cost of about one sync.
	// Close does not wait for it: a store closed in between made the
	// stanzas durable and wait returns ErrClosed.
	EnqueueStart(ctx context.Context, key string, payloads ...[]byte) (first uint64, wait func() error, err error)
}

// StartEnqueue appends payloads under key to q: with EnqueueStart when q
// is a QueueStarter (they are visible on return, and wait waits until they
// are durable), otherwise with Enqueue (durable on return, wait nil).
func StartEnqueue(ctx context.Context, q interface {
	Enqueue(ctx context.Context, key string, payloads ...[]byte) (uint64, error)
}, key string, payloads ...[]byte) (first uint64, wait func() error, err error) {
	if qs, ok := q.(QueueStarter); ok {
		return qs.EnqueueStart(ctx, key, payloads...)
	}
	first, err = q.Enqueue(ctx, key, payloads...)
	return first, nil, err
}

// QueueBatch is one key's payloads for BatchQueue.EnqueueAll.
type QueueBatch struct {
	Key      string
	Payloads [][]byte
	First    uint64 // set by EnqueueAll: the seq of the first payload
}

// BatchQueue is implemented by a Queue that appends to many keys with one
// durable write (a group fan-out: every member's copies of a wave). A
// caller checks for it and otherwise calls Enqueue per key.
type BatchQueue interface {
	// EnqueueAll is Enqueue for each batch, in order (a key may appear
	// more than once), all or nothing, with one durable write; it sets
	// each batch's First. Batches with no payloads write nothing and get
	// the seq the next stanza would get.
	EnqueueAll(ctx context.Context, bs []QueueBatch) error
}

// BatchQueueStarter is implemented by a BatchQueue whose appends become
// visible before they are durable (Pebble), as QueueStarter's: a session
// stores the messages of one read to users with no device online with one
// write, hands them to devices that came online meanwhile while the write
// syncs, and acknowledges them once wait returned.
type BatchQueueStarter interface {
	// EnqueueAllStart is EnqueueAll up to the point where the stanzas are
	// visible; wait, as QueueStarter's, waits until they are durable (nil
	// when they already are), and returns at once when a sync since
	// covered them.
	EnqueueAllStart(ctx context.Context, bs []QueueBatch) (wait func() error, err error)
}
