package router

import (
	"cmp"
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parley-im/parley/internal/jid"
	"github.com/parley-im/parley/internal/stanza"
)

// A message to a user whose devices are all online here is handed to them
// before it is stored: it is stored only if none of them acknowledges it
// (XEP-0198) within Config.AckWindow, or if one that has it goes away
// without acknowledging it. Its sender's "sent" ack waits for one of the
// two: a device's ack (the message is delivered and acknowledged, so
// nothing is lost if the server dies now) or the durable write. Most
// messages to an online device are acknowledged within a round trip, and
// then cost no queue write, no sync and no deletion (a tombstone): half of
// the server's CPU per message on a quiet server.

// PendingDevice is a Device that can take a message before it is stored:
// its session tells the message (Pending.Acked) when the client
// acknowledges it, and stores it (Pending.Store) when the session ends or
// loses its connection first.
type PendingDevice interface {
	Device
	// AcceptsPending reports whether the device acknowledges what it
	// gets (stream management) and is connected.
	AcceptsPending() bool
	// DeliverPending queues st as Deliver does; false when the device
	// cannot take it.
	DeliverPending(st *stanza.Element, p *Pending) bool
}

// Pending is a message handed to devices and not stored yet. Its state
// changes once: to acknowledged (by any of its devices, as a stored
// message is erased by the first device's ack of the user's queue), or to
// stored.
type Pending struct {
	r       *Router
	m       *stanza.Element // stamped with its stanza-id
	key     string
	to      jid.JID   // the user, bare
	bare    bool      // sent to the user's bare address (all their devices), not to one device
	expires time.Time // when the ack window ends (set by pendingExpiry.add)

	// prev, next and listed place p in its user's waiting list
	// (waitingPending), guarded by its mutex.
	prev, next *Pending
	listed     bool

	mu      sync.Mutex
	targets []Device // the devices it was handed to (nil once acknowledged)
	state   pendingState
	seq     uint64       // stored: its queue position
	sync    func() error // stored: waits until the write is durable (nil: it is)
	err     error        // stored: the write failed
	changed sync.Cond    // signalled when state leaves pendingWaiting; L is &mu (no channel to allocate)
}

type pendingState uint8

const (
	pendingWaiting pendingState = iota
	pendingAcked
	pendingStored
)

// PendingStats counts how pending messages ended.
type PendingStats struct {
	acked, stored atomic.Uint64
}

// Acked returns how many pending messages a device acknowledged in time.
func (s *PendingStats) Acked() uint64 { return s.acked.Load() }

// Stored returns how many pending messages were stored after all.
func (s *PendingStats) Stored() uint64 { return s.stored.Load() }

// Pending returns the router's counts of pending messages.
func (r *Router) Pending() *PendingStats { return &r.pending }

// deliverPending hands m, stamped, to targets before storing it when they
// can all take it that way, and sets a's Wait to what the sender's ack
// waits for. It reports false, having done nothing, when they cannot.
func (r *Router) deliverPending(ctx context.Context, a *Assigned, m *stanza.Element, to jid.JID, key, id string, targets []Device) bool {
	if !r.canPend(targets, a.Sender) {
		return false
	}
	p := &Pending{r: r, m: m, key: key, to: to.Bare(), bare: to.IsBare(), targets: targets}
	p.changed.L = &p.mu
	r.waiting.add(p)
	r.expiry.add(p)
	refused := false
	for _, d := range targets {
		if !d.(PendingDevice).DeliverPending(m, p) {
			refused = true
		}
	}
	if refused { // that device gets it from the queue, after the user's earlier pending messages
		r.StoreWaiting(key)
	}
	a.Defer = false // what the hooks route waits for itself (see deliverMessage)
	r.delivered(ctx, m, to, targets)
	a.Defer = true
	a.addWait(p)
	a.StanzaID, a.Stored = id, time.Now()
	return true
}

// canPend reports whether every one of targets (at least one) takes
// pending messages, and none is the sender's own session: the sender's
// reader may wait for its messages to settle (a request after them), and
// would then not read the ack it waits for.
func (r *Router) canPend(targets []Device, sender Device) bool {
	if r.cfg.AckWindow <= 0 || len(targets) == 0 {
		return false
	}
	for _, d := range targets {
		pd, ok := d.(PendingDevice)
		if !ok || d == sender || !pd.AcceptsPending() {
			return false
		}
	}
	return true
}

// settle waits until a device acknowledged p or, once the ack window that
// began when p was handed out ends (pendingExpiry stores it then), until p
// is stored durably; it returns the sender's error if the write failed. A
// sender's messages are settled one after the other, each within its own
// window.
func (p *Pending) Settle() *stanza.Error {
	p.mu.Lock()
	for p.state == pendingWaiting {
		p.changed.Wait()
	}
	state, sync, err := p.state, p.sync, p.err
	p.mu.Unlock()
	if state == pendingAcked {
		return nil
	}
	if err != nil {
		return p.r.writeFailed(err)
	}
	if sync != nil {
		return p.r.waitFailed(sync())
	}
	return nil
}

