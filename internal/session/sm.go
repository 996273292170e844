package session

import (
	"math"
	"math/bits"
	"strconv"
	"time"

	"github.com/parley-im/parley/internal/router"
	"github.com/parley-im/parley/internal/slicepool"
	"github.com/parley-im/parley/internal/stanza"
)

// streamManagement is the XEP-0198 state of a session; guarded by Session.mu.
type streamManagement struct {
	enabled   bool
	resumable bool
	requested bool // an <r/> is outstanding
	// acksBeforeClose: the client promised to acknowledge before it
	// closes its stream, and is asked lazily (ackask.go).
	acksBeforeClose bool
	inH             uint32 // stanzas handled from the client since enable
	acked           uint32 // the client's last reported h
	// unrequested counts the stanzas sent since the last <r/> (up to
	// its maximum), unstoredUnrequested tells whether one of them was
	// stored nowhere; askScheduled: the asker will ask (ackask.go).
	unrequested         uint16
	unstoredUnrequested bool
	askScheduled        bool
	unacked             []unackedStanza
}

// unackedStanza is a stanza written to the device and not yet
// acknowledged: the element, or for a stored stanza the offline drain
// wrote as it was stored (raw), its stored XML and time (drain.go).
type unackedStanza struct {
	st  *stanza.Element
	seq uint64 // queue position, 0 if not stored; with log, the log position
	log string // the log's key when seq is a log position (logpos.go)
	raw []byte // st is nil: the stored XML, without its delay stamp
	// storedNS is when raw was stored (Unix nanoseconds), for its delay
	// stamp: a time.Time took 16 bytes more in every entry, and a busy
	// group member holds hundreds of entries between two acks.
	storedNS int64
	// pending: st is a message not stored yet (router.Pending), stored
	// if the session ends or loses its connection before the ack.
	pending *router.Pending
}

// stored is when the entry's raw XML was stored.
func (u *unackedStanza) stored() time.Time { return time.Unix(0, u.storedNS) }

func (m *streamManagement) countInbound() {
	if m.enabled {
		m.inH++
	}
}

// keptUnacked is the largest unacknowledged list (in entries) whose array
// a session keeps, emptied, for its next writes while its device is active;
// a larger one goes back to the sessions' pool (Config.unackedArrays).
const keptUnacked = 16

// sent records u, written to the device; the list grows in arrays from
// pool.
func (m *streamManagement) sent(u unackedStanza, pool *slicepool.Pool[unackedStanza]) {
	m.unacked = pool.Append(m.unacked, u)
	if m.unrequested < math.MaxUint16 {
		m.unrequested++
	}
	if u.seq == 0 {
		m.unstoredUnrequested = true
	}
}

// maxSeq is the highest queue position among the unacknowledged stanzas.
func (m *streamManagement) maxSeq() uint64 {
	var top uint64
	for i := range m.unacked {
		top = max(top, m.unacked[i].queueSeq())
	}
	return top
}

// needsRequest reports whether stanzas were sent that no <r/> asked
// about, and none is outstanding.
func (m *streamManagement) needsRequest() bool {
	return m.unrequested > 0 && len(m.unacked) > 0 && !m.requested
}

// requestSent records an <r/> written to the client.
func (m *streamManagement) requestSent() {
	m.requested = true
	m.unrequested, m.unstoredUnrequested = 0, false
}

// ackedByLog returns what a valid ack h acknowledges when it settles
// without a store write: stanzas that were not stored, and positions of
// one log (key, with their seqs appended to seqs). ok is false for an
// invalid ack, a stanza in a queue or not yet stored (its erasing may
// write), or positions of more than one log.
func (m *streamManagement) ackedByLog(h uint32, seqs []uint64) (key string, logged []uint64, ok bool) {
	n := h - m.acked
	if int(n) > len(m.unacked) || n > 1<<31 {
		return "", seqs, false
	}
	for _, u := range m.unacked[:n] {
		switch {
		case u.log != "" && (key == "" || u.log == key):
			key = u.log
			seqs = append(seqs, u.seq)
		case u.log != "" || u.seq != 0 || u.pending != nil:
			return "", seqs, false
		}
	}
	return key, seqs, true
}

func (m *streamManagement) tooManyUnacked(limit int) bool { return len(m.unacked) > limit }

func (m *streamManagement) hasSeq(seq uint64) bool {
	for i := range m.unacked {
		if m.unacked[i].queueSeq() == seq {
			return true
		}
	}
	return false
}

// unackedIQRequests returns the iq get/set requests the client never acknowledged.
func (m *streamManagement) unackedIQRequests() []*stanza.Element {
	var out []*stanza.Element
	for _, u := range m.unacked {
		if u.st != nil && u.st.Name == stanza.KindIQ {
			if t := u.st.Type(); t == "get" || t == "set" {
				out = append(out, u.st)
			}
		}
	}
	return out
}

func (m *streamManagement) reset() {
	m.unacked = nil
	m.unrequested, m.unstoredUnrequested = 0, false
}

// handleSMLocked processes a stream-management element from the client.
func (s *Session) handleSMLocked(el *stanza.Element) {
	switch el.Name {
	case "r":
		s.answerAckRequestLocked()
	case "a":
		h, err := strconv.ParseUint(el.Attr("h"), 10, 32)
		if err != nil {
			s.closeLocked(stanza.NewStreamError(stanza.StreamBadFormat, "invalid h in <a/>"), false)
			return
		}
		if s.processAckLocked(uint32(h)) && s.sm.needsRequest() {
			// Stanzas sent after the <r/> this answers: the next write
			// asks about them, or the asker if none comes (an <r/> of its
			// own now would cost a busy device a write per ack).
			s.scheduleAckRequestLocked()
		}
	case "enable":
		s.enableLocked(el)
	default:
		s.out = s.tr.AppendElement(s.outLocked(), smFailed(stanza.UnexpectedRequest))
	}
}

