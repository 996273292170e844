package session

import (
	"strconv"
	"time"

	"github.com/parley-im/parley/internal/stanza"
)

// The session asks the client to acknowledge what it was sent (<r/>)
// once ackRequestDelay after the first stanza it has not asked about yet,
// or at once when ackRequestEvery of them are waiting, not at every
// write: a device of a busy group gets a write per post, and an <r/> per
// write cost each member an ack to read, decrypt, parse and apply to the
// queue for every post (docs/benchmarks.md, "Groups: fan-out"). An <r/>
// rides on a write when one is due; a timer sends it when traffic stops.
// Acknowledging later only keeps stored stanzas queued a little longer
// (a device that drops without acknowledging gets them again from the
// queue, as before; a resumed one gets exactly what it did not handle).
const (
	ackRequestDelay = time.Second
	ackRequestEvery = 64
)

// streamManagement is the XEP-0198 state of a session; guarded by Session.mu.
type streamManagement struct {
	enabled   bool
	resumable bool
	inH       uint32 // stanzas handled from the client since enable
	acked     uint32 // the client's last reported h
	unacked   []unackedStanza
	requested bool // an <r/> is outstanding
	// unrequested counts the stanzas sent since the last <r/>, the first
	// of them at since.
	unrequested int
	since       time.Time
	timerArmed  bool // Session.ackTimer will ask
}

type unackedStanza struct {
	st  *stanza.Element
	seq uint64 // queue position, 0 if not stored
}

func (m *streamManagement) countInbound() {
	if m.enabled {
		m.inH++
	}
}

func (m *streamManagement) sent(st *stanza.Element, seq uint64, now time.Time) {
	m.unacked = append(m.unacked, unackedStanza{st: st, seq: seq})
	if m.unrequested == 0 {
		m.since = now
	}
	m.unrequested++
}

// needsRequest reports whether stanzas were sent that no <r/> covers.
func (m *streamManagement) needsRequest() bool {
	return m.unrequested > 0 && len(m.unacked) > 0 && !m.requested
}

// requestDue reports whether it is time to ask for them (see
// ackRequestDelay), and if not, how long until it is.
func (m *streamManagement) requestDue(now time.Time) (bool, time.Duration) {
	wait := ackRequestDelay - now.Sub(m.since)
	return m.unrequested >= ackRequestEvery || wait <= 0, wait
}

// requestSent records an <r/> written to the client.
func (m *streamManagement) requestSent() {
	m.requested = true
	m.unrequested = 0
}

func (m *streamManagement) tooManyUnacked(limit int) bool { return len(m.unacked) > limit }

func (m *streamManagement) hasSeq(seq uint64) bool {
	for _, u := range m.unacked {
		if u.seq == seq {
			return true
		}
	}
	return false
}

// unackedIQRequests returns the iq get/set requests the client never acknowledged.
func (m *streamManagement) unackedIQRequests() []*stanza.Element {
	var out []*stanza.Element
	for _, u := range m.unacked {
		if u.st.Name == stanza.KindIQ {
			if t := u.st.Type(); t == "get" || t == "set" {
				out = append(out, u.st)
			}
		}
	}
	return out
}

func (m *streamManagement) reset() {
	m.unacked = nil
}

// handleSMLocked processes a stream-management element from the client.
func (s *Session) handleSMLocked(el *stanza.Element) {
	switch el.Name {
	case "r":
		if s.sm.enabled && s.tr != nil {
			s.out = s.tr.AppendElement(s.out, stanza.NewElement(stanza.NSSM, "a",
				"h", strconv.FormatUint(uint64(s.sm.inH), 10)))
		}
	case "a":
		h, err := strconv.ParseUint(el.Attr("h"), 10, 32)
		if err != nil {
			s.closeLocked(stanza.NewStreamError(stanza.StreamBadFormat, "invalid h in <a/>"), false)
			return
		}
		s.processAckLocked(uint32(h))
	case "enable":
		s.enableLocked(el)
	default:
		s.out = s.tr.AppendElement(s.out, smFailed(stanza.UnexpectedRequest))
	}
}

