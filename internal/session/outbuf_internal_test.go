package session

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/parley-im/parley/internal/jid"
	"github.com/parley-im/parley/internal/stanza"
)

// TestOutputBufferRoundTripAllocatesNothing: a session takes an output
// buffer from the pool for each write and gives it back after; once the
// pool holds one, the round trip allocates nothing. Giving back &b made a
// pointer escape at every write, one allocation each.
func TestOutputBufferRoundTripAllocatesNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector's sync.Pool drops items at random")
	}
	var c Config
	c.releaseOut(c.outBuffer())
	allocs := testing.AllocsPerRun(1000, func() {
		b := c.outBuffer()
		b = append(b, "<message/>"...)
		c.releaseOut(b)
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per output buffer taken and given back, want 0", allocs)
	}
}

// TestAnAckIsWrittenFromAPooledBuffer: what a session appends when it has
// no output pending (here stream management's <a/>) goes into a buffer
// from the pool, which flushLocked gives back after the write. Appended to
// no buffer, every ack grew one of its own.
func TestAnAckIsWrittenFromAPooledBuffer(t *testing.T) {
	var wire bytes.Buffer
	cfg := &Config{Domain: "example.org", Now: time.Now, MailboxSize: 16, Log: slog.New(slog.DiscardHandler)}
	s := New(context.Background(), cfg, nil, jid.MustParse("bob@example.org/phone"), &recordingTransport{w: &wire})
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sm.enabled = true
	s.answerAckRequestLocked()
	if cap(s.out) != freshOutCap {
		t.Fatalf("the ack went into a buffer of capacity %d, want one from the pool (%d)", cap(s.out), freshOutCap)
	}
	if !s.flushLocked() || !strings.Contains(wire.String(), `<a xmlns="urn:xmpp:sm:3" h="0"/>`) {
		t.Fatalf("wrote %q, want the ack", wire.String())
	}
}

// newRecordedSession is a session writing to wire, with stream
// management on.
func newRecordedSession(t *testing.T, wire *bytes.Buffer) *Session {
	t.Helper()
	cfg := &Config{Domain: "example.org", Now: time.Now, MailboxSize: 16, Log: slog.New(slog.DiscardHandler)}
	s := New(context.Background(), cfg, nil, jid.MustParse("bob@example.org/phone"), &recordingTransport{w: wire})
	s.sm.enabled = true
	return s
}

// TestAnActiveSessionReusesItsListsBetweenBursts: while the device's
// connection reads (Flush), a delivery, its write and its ack reuse the
// mailbox's items and the unacknowledged list's arrays (each grew a new
// one per burst before). Idle drops them when the device goes quiet, with
// an output buffer left empty, and a parked device that gets a delivery
// and acknowledges it keeps none.
func TestAnActiveSessionReusesItsListsBetweenBursts(t *testing.T) {
	var wire bytes.Buffer
	s := newRecordedSession(t, &wire)
	msg := stanza.NewElement(stanza.NSClient, "message", "to", "bob@example.org/phone")
	burst := func() {
		s.mbMu.Lock()
		s.mb.running = true // the push starts no runner: the test is it
		s.mbMu.Unlock()
		s.Deliver(msg, "", 0)
		s.run()
		s.mu.Lock()
		s.processAckLocked(s.sm.acked + 1)
		s.mu.Unlock()
	}
	kept := func() (items, unacked int) {
		s.mbMu.Lock()
		items = cap(s.mb.items)
		s.mbMu.Unlock()
		s.mu.Lock()
		unacked = cap(s.sm.unacked)
		s.mu.Unlock()
		return items, unacked
	}
	s.Flush() // the connection read something: the device is active
	burst()
	if items, unacked := kept(); items == 0 || unacked == 0 {
		t.Fatalf("after a burst: mailbox array of %d items, unacknowledged list of %d; want both kept", items, unacked)
	}
	if allocs := testing.AllocsPerRun(100, burst); allocs != 0 && !raceEnabled {
		t.Errorf("%v allocations per delivery, write and ack; want none", allocs)
	}
	s.mu.Lock()
	s.out = s.outLocked() // an output buffer taken and left empty
	s.mu.Unlock()
	s.Idle()
	if s.mb.items != nil || s.sm.unacked != nil || s.out != nil {
		t.Fatalf("an idle session keeps %d mailbox items, %d unacknowledged entries, %d output bytes of room",
			cap(s.mb.items), cap(s.sm.unacked), cap(s.out))
	}
	burst() // parked: the poller takes the ack
	if items, unacked := kept(); items != 0 || unacked != 0 {
		t.Fatalf("a parked device kept a mailbox array of %d items and an unacknowledged list of %d", items, unacked)
	}
	if n := strings.Count(wire.String(), "<message"); n != 103 {
		t.Fatalf("%d messages written, want 103", n)
	}
}

// TestTheSettlerKeepsItsArrayForTheNextRead: the settler hands its
// drained array back to the queue, which the reader's next hand-over takes
// for its own unsettled messages: a read's messages then append into an
// array instead of growing one per read.
func TestTheSettlerKeepsItsArrayForTheNextRead(t *testing.T) {
	var wire bytes.Buffer
	s := newRecordedSession(t, &wire)
	s.inMu.Lock()
	r := s.messageRoutingLocked()
	s.inMu.Unlock()
	q := &r.settle
	settle := func() {
		q.mu.Lock()
		q.queue = append(q.queue, unsettledMessage{ackRequest: true})
		q.pending++
		q.running = true
		q.mu.Unlock()
		s.settleRun(q)
	}
	settle()
	if cap(q.queue) == 0 {
		t.Fatal("the settler dropped its array: the next read grows one")
	}
	if allocs := testing.AllocsPerRun(100, settle); allocs > 1 && !raceEnabled {
		t.Errorf("%v allocations per message settled, want at most 1 (the <a/> written)", allocs)
	}
	if n := strings.Count(wire.String(), "<a "); n != 102 {
		t.Fatalf("%d acks written, want 102", n)
	}
}
