package session

import "testing"

// TestTheAskerSpreadsSessionsScheduledAtOnce: 64 sessions scheduled at one
// instant (a group post's members) are asked over the later half of the
// asker's period, 8 at each of its 8 ticks there, none sooner than half
// the period (ackRequestDelay/2) and none later than the whole. Asked at
// one tick, as before, a 1,024-member group's members all answered at
// once, and the post behind their acks waited.
func TestTheAskerSpreadsSessionsScheduledAtOnce(t *testing.T) {
	a := &ackAsker{ticking: true} // no timer: the test ticks it (advance)
	sessions := make([]Session, 64)
	for i := range sessions {
		a.schedule(&sessions[i])
	}
	askedAt := map[*Session]int{}
	perTick := make([]int, askSlots)
	for tick := range askSlots {
		for _, s := range a.advance() {
			if _, twice := askedAt[s]; twice {
				t.Fatalf("a session asked twice")
			}
			askedAt[s] = tick
			perTick[tick]++
		}
	}
	if len(askedAt) != len(sessions) {
		t.Fatalf("%d of %d sessions asked in a period", len(askedAt), len(sessions))
	}
	// Tick k (from 0) comes k whole ticks after the current one ends.
	for tick, n := range perTick {
		want := 0
		if tick >= askSlots/2 {
			want = len(sessions) / (askSlots / 2)
		}
		if n != want {
			t.Fatalf("asked per tick: %v; want none in the first half of the period and %d at each tick of the second", perTick, want)
		}
	}
	if a.ticking || a.waiting != 0 {
		t.Fatalf("after the period: ticking %v, %d waiting; want the asker stopped", a.ticking, a.waiting)
	}
}

// TestTheAskerCountsFromWhenASessionIsScheduled: a session scheduled
// after some ticks is asked half a period to a period after that, not
// after the asker's first schedule.
func TestTheAskerCountsFromWhenASessionIsScheduled(t *testing.T) {
	a := &ackAsker{ticking: true}
	var early, late Session
	a.schedule(&early)
	for range 5 {
		if due := a.advance(); len(due) != 0 {
			t.Fatalf("asked %d sessions within 5 ticks of scheduling", len(due))
		}
	}
	a.schedule(&late)
	for tick := 5; tick < 5+askSlots; tick++ {
		for _, s := range a.advance() {
			since := tick
			if s == &late {
				since = tick - 5
			}
			if since < askSlots/2 || since >= askSlots {
				t.Fatalf("a session asked %d ticks after it was scheduled, want %d to %d", since, askSlots/2, askSlots-1)
			}
		}
	}
	if a.waiting != 0 {
		t.Fatalf("%d sessions still waiting", a.waiting)
	}
}
