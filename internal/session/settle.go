package session

import (
	"context"
	"sync"

	"github.com/parley-im/parley/internal/router"
	"github.com/parley-im/parley/internal/stanza"
)

// routeMessage routes a message from the device without holding mu (the
// caller holds inMu): while its durable write syncs, the mailbox runner
// keeps writing deliveries to the device. The router returns once the
// message is visible; it joins the unsettled messages of this read, which
// handOverInbound gives to the session's settler at the end of the read
// (or every maxUnsettled): the settler counts them for stream management,
// and acknowledges them to a client that speaks Parley's extensions, in
// order and only once durable, while the reader goes on reading.
func (s *Session) routeMessage(m *stanza.Element) {
	reply, ack, wait := s.dispatchMessage(m)
	r := s.routing // made by dispatchMessage
	r.unsettled = append(r.unsettled, unsettledMessage{msg: m, reply: reply, ack: ack, wait: wait})
	if len(r.unsettled) >= maxUnsettled {
		s.handOverInbound()
	}
}

// maxUnsettled bounds the messages of one read handed to the settler
// together: their acks are not held back longer than it takes to route
// this many.
const maxUnsettled = 256

// maxPending bounds the messages a session's reader has handed to its
// settler and that are not settled yet: past it the reader stops reading
// until the settler catches up (a device that sends faster than the disk
// syncs is slowed down, not buffered without end).
const maxPending = 4 * maxUnsettled

// messageRouting is what a session routes its device's messages with
// (guarded by inMu, except settle, which has its own lock).
type messageRouting struct {
	// unsettled are the messages of the current read that were routed,
	// and are visible to their recipients, but are not yet handed to the
	// settler; an <r/> among them is kept in its place (ackRequest).
	unsettled []unsettledMessage
	// assigned and ctx are what dispatchMessage routes each message with
	// (a context and an Assigned per message were two of the allocations
	// of every message routed).
	assigned router.Assigned
	ctx      context.Context
	// batch holds the unsettled messages to users with no device online,
	// stored with one write by handOverInbound; nil without Config.Router.
	batch *router.Batch
	// settle holds the messages handed over and not yet settled.
	settle settlement
}

// messageRoutingLocked (inMu held) returns the session's messageRouting,
// made when the device sends its first message after being quiet.
func (s *Session) messageRoutingLocked() *messageRouting {
	if s.routing == nil {
		r := &messageRouting{}
		r.ctx, _ = router.WithAssignedTo(s.ctx, &r.assigned)
		if s.cfg.Router != nil {
			r.batch = s.cfg.Router.NewBatch()
		}
		r.settle.changed.L = &r.settle.mu
		s.routing = r
	}
	return s.routing
}

// unsettledAny (inMu held) reports whether messages the device sent are
// not settled yet: in the current read, or with the settler.
func (r *messageRouting) unsettledAny() bool {
	if len(r.unsettled) > 0 {
		return true
	}
	r.settle.mu.Lock()
	defer r.settle.mu.Unlock()
	return r.settle.pending > 0
}

// unsettledMessage is a routed message not yet known durable, with what
// its sender gets once it is: an error reply, or its "sent" ack (Parley's
// extensions) and its count for stream management. With ackRequest it is
// no message but the client's <r/>, answered in its place.
type unsettledMessage struct {
	msg, reply, ack *stanza.Element
	wait            router.Settlement // nil: durable already (or not stored)
	failed          *stanza.Error     // what wait returned
	ackRequest      bool
}

// settlement is the queue between a session's reader and its settler: the
// messages routed and handed over, settled in the order they arrived.
type settlement struct {
	mu      sync.Mutex
	changed sync.Cond // L is &mu; broadcast when pending drops
	queue   []unsettledMessage
	pending int  // handed over and not settled: queue plus the settler's batch
	running bool // a runner is settling (at most one, so that acks stay in order)
}

// handOverInbound (inMu held) stores the read's batched messages (one
// write for those to users with no device online, router.Batch) and hands
// the read's unsettled messages to the session's settler (settleRun),
// which waits until they are durable and acknowledges them. The reader
// does not wait for that, only while more than maxPending messages are
// unsettled.
func (s *Session) handOverInbound() {
	r := s.routing
	if r == nil || len(r.unsettled) == 0 {
		return
	}
	if r.batch != nil {
		r.batch.Commit(s.ctx)
	}
	q := &r.settle
	q.mu.Lock()
	q.pending += len(r.unsettled)
	if len(q.queue) == 0 {
		q.queue, r.unsettled = r.unsettled, q.queue[:0]
	} else {
		q.queue = append(q.queue, r.unsettled...)
		clear(r.unsettled)
		r.unsettled = r.unsettled[:0]
	}
	start := !q.running
	q.running = true
	q.mu.Unlock()
	if cap(r.unsettled) > maxUnsettled {
		r.unsettled = nil
	}
	if start {
		s.cfg.runners.startSettler(s, q)
	}
	q.waitPendingAtMost(maxPending)
}

// settleInbound (inMu held) hands over the read's messages and waits until
// every message the device sent is settled: what needs the count of
// handled stanzas exact (resumption, a handoff, the stream's end), or its
// reply after theirs (any element but a message, <r/> and <a/>), calls it.
func (s *Session) settleInbound() {
	s.handOverInbound()
	if r := s.routing; r != nil {
		r.settle.waitPendingAtMost(0)
	}
}

// waitPendingAtMost waits until at most n messages are unsettled.
func (q *settlement) waitPendingAtMost(n int) {
	q.mu.Lock()
	for q.pending > n {
		q.changed.Wait()
	}
	q.mu.Unlock()
}

// settleRun settles q's messages in order until none is left: it calls
// each one's wait in turn (the first syncs the WAL after every append
// handed over, and the others find theirs covered and return at once:
// router.Assigned), then, under mu, counts and acknowledges them and
// writes the acks. A message whose wait fails gets the error instead of
// its ack, as a failed write always did.
func (s *Session) settleRun(q *settlement) {
	var batch []unsettledMessage
	for {
		q.mu.Lock()
		if len(q.queue) == 0 {
			q.running = false
			if q.queue == nil && cap(batch) > 0 {
				// The reader's next hand-over swaps it for its own
				// (handOverInbound): the two arrays take turns instead of
				// one grown per read (Idle drops both with the routing).
				q.queue = batch[:0]
			}
			q.mu.Unlock()
			return
		}
		batch, q.queue = q.queue, batch[:0]
		q.mu.Unlock()
		for i := range batch {
			if u := &batch[i]; u.wait != nil {
				u.failed = u.wait.Settle()
			}
		}
		s.mu.Lock()
		for i := range batch {
			s.settleLocked(&batch[i])
			batch[i] = unsettledMessage{}
		}
		s.flushLocked()
		s.mu.Unlock()
		q.mu.Lock()
		q.pending -= len(batch)
		q.changed.Broadcast()
		q.mu.Unlock()
		if cap(batch) > maxUnsettled {
			batch = nil
		}
	}
}

// settleLocked acknowledges one message made durable (or not: failed), or
// answers an <r/> in its place.
func (s *Session) settleLocked(u *unsettledMessage) {
	if s.state == stateClosed {
		return
	}
	if u.ackRequest {
		s.answerAckRequestLocked()
		return
	}
	reply, ack := u.reply, u.ack
	if u.failed != nil && reply == nil {
		reply, ack = stanza.ErrorReply(u.msg, u.failed), nil
	}
	if ack != nil {
		s.sendNonzaLocked(ack)
	}
	if reply != nil {
		s.sendLocked(reply, 0)
	}
	s.sm.countInbound()
}