// answerAckRequestLocked answers <r/> with the count of handled stanzas.
func (s *Session) answerAckRequestLocked() {
	if s.sm.enabled && s.tr != nil {
		s.out = s.tr.AppendElement(s.outLocked(), stanza.NewElement(stanza.NSSM, "a",
			"h", strconv.FormatUint(uint64(s.sm.inH), 10)))
	}
}

func (s *Session) enableLocked(el *stanza.Element) {
	if s.sm.enabled {
		s.out = s.tr.AppendElement(s.outLocked(), smFailed(stanza.UnexpectedRequest))
		return
	}
	s.out = s.tr.AppendElement(s.outLocked(), s.enableSMLocked(el))
}

// enableSMLocked turns stream management on as the client's <enable/>
// asks and returns the <enabled/> that tells the client (resumable when it
// asked and resumption is on).
func (s *Session) enableSMLocked(el *stanza.Element) *stanza.Element {
	r := el.Attr("resume")
	resume := r == "true" || r == "1"
	s.sm.enabled = true
	s.takesPending.Store(s.state == stateActive)
	s.sm.acksBeforeClose = promisesAcksBeforeClose(el)
	enabled := stanza.NewElement(stanza.NSSM, "enabled")
	if resume && s.cfg.ResumeTimeout > 0 {
		s.sm.resumable = true
		enabled.SetAttr("id", s.id)
		enabled.SetAttr("resume", "true")
		enabled.SetAttr("max", strconv.Itoa(int(s.cfg.ResumeTimeout.Seconds())))
		s.hub.Resumable(s)
	}
	return enabled
}

// BindInline completes a login bound inline (XEP-0386 Bind 2): it enables
// stream management when the client asked for it in its <bind/> (enable,
// nil when it did not), and calls lead with the <enabled/> (nil without
// it) under the session's lock, so that what lead leaves for the
// connection's next write (the SASL2 success holding both) goes before
// anything the session writes.
func (s *Session) BindInline(enable *stanza.Element, lead func(enabled *stanza.Element)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var enabled *stanza.Element
	if enable != nil && !s.sm.enabled {
		enabled = s.enableSMLocked(enable)
	}
	lead(enabled)
}

// absorbAckLocked settles the ack h, for the poller of the device's
// parked connection, as the session's goroutine would (handleSMLocked)
// when that writes nothing to the store: when h acknowledges only stanzas
// that were not stored and positions of one log none of which was copied
// into the account's queue (a group member's acks of the posts it was
// handed live). It reports false, changing nothing, otherwise (or when
// the log's lock is held): the session's goroutine then processes the ack.
// The device is idle: the session drops what it reuses while active
// (idleLocked), as when the connection parked.
func (s *Session) absorbAckLocked(h uint32) bool {
	var scratch []uint64
	if s.logs != nil {
		scratch = s.logs.seqs[:0]
	}
	key, seqs, ok := s.sm.ackedByLog(h, scratch)
	if s.logs != nil {
		s.logs.seqs = seqs[:0]
	}
	if !ok || (key != "" && (s.cfg.Logs == nil || !s.cfg.Logs.LogAckedUnqueued(s, key, seqs))) {
		return false
	}
	s.sm.requested = false
	s.dropAckedLocked(int(h - s.sm.acked))
	s.sm.acked = h
	if s.sm.needsRequest() {
		s.scheduleAckRequestLocked() // stanzas sent after the <r/> this answers
	}
	s.idleLocked()
	return true
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
	var logged []logPos
	if s.logs != nil {
		logged = s.logs.acks[:0]
	}
	for _, u := range s.sm.unacked[:n] {
		switch {
		case u.log != "":
			logged = append(logged, logPos{key: u.log, seq: u.seq})
		case u.seq != 0:
			seqs = append(seqs, u.seq)
		case u.pending != nil:
			if seq, stored := u.pending.Acked(); stored {
				seqs = append(seqs, seq)
			}
		}
	}
	s.dropAckedLocked(int(n))
	s.sm.acked = h
	if len(seqs) > 0 {
		s.ackQueue(seqs)
	}
	if len(logged) > 0 {
		s.ackLog(logged)
		clear(logged)
		s.logStateLocked().acks = logged[:0]
	}
	return true
}

// dropAckedLocked removes the first n unacknowledged stanzas. The rest (the
// stanzas written after the ack was asked for, usually few) move to the
// array's start, or to a smaller array (slicepool.Pool.DropFront): the
// list keeps one array while its device stays busy, where cutting the
// acknowledged ones off its front shrank the array's room and made the
// list grow a new one about once per ack. An emptied list keeps a small
// array while its device is active (Idle drops it when the device goes
// quiet) and gives a larger one back to the pool.
func (s *Session) dropAckedLocked(n int) {
	u := s.sm.unacked
	if n == len(u) {
		if n > 0 {
			s.unackedRoom = uint8(bits.Len(uint(n - 1))) // the next list starts with room for n
		}
		if cap(u) <= keptUnacked && s.keepsArrays() {
			clear(u)
			s.sm.unacked = u[:0]
			return
		}
	}
	s.sm.unacked = s.cfg.unackedArrays.DropFront(u, n)
}

func smFailed(cond stanza.Condition) *stanza.Element {
	f := stanza.NewElement(stanza.NSSM, "failed")
	f.AddChild(stanza.NewElement(stanza.NSStanzaErr, string(cond)))
	return f
}
