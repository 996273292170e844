package session

import (
	"time"

	"github.com/parley-im/parley/internal/module"
	"github.com/parley-im/parley/internal/router"
	"github.com/parley-im/parley/internal/stanza"
)

type control uint8

const (
	ctlStanza         control = iota
	ctlStanzas                // several stanzas answering one request, counted as one item (SendAll)
	ctlLogged                 // a user's copies of a log's wave, at their log positions (DeliverLog), each counted
	ctlClose                  // close with err; resumable tells whether the session may wait for resumption
	ctlPing                   // send a keep-alive ping
	ctlDetachExpired          // the resumption window ended
	ctlHolder                 // install holder (module.Holdable)
	ctlRedrain                // read the offline queue again (cluster catch-up)
	ctlHandoff                // hand the session off for an upgrade (err, wait)
	ctlHandoffExpired         // the client did not acknowledge in time
	ctlRequestAck             // ask the client for an ack if still due (ackask.go)
)

// item is one unit of work in the mailbox.
type item struct {
	ctl       control
	st        *stanza.Element
	sts       []*stanza.Element // ctlStanzas, ctlLogged
	seq       uint64            // queue position of a stored stanza (or log position), 0 otherwise
	seqs      []uint64          // ctlLogged: the log positions of sts
	log       string            // the log's key when seq is a log position (router.IsLogKey)
	err       *stanza.StreamError
	resumable bool
	holder    module.Holder
	wait      time.Duration   // ctlHandoff: how long the client has to acknowledge
	pending   *router.Pending // a message not stored yet (DeliverPending)
}

// mailbox is a bounded queue of items; mu is its own lock, never held while
// a session runs.
type mailbox struct {
	items   []item // guarded by Session.mbMu
	oldest  int64  // when the oldest stanza in items was pushed (Metrics.clock; 0: none), for Metrics.DeliveryWait; guarded by Session.mbMu
	waiting int32  // what items count for against the size limit (item.stanzas; int32 keeps Session in its size class); guarded by Session.mbMu
	running bool   // a goroutine is draining; guarded by Session.mbMu
	closed  bool   // no more stanzas accepted; guarded by Session.mbMu
	// active: the device's connection is reading (Flush), not parked
	// (Idle): the session may keep its arrays between bursts
	// (keepsArrays); guarded by Session.mbMu.
	active bool
}

// keptItems is the largest mailbox array (in items) an active session
// keeps between bursts.
const keptItems = 4

// push appends it and starts a runner if none runs. Control items bypass
// the size limit and the closed state so that a session can always be closed.
func (s *Session) push(it item) bool {
	s.mbMu.Lock()
	carries := it.ctl == ctlStanza || it.ctl == ctlStanzas || it.ctl == ctlLogged
	if carries {
		if s.mb.closed {
			s.mbMu.Unlock()
			return false
		}
		if int(s.mb.waiting) >= s.cfg.mailboxSize() {
			// Overflow policy: disconnect the slow client.
			s.mb.closed = true
			it = item{ctl: ctlClose, err: stanza.NewStreamError(stanza.StreamPolicyViolation,
				"too many stanzas waiting: the client is not reading fast enough")}
			s.cfg.Metrics.mailboxOverflow()
		}
	}
	if carries && s.mb.oldest == 0 {
		s.mb.oldest = s.cfg.Metrics.clock()
	}
	s.mb.items = append(s.mb.items, it)
	s.mb.waiting += int32(it.stanzas())
	start := !s.mb.running
	s.mb.running = true
	s.mbMu.Unlock()
	if start {
		s.cfg.runners.start(s)
	}
	return carries && it.ctl != ctlClose
}

// stanzas is how many items it counts for against the mailbox's size
// limit: a wave's copies each (a slow device must not hold many waves),
// any other item as one (a burst answering one request too, SendAll).
func (it *item) stanzas() int {
	if it.ctl == ctlLogged {
		return len(it.sts)
	}
	return 1
}

// run drains the mailbox in batches until it is empty.
func (s *Session) run() {
	var batch []item
	for {
		s.mbMu.Lock()
		if len(s.mb.items) == 0 {
			s.mb.running = false
			if s.mb.items == nil && s.mb.active && cap(batch) <= keptItems {
				// The next push appends into the drained batch's array
				// instead of growing one (Idle drops it when the device
				// goes quiet, and a parked device keeps none).
				s.mb.items = batch[:0]
			}
			s.mbMu.Unlock()
			return
		}
		batch, s.mb.items = s.mb.items, batch[:0]
		s.mb.waiting = 0
		oldest := s.mb.oldest
		s.mb.oldest = 0
		s.mbMu.Unlock()

		// A handoff tells the client how many of its stanzas were
		// handled: it waits for a message being routed (inMu).
		quiesce := hasHandoff(batch)
		if quiesce {
			s.inMu.Lock()
			s.settleInbound()
		}
		s.mu.Lock()
		for i := range batch {
			s.handleItem(&batch[i])
			batch[i] = item{}
		}
		if s.flushLocked() {
			s.cfg.Metrics.deliveryWaited(oldest)
		}
		s.mu.Unlock()
		if quiesce {
			s.inMu.Unlock()
		}
		if cap(batch) > 256 {
			batch = nil // do not pin a large buffer after a burst
		}
	}
}

func hasHandoff(batch []item) bool {
	for i := range batch {
		if batch[i].ctl == ctlHandoff {
			return true
		}
	}
	return false
}

func (s *Session) handleItem(it *item) {
	switch it.ctl {
	case ctlStanza:
		if it.pending != nil {
			s.sendPendingLocked(it.st, it.pending)
		} else if it.log != "" {
			s.sendLoggedLocked(it.st, it.log, it.seq)
		} else if it.seq != 0 || s.holder == nil || !s.holder.Hold(it.st) {
			s.sendLocked(it.st, it.seq)
		}
	case ctlLogged:
		for i, st := range it.sts {
			s.sendLoggedLocked(st, it.log, it.seqs[i])
		}
	case ctlStanzas:
		for _, st := range it.sts {
			if s.holder == nil || !s.holder.Hold(st) {
				s.sendLocked(st, 0)
			}
		}
	case ctlClose:
		s.closeLocked(it.err, it.resumable)
	case ctlPing:
		s.pingLocked()
	case ctlHolder:
		s.setHolderLocked(it.holder)
	case ctlHandoff:
		s.startHandoffLocked(it.err, it.wait)
	case ctlHandoffExpired:
		s.finishHandoffLocked()
	case ctlDetachExpired:
		if s.state == stateDetached {
			s.terminateLocked()
		}
	case ctlRedrain:
		s.redrainLocked()
	case ctlRequestAck:
		s.ackRequestDueLocked()
	}
}

// SetHolder installs h on the device's outbound path (module.Holdable).
func (s *Session) SetHolder(h module.Holder) { s.push(item{ctl: ctlHolder, holder: h}) }

// setHolderLocked replaces the holder and writes what the old one kept.
func (s *Session) setHolderLocked(h module.Holder) {
	old := s.holder
	s.holder = h
	if old == nil || old == h {
		return
	}
	for _, st := range old.Release() {
		s.sendLocked(st, 0)
	}
}
