package router

import (
	"testing"

	"github.com/parley-im/parley/internal/jid"
	"github.com/parley-im/parley/internal/stanza"
)

// TestAMembersPositionsGrowInPooledArrays: a live member of a busy group
// is handed hundreds of positions between two acknowledgements, and its
// record empties at each. The record's array goes back to the router's
// pool when it empties and the next positions grow in arrays from it: with
// plain append they grew a new array from nothing after every ack (about
// 110 bytes per group delivery).
func TestAMembersPositionsGrowInPooledArrays(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector's sync.Pool drops items at random")
	}
	const key = "groups.localhost"
	r := &Router{}
	tr := r.log(key)
	user := jid.MustParse("u0@localhost")
	d := &unheldDevice{full: jid.MustParse("u0@localhost/phone")}
	targets := []Device{d}
	msgs := make([]*stanza.Element, 400)
	seqs := make([]uint64, 400)
	for i := range msgs {
		msgs[i] = stanza.NewElement(stanza.NSClient, "message")
	}
	var next uint64
	cycle := func() {
		for i := range seqs {
			next++
			seqs[i] = next
		}
		if !tr.hold(user, msgs, seqs, targets) {
			t.Fatal("hold refused a user with nothing unheld")
		}
		if queued := r.LogAcked(d, key, seqs); len(queued) != 0 {
			t.Fatalf("acked positions mapped to queue positions %v", queued)
		}
	}
	cycle()
	if n := len(tr.users); n != 0 {
		t.Fatalf("%d users still tracked after acking everything", n)
	}
	if allocs := testing.AllocsPerRun(100, cycle); allocs != 0 {
		t.Fatalf("%v allocations per 400 positions handed and acknowledged, want 0", allocs)
	}
	tr.hold(user, msgs[:1], []uint64{next + 1}, targets)
	if room := cap(tr.users[user].entries); room != 512 {
		t.Fatalf("after acks of 400 at a time, the next record starts with room for %d, want 512 (no growth through the smaller arrays)", room)
	}
}

// TestLogAckedUnqueuedDoesNotWaitForTheLogsLock: the poller of parked
// connections settles a member's ack with LogAckedUnqueued; while a
// fan-out holds the log's lock it is refused at once (the member's
// goroutine then settles it) rather than keeping every parked connection
// waiting behind the fan-out.
func TestLogAckedUnqueuedDoesNotWaitForTheLogsLock(t *testing.T) {
	const key = "groups.localhost"
	r := &Router{}
	tr := r.log(key)
	user := jid.MustParse("u0@localhost")
	d := &unheldDevice{full: jid.MustParse("u0@localhost/phone")}
	if !tr.hold(user, []*stanza.Element{stanza.NewElement(stanza.NSClient, "message")}, []uint64{1}, []Device{d}) {
		t.Fatal("hold refused a user with nothing unheld")
	}
	tr.mu.Lock()
	refused := !r.LogAckedUnqueued(d, key, []uint64{1})
	tr.mu.Unlock()
	if !refused {
		t.Fatal("settled an ack while the log's lock was held")
	}
	if !r.LogAckedUnqueued(d, key, []uint64{1}) {
		t.Fatal("the ack was refused with the lock free")
	}
	if _, ok := r.LogLowWater(key); ok {
		t.Fatal("position 1 is still unsettled after the ack")
	}
}
