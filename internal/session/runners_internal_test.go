package session

import (
	"runtime"
	"testing"
	"time"
)

// TestRunnersWaitForTheNextTaskAndEndWhenIdle: a runner that finished its
// task waits for the next one (a second task reuses it, no new goroutine
// starts); the reaper ends a runner only once it has waited through a
// whole round, and the pool's own timer ends every idle runner within two
// rounds.
func TestRunnersWaitForTheNextTaskAndEndWhenIdle(t *testing.T) {
	var p runnerPool
	waiting := func() []*runner {
		p.mu.Lock()
		defer p.mu.Unlock()
		return append([]*runner(nil), p.waiting...)
	}
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); !ok(); time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
		}
	}
	before := runtime.NumGoroutine()
	empty := &Session{} // an empty mailbox: its task returns at once

	p.hand(runnerTask{s: empty})
	waitFor("the first runner to wait", func() bool { return len(waiting()) == 1 })
	first := waiting()[0]
	p.hand(runnerTask{s: empty})
	waitFor("the runner to wait again", func() bool { return len(waiting()) == 1 })
	if w := waiting()[0]; w != first {
		t.Fatal("a second task started a new runner while one was waiting")
	}

	p.reap() // first began waiting in this round: it stays
	if w := waiting(); len(w) != 1 || w[0] != first {
		t.Fatalf("the reaper ended a runner that had not waited a whole round (%d waiting)", len(w))
	}
	p.reap()
	if w := waiting(); len(w) != 0 {
		t.Fatalf("%d runners still wait after a whole round", len(w))
	}
	waitFor("the ended runner to exit", func() bool { return runtime.NumGoroutine() <= before })

	for range 3 {
		p.hand(runnerTask{s: empty})
	}
	waitFor("the pool's timer to end the idle runners", func() bool {
		return len(waiting()) == 0 && runtime.NumGoroutine() <= before
	})
}
