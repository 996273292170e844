package session

import (
	"sync"
	"time"

	"github.com/parley-im/parley/internal/stanza"
)

// When the session asks a client to acknowledge what it was sent (<r/>).
//
// A client that does not say otherwise is asked at every write that
// carries stanzas not yet asked about: it may close its stream at any
// moment, and what it never acknowledged goes back to its queue and comes
// again at its next login (xmpp.js and the web client did exactly that
// when asked only a second later).
//
// A client that promises, when it enables stream management, to
// acknowledge unasked before it closes its stream (<acks-before-close
// xmlns='urn:parley:0'/> in <enable/>; Parley's Go client does) is asked
// about stored stanzas (its queue's, a group log's) ackRequestDelay/2 to
// ackRequestDelay after the first not asked about, or at once when
// ackRequestEvery of them wait. A write that carries a stanza stored
// nowhere (a presence, an iq result, a chat state) still asks at once:
// such stanzas are few, and a device that logged in settles (its
// connection parks, its session drops what it holds) only once they are
// acknowledged; asked a second later, 5,000 idle devices each held 0.8 to
// 2 KB more (parley bench's idle figure). A member of a busy
// group got a write per post, and an <r/> in each cost the member an ack
// and the server a read, a decryption, a parse and a log update for every
// post (docs/benchmarks.md, "Groups: fan-out"). Asking later only keeps
// what was sent unacknowledged a little longer: a device that drops gets
// it again (on resumption exactly what it did not handle), as before.
const (
	ackRequestDelay = time.Second
	ackRequestEvery = 64
)

// nsParley's element in <enable/>: the client acknowledges before it
// closes its stream, so it may be asked for acks lazily.
const acksBeforeClose = "acks-before-close"

// promisesAcksBeforeClose reports whether an <enable/> carries the
// promise.
func promisesAcksBeforeClose(enable *stanza.Element) bool {
	return enable.Child(stanza.NSParley, acksBeforeClose) != nil
}

// ackAsker asks the sessions scheduled with it for an ack (ctlRequestAck)
// between ackRequestDelay/2 and ackRequestDelay later. It holds a ring of
// askSlots slots, one per tick of one timer for all the server's sessions
// (so that no session holds a timer of its own: an idle device must hold
// no more than it does), which runs only while some session waits. Each
// tick asks the sessions of one slot. A session scheduled goes to one of
// the later half's slots, in turn: the sessions one group post schedules
// at once (all its members) are asked over half a second, not at one
// instant. Asked at one instant, 1,024 members cost the server 1,024
// writes and their clients 1,024 acks at once, and the post behind them
// waited (docs/benchmarks.md, "Session 22").
type ackAsker struct {
	mu      sync.Mutex
	slots   [askSlots][]*Session // slots[cur] is asked at the next tick
	cur     int
	turn    int // which of the later half's slots the next session goes to
	waiting int // sessions in the slots
	timer   *time.Timer
	ticking bool
}

// askSlots is the asker's ticks per ackRequestDelay.
const askSlots = 16

// schedule has s asked between ackRequestDelay/2 and ackRequestDelay from
// now.
func (a *ackAsker) schedule(s *Session) {
	a.mu.Lock()
	defer a.mu.Unlock()
	// Offsets askSlots/2 to askSlots-1 from cur are asked that many ticks
	// from now, plus what is left of the current one.
	i := (a.cur + askSlots/2 + a.turn) % askSlots
	a.turn = (a.turn + 1) % (askSlots / 2)
	a.slots[i] = append(a.slots[i], s)
	a.waiting++
	if a.ticking {
		return
	}
	a.ticking = true
	if a.timer == nil {
		a.timer = time.AfterFunc(ackRequestDelay/askSlots, a.tick)
		return
	}
	a.timer.Reset(ackRequestDelay / askSlots)
}

// tick asks the sessions of the slot that came due.
func (a *ackAsker) tick() {
	for _, s := range a.advance() {
		s.push(item{ctl: ctlRequestAck})
	}
}

// advance takes the current slot's sessions, moves on to the next slot
// and starts the next tick, unless nobody waits.
func (a *ackAsker) advance() []*Session {
	a.mu.Lock()
	defer a.mu.Unlock()
	due := a.slots[a.cur]
	a.slots[a.cur] = nil
	a.cur = (a.cur + 1) % askSlots
	a.waiting -= len(due)
	if a.waiting > 0 {
		if a.timer != nil { // nil: a test ticks the asker itself
			a.timer.Reset(ackRequestDelay / askSlots)
		}
	} else {
		a.ticking = false
	}
	return due
}

// appendAckRequestLocked asks the client for an ack in the coming write
// when stanzas it was sent are not covered by one, and it is time (see
// ackRequestDelay); otherwise it makes sure the asker will ask.
func (s *Session) appendAckRequestLocked() {
	if !s.sm.enabled || s.tr == nil || !s.sm.needsRequest() {
		return
	}
	if s.sm.acksBeforeClose && !s.sm.unstoredUnrequested && s.sm.unrequested < ackRequestEvery {
		s.scheduleAckRequestLocked()
		return
	}
	s.requestAckLocked()
}

// requestAckLocked appends an <r/> to the output.
func (s *Session) requestAckLocked() {
	s.out = s.tr.AppendElement(s.outLocked(), s.cfg.ackRequestElement())
	s.sm.requestSent()
}

// ackRequestElement is the <r/> of c's sessions, one element for all
// (an element of its own was an allocation per write that asked).
func (c *Config) ackRequestElement() *stanza.Element {
	c.ackRequestOnce.Do(func() { c.ackRequest = stanza.Element{Space: stanza.NSSM, Name: "r"} })
	return &c.ackRequest
}

// scheduleAckRequestLocked has the asker ask later, unless it will
// already.
func (s *Session) scheduleAckRequestLocked() {
	if s.sm.askScheduled || s.state == stateClosed {
		return
	}
	s.sm.askScheduled = true
	s.cfg.asker.schedule(s)
}

// ackRequestDueLocked runs the asker's ctlRequestAck item: it asks for
// what is still not asked about.
func (s *Session) ackRequestDueLocked() {
	s.sm.askScheduled = false
	if s.state == stateActive && s.handoff == nil && s.tr != nil && s.sm.needsRequest() {
		s.requestAckLocked()
	}
}

// requestResentAckLocked asks at once for an ack of the stanzas a
// resumption re-sent, if any.
func (s *Session) requestResentAckLocked() {
	s.sm.requested = false
	if len(s.sm.unacked) > 0 {
		s.requestAckLocked()
	}
}
