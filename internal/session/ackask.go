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
// between ackRequestDelay/2 and ackRequestDelay later: two buckets,
// swapped by one timer for all the server's sessions, so that no session
// holds a timer of its own (an idle device must hold no more than it
// does). The timer runs only while some session waits.
type ackAsker struct {
	mu      sync.Mutex
	filling []*Session // scheduled since the last tick
	waiting []*Session // scheduled before it: asked at the next tick
	timer   *time.Timer
	ticking bool
}

// schedule has s asked at the second tick from now.
func (a *ackAsker) schedule(s *Session) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.filling = append(a.filling, s)
	if a.ticking {
		return
	}
	a.ticking = true
	if a.timer == nil {
		a.timer = time.AfterFunc(ackRequestDelay/2, a.tick)
		return
	}
	a.timer.Reset(ackRequestDelay / 2)
}

// tick asks the sessions that waited a whole period and starts the next
// one, unless nobody waits.
func (a *ackAsker) tick() {
	a.mu.Lock()
	due := a.waiting
	a.waiting, a.filling = a.filling, nil
	if len(a.waiting) > 0 {
		a.timer.Reset(ackRequestDelay / 2)
	} else {
		a.ticking = false
	}
	a.mu.Unlock()
	for _, s := range due {
		s.push(item{ctl: ctlRequestAck})
	}
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
