package session

import (
	"strconv"
	"time"

	"github.com/parley-im/parley/internal/stanza"
)

// A handoff ends a session for a live upgrade so that the device loses and
// doubles nothing when it logs in to the new process (docs/operations.md):
//
//   - The session freezes: it writes no more deliveries (stored messages
//     stay in the device's queue, the new process delivers them) and stops
//     handling the client's stanzas (they are not counted, so the client
//     sends them again after it reconnects).
//   - A resumable session whose state can be stored (Config.Resumptions)
//     tells the client how many of its stanzas were handled (<a h/>),
//     stores its resumption record (restore.go) and closes at once: the
//     device resumes in the new process and gets exactly what it had not
//     acknowledged.
//   - Otherwise, with stream management, it tells the client how many of
//     its stanzas were handled (<a h/>: the client will not re-send those) and asks
//     for an ack (<r/>); the client's <a h/> erases what it got from the
//     queue. Once everything is acknowledged (or after the wait), it sends
//     the stream error, which carries the reconnect hint, and closes.
//   - Without stream management a write is the acknowledgement: it closes
//     at once.

// handoff is the state of a session being handed off; guarded by Session.mu.
type handoff struct {
	bye   *stanza.StreamError
	timer *time.Timer
	// bounce are the iq requests dropped during the handoff, bounced
	// after termination.
	bounce []*stanza.Element
}

// Handoff ends the session for an upgrade (see above), closing it with bye
// once the client acknowledged what it got, or after wait.
func (s *Session) Handoff(bye *stanza.StreamError, wait time.Duration) {
	s.push(item{ctl: ctlHandoff, err: bye, wait: wait})
}

// startHandoffLocked runs the ctlHandoff item.
func (s *Session) startHandoffLocked(bye *stanza.StreamError, wait time.Duration) {
	switch {
	case s.state == stateDetached:
		s.persistResumptionLocked()
		s.terminateLocked() // its stored stanzas stay queued
		return
	case s.state != stateActive || s.handoff != nil:
		return
	case !s.sm.enabled || s.tr == nil:
		s.closeLocked(bye, false)
		return
	}
	s.handoff = &handoff{bye: bye}
	s.storePendingLocked() // what the handoff leaves unacknowledged goes on from the queue
	s.out = s.tr.AppendElement(s.outLocked(), stanza.NewElement(stanza.NSSM, "a",
		"h", strconv.FormatUint(uint64(s.sm.inH), 10)))
	if s.persistResumptionLocked() || len(s.sm.unacked) == 0 {
		s.finishHandoffLocked()
		return
	}
	s.requestAckLocked()
	s.handoff.timer = time.AfterFunc(wait, func() { s.push(item{ctl: ctlHandoffExpired}) })
}

// handoffInboundLocked handles what the client sends during a handoff:
// only its acks count.
func (s *Session) handoffInboundLocked(el *stanza.Element) {
	if el.Space != stanza.NSSM || el.Name != "a" {
		return
	}
	h, err := strconv.ParseUint(el.Attr("h"), 10, 32)
	if err != nil {
		s.closeLocked(stanza.NewStreamError(stanza.StreamBadFormat, "invalid h in <a/>"), false)
		return
	}
	if s.processAckLocked(uint32(h)) && len(s.sm.unacked) == 0 {
		s.finishHandoffLocked()
	}
}

// LingeringCloser is a transport that can end its connection without
// resetting it (c2s: a TCP half-close, then the close after linger).
type LingeringCloser interface {
	CloseLingering(linger time.Duration) error
}

// handoffLinger is how long a handed-off connection stays half-open for
// the client to read the end of its stream and close.
const handoffLinger = 2 * time.Second

// finishHandoffLocked writes what is pending, the stream error and the
// stream end, closes the connection without resetting it, and ends the
// session.
func (s *Session) finishHandoffLocked() {
	if s.handoff == nil || s.state == stateClosed {
		return
	}
	if s.handoff.timer != nil {
		s.handoff.timer.Stop()
	}
	if s.tr != nil {
		s.out = s.tr.AppendClose(s.out, s.handoff.bye)
		_ = s.tr.Write(s.out)
		s.out = s.out[:0]
		if lc, ok := s.tr.(LingeringCloser); ok {
			_ = lc.CloseLingering(handoffLinger)
		} else {
			_ = s.tr.Close()
		}
		s.tr = nil
	}
	s.terminateLocked()
}

// droppedInHandoffLocked is the send path's check: during a handoff nothing
// more is written; an iq request is bounced at the end (stored stanzas stay
// in the queue).
func (s *Session) droppedInHandoffLocked(st *stanza.Element) bool {
	if s.handoff == nil {
		return false
	}
	if st.Name == stanza.KindIQ {
		if t := st.Type(); t == "get" || t == "set" {
			s.handoff.bounce = append(s.handoff.bounce, st)
		}
	}
	return true
}