// Acked tells p that a device acknowledged it. When p was stored
// meanwhile it returns its queue position, for the device to erase.
func (p *Pending) Acked() (seq uint64, stored bool) {
	p.mu.Lock()
	state := p.state
	switch state {
	case pendingWaiting:
		p.state = pendingAcked
		p.m, p.targets = nil, nil // kept until the window ends (pendingExpiry): let them go now
		p.changed.Broadcast()
	case pendingStored:
		seq, stored = p.seq, p.err == nil
	}
	p.mu.Unlock()
	if state == pendingWaiting {
		p.r.pending.acked.Add(1)
		p.r.waiting.remove(p)
	}
	return seq, stored
}

// StoredSeq returns p's queue position once it is stored, 0 before.
func (p *Pending) StoredSeq() uint64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.state != pendingStored || p.err != nil {
		return 0
	}
	return p.seq
}

// Store stores p in its user's queue unless a device acknowledged it
// (then it returns 0 and no error) or it is stored already, and returns
// its queue position. The write is visible when Store returns, and
// durable once the sender's ack is sent. Devices of the user that came
// online since p was handed out get it as any stored message.
func (p *Pending) Store() (uint64, error) {
	p.mu.Lock()
	first := p.state == pendingWaiting
	if first {
		p.seq, p.sync, p.err = p.r.enqueue(context.Background(), p.key, p.r.cfg.Codec.Encode(p.m))
		p.state = pendingStored
		p.changed.Broadcast()
		p.r.pending.stored.Add(1)
	}
	state, seq, err := p.state, p.seq, p.err
	p.mu.Unlock()
	if first {
		p.r.waiting.remove(p)
	}
	if first && err == nil && p.bare {
		p.offerToNewDevices()
	}
	if state == pendingAcked {
		return 0, nil
	}
	return seq, err
}

// offerToNewDevices hands the stored p, sent to the user's bare address, to
// the user's devices that were not among its targets: one that logged in
// after p was handed out and read its queue before StoreWaiting could see
// p (the window between choosing p's targets and adding it to the waiting
// messages).
func (p *Pending) offerToNewDevices() {
	p.mu.Lock()
	targets := p.targets
	p.mu.Unlock()
	for _, d := range p.r.availableNonNegative(p.to) {
		if !containsDevice(targets, d) {
			d.Deliver(p.m, p.key, p.seq)
		}
	}
}

// waitingPending holds, per user (queue key), the pending messages neither
// acknowledged nor stored yet, in the order they were handed out: a list
// through the messages themselves (Pending.prev, next), so that a message
// joins and leaves it without an allocation (a slice per user was one per
// message, most users having one message waiting at a time).
type waitingPending struct {
	mu    sync.Mutex
	byKey map[string]pendingList
}

// pendingList is a user's waiting messages, oldest first.
type pendingList struct{ head, tail *Pending }

func (w *waitingPending) add(p *Pending) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.byKey == nil {
		w.byKey = make(map[string]pendingList)
	}
	l := w.byKey[p.key]
	p.prev, p.next, p.listed = l.tail, nil, true
	if l.tail != nil {
		l.tail.next = p
	} else {
		l.head = p
	}
	l.tail = p
	w.byKey[p.key] = l
}

func (w *waitingPending) remove(p *Pending) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !p.listed {
		return
	}
	l := w.byKey[p.key]
	if p.prev != nil {
		p.prev.next = p.next
	} else {
		l.head = p.next
	}
	if p.next != nil {
		p.next.prev = p.prev
	} else {
		l.tail = p.prev
	}
	p.prev, p.next, p.listed = nil, nil, false
	if l.head == nil {
		delete(w.byKey, p.key)
	} else {
		w.byKey[p.key] = l
	}
}

// of returns the waiting messages of key, oldest first (a copy).
func (w *waitingPending) of(key string) []*Pending {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []*Pending
	for p := w.byKey[key].head; p != nil; p = p.next {
		out = append(out, p)
	}
	return out
}

// storeUpTo stores p, whose ack window ended, unless a device acknowledged
// it (or it was stored): first the user's pending messages handed out
// before it that are still waiting, then p. It returns how many writes
// failed, and the first error.
func (r *Router) storeUpTo(p *Pending) (failed int, first error) {
	waiting := r.waiting.of(p.key)
	i := slices.Index(waiting, p)
	if i < 0 {
		return 0, nil // acknowledged or stored meanwhile
	}
	for _, q := range waiting[:i+1] {
		if _, err := q.Store(); err != nil {
			failed++
			first = cmp.Or(first, err)
		}
	}
	return failed, first
}

// waiting reports whether p is neither acknowledged nor stored.
func (p *Pending) waiting() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.state == pendingWaiting
}

// StoreWaiting stores, in the order they were handed out, the pending
// messages to the user of queue key that no device acknowledged yet: a
// message about to be stored for that user (or a device about to read the
// user's queue) then comes after them in the queue, as it came after them
// to the devices.
func (r *Router) StoreWaiting(key string) {
	for _, p := range r.waiting.of(key) {
		_, _ = p.Store()
	}
}
