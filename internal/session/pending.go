package session

import (
	"github.com/parley-im/parley/internal/router"
	"github.com/parley-im/parley/internal/stanza"
)

// A message to this device may come before it is stored
// (router.Pending): the session writes it, keeps it among the stanzas the
// client has not acknowledged, and tells it when the client acknowledges
// it. If the session loses its connection, ends, or writes a resumption
// record first, it stores the message and keeps it as any stored stanza,
// so that a later ack erases it from the queue.

// AcceptsPending reports whether the session takes messages before they
// are stored (router.PendingDevice): its client acknowledges what it gets
// (stream management) and it is connected. sendPendingLocked decides
// again when the message is written.
func (s *Session) AcceptsPending() bool { return s.takesPending.Load() }

// DeliverPending queues a message not stored yet (router.PendingDevice).
func (s *Session) DeliverPending(st *stanza.Element, p *router.Pending) bool {
	return s.push(item{st: st, pending: p})
}

// sendPendingLocked writes p's message st and keeps it for the client's
// ack. A session that can no longer wait for an ack stores the message
// first and sends it as a stored stanza.
func (s *Session) sendPendingLocked(st *stanza.Element, p *router.Pending) {
	if seq := p.StoredSeq(); seq != 0 && seq <= s.drainedUpTo {
		return // stored meanwhile, and the offline drain already sent it
	}
	if s.state != stateActive || !s.sm.enabled || s.handoff != nil || s.tr == nil {
		seq, err := p.Store()
		if err != nil {
			s.cfg.Log.Warn("storing a message the device could not acknowledge", "user", s.jid.Bare().String(), "err", err)
		}
		s.sendLocked(st, seq)
		return
	}
	s.out = s.tr.AppendElement(s.outLocked(), st)
	s.trackSentLocked(unackedStanza{st: st, pending: p})
}

// storePendingLocked stores the messages the client has not acknowledged
// and that are not stored yet, and takes no more of them: the session is
// losing its connection, ending, or writing them into a resumption
// record.
func (s *Session) storePendingLocked() {
	// The flag goes down after the stores: a message the router sees
	// refused is then stored after this session's earlier ones, and one
	// that came as pending meanwhile is stored by sendPendingLocked.
	defer s.takesPending.Store(false)
	for i := range s.sm.unacked {
		u := &s.sm.unacked[i]
		if u.pending == nil {
			continue
		}
		seq, err := u.pending.Store()
		if err != nil {
			s.cfg.Log.Warn("storing an unacknowledged message", "user", s.jid.Bare().String(), "err", err)
		}
		u.seq, u.pending = seq, nil
	}
}

// queueSeq is u's position in the user's queue, 0 when it is not stored
// there (a log position, or a pending message not stored yet).
func (u *unackedStanza) queueSeq() uint64 {
	switch {
	case u.pending != nil:
		return u.pending.StoredSeq()
	case u.log != "":
		return 0
	}
	return u.seq
}
