package session

import (
	"bytes"
	"context"
	"log/slog"
	"strconv"
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

// TestABusyDeviceGrowsItsUnacknowledgedListFromThePool: a group member
// gets hundreds of copies between two acks, which empty its list. The
// emptied list's array goes back to the sessions' pool and the next copies
// grow the list in arrays from it: with plain append the list grew a new
// array from nothing after every ack (about 180 bytes per group delivery).
func TestABusyDeviceGrowsItsUnacknowledgedListFromThePool(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector's sync.Pool drops items at random")
	}
	var wire bytes.Buffer
	s := newRecordedSession(t, &wire)
	s.cfg.MailboxSize = 1024 // room for 400 unacknowledged stanzas
	msg := stanza.NewElement(stanza.NSClient, "message", "to", "bob@example.org")
	cycle := func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		for range 400 {
			s.trackSentLocked(unackedStanza{st: msg})
		}
		if !s.processAckLocked(s.sm.acked + 400) {
			t.Fatal("the ack of all 400 was refused")
		}
	}
	cycle()
	if s.sm.unacked != nil {
		t.Fatalf("the session kept an emptied list of %d entries; want it given back to the pool", cap(s.sm.unacked))
	}
	if allocs := testing.AllocsPerRun(100, cycle); allocs != 0 {
		t.Fatalf("%v allocations per 400 stanzas written and acknowledged, want 0", allocs)
	}
	s.mu.Lock()
	s.trackSentLocked(unackedStanza{st: msg})
	room := cap(s.sm.unacked)
	s.mu.Unlock()
	if room != 512 {
		t.Fatalf("after acks of 400 at a time, the next list starts with room for %d, want 512 (no growth through the smaller arrays)", room)
	}
}

// TestAPartialAckKeepsTheRestInOrderAtTheArraysStart: the stanzas an ack
// does not cover move to the start of the list's array, in order, and the
// list keeps its room (cutting the acknowledged ones off its front made
// it grow a new array about once per ack).
func TestAPartialAckKeepsTheRestInOrderAtTheArraysStart(t *testing.T) {
	var wire bytes.Buffer
	s := newRecordedSession(t, &wire)
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range 10 {
		s.trackSentLocked(unackedStanza{st: stanza.NewElement(stanza.NSClient, "message", "id", strconv.Itoa(i))})
	}
	room := cap(s.sm.unacked)
	if !s.processAckLocked(7) {
		t.Fatal("ack refused")
	}
	if len(s.sm.unacked) != 3 || cap(s.sm.unacked) != room {
		t.Fatalf("after acking 7 of 10: %d left, room %d; want 3 in the same %d", len(s.sm.unacked), cap(s.sm.unacked), room)
	}
	for i, u := range s.sm.unacked {
		if got, want := u.st.ID(), strconv.Itoa(7+i); got != want {
			t.Fatalf("entry %d is message %s, want %s", i, got, want)
		}
	}
	for i, u := range s.sm.unacked[3:room] {
		if u.st != nil {
			t.Fatalf("the array past the list still points to a stanza at %d", 3+i)
		}
	}
	if !s.processAckLocked(9) || len(s.sm.unacked) != 1 || s.sm.unacked[0].st.ID() != "9" {
		t.Fatalf("the next ack (h=9) left %d stanzas", len(s.sm.unacked))
	}
}

// TestARestoredListGrowsFromThePool: a resumed session's list is rebuilt
// by plain append (restore.go), to a capacity no pool class has (17 for
// 9 to 16 stanzas); the next writes grow it from the pool all the same.
func TestARestoredListGrowsFromThePool(t *testing.T) {
	var wire bytes.Buffer
	s := newRecordedSession(t, &wire)
	s.cfg.MailboxSize = 1024
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range 16 {
		s.sm.unacked = append(s.sm.unacked, unackedStanza{st: stanza.NewElement(stanza.NSClient, "message", "id", strconv.Itoa(i))})
	}
	for i := 16; i < 100; i++ {
		s.trackSentLocked(unackedStanza{st: stanza.NewElement(stanza.NSClient, "message", "id", strconv.Itoa(i))})
	}
	for i, u := range s.sm.unacked {
		if u.st.ID() != strconv.Itoa(i) {
			t.Fatalf("entry %d is message %s", i, u.st.ID())
		}
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