func (s *Session) enableLocked(el *stanza.Element) {
	if s.sm.enabled {
		s.out = s.tr.AppendElement(s.out, smFailed(stanza.UnexpectedRequest))
		return
	}
	s.sm.enabled = true
	enabled := stanza.NewElement(stanza.NSSM, "enabled")
	if r := el.Attr("resume"); (r == "true" || r == "1") && s.cfg.ResumeTimeout > 0 {
		s.sm.resumable = true
		enabled.SetAttr("id", s.id)
		enabled.SetAttr("resume", "true")
		enabled.SetAttr("max", strconv.Itoa(int(s.cfg.ResumeTimeout.Seconds())))
		s.hub.Resumable(s)
	}
	s.out = s.tr.AppendElement(s.out, enabled)
}

// processAckLocked drops acknowledged stanzas and erases the stored ones
// from the queue. It reports false (and closes the stream) when the client
// acknowledges more than was sent.
func (s *Session) processAckLocked(h uint32) bool {
	s.sm.requested = false
	n := h - s.sm.acked // modular arithmetic, as XEP-0198 requires
	if int(n) > len(s.sm.unacked) || n > 1<<31 {
		s.closeLocked(stanza.NewStreamError(stanza.UndefinedCondition,
			"acknowledged more stanzas than were sent (handled-count-too-high)"), false)
		return false
	}
	var seqs []uint64
	for _, u := range s.sm.unacked[:n] {
		if u.seq != 0 {
			seqs = append(seqs, u.seq)
		}
	}
	clear(s.sm.unacked[:n])
	s.sm.unacked = s.sm.unacked[n:]
	if len(s.sm.unacked) == 0 {
		s.sm.unacked = nil
	}
	s.sm.acked = h
	if len(seqs) > 0 {
		s.ackQueue(seqs)
	}
	if s.sm.needsRequest() {
		s.armAckTimerLocked() // what was sent after the <r/> this answers
	}
	return true
}

// appendAckRequestLocked asks the client for an ack in the coming write
// when stanzas it was sent are not covered by one and it is time (see
// ackRequestDelay); otherwise it makes sure the timer will ask.
func (s *Session) appendAckRequestLocked() {
	if !s.sm.enabled || s.tr == nil || !s.sm.needsRequest() {
		return
	}
	if due, _ := s.sm.requestDue(s.cfg.Now()); !due {
		s.armAckTimerLocked()
		return
	}
	s.out = s.tr.AppendElement(s.out, stanza.NewElement(stanza.NSSM, "r"))
	s.sm.requestSent()
}

// requestResentAckLocked asks at once for an ack of the stanzas a
// resumption re-sent, if any.
func (s *Session) requestResentAckLocked() {
	if len(s.sm.unacked) > 0 {
		s.out = s.tr.AppendElement(s.out, stanza.NewElement(stanza.NSSM, "r"))
		s.sm.requestSent()
	}
}

// armAckTimerLocked starts the timer that asks for an ack when it is due,
// unless it runs.
func (s *Session) armAckTimerLocked() {
	if s.sm.timerArmed || s.state == stateClosed {
		return
	}
	_, wait := s.sm.requestDue(s.cfg.Now())
	wait = max(wait, time.Millisecond)
	s.sm.timerArmed = true
	if s.ackTimer == nil {
		s.ackTimer = time.AfterFunc(wait, func() { s.push(item{ctl: ctlRequestAck}) })
		return
	}
	s.ackTimer.Reset(wait)
}

// ackTimerFiredLocked runs the ctlRequestAck item.
func (s *Session) ackTimerFiredLocked() {
	s.sm.timerArmed = false
	if s.state == stateActive && s.handoff == nil {
		s.appendAckRequestLocked()
	}
}

func smFailed(cond stanza.Condition) *stanza.Element {
	f := stanza.NewElement(stanza.NSSM, "failed")
	f.AddChild(stanza.NewElement(stanza.NSStanzaErr, string(cond)))
	return f
}
