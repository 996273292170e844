package session

import (
	"slices"
	"sync"
	"time"
)

// runnerIdle is how often the pool ends the runners that waited, with
// nothing to do, since its previous look: an idle runner exits after one
// to two of these.
const runnerIdle = time.Second

// runnerPool keeps the goroutines that drain mailboxes alive between
// bursts. A runner started afresh for every burst began from a small
// stack and grew it again on the write path each time (copystack was
// 10-16% of the server's CPU at 10,000 msg/s); a runner that finished a
// mailbox instead waits, holding no session, for the next one to start.
// A session still has at most one runner at a time (Session.mb.running),
// so its items are handled in order as before. The same runners settle
// the messages a session's reader handed over (settleRun), at most one
// at a time per session (settlement.running).
//
// Waiting runners are a stack: a task goes to the one that finished
// last (its stack is the warmest), and those at the bottom are the ones
// that waited longest. One timer for the pool ends them, so a runner
// waits on its own channel alone. A runner that waited in a select with
// a timer of its own, reset after every task, cost the server 5% of its
// CPU when a group post woke every member's session one at a time.
type runnerPool struct {
	mu sync.Mutex
	// waiting holds the runners with nothing to do, the most recent last.
	waiting []*runner
	// round counts the reaper's looks; a runner notes it when it starts
	// waiting, and one still waiting at the next look but one has waited
	// a whole round.
	round  uint64
	reaper *time.Timer // armed while a runner waits; nil before the first
}

// runner is one waiting goroutine's handle.
type runner struct {
	// next gets the runner's next task, or an empty one when it must
	// exit. Buffered: the hand never waits for the runner to take it.
	next  chan runnerTask
	since uint64 // the pool's round when it started waiting
}

// runnerTask is a session's mailbox to drain, or its settlement to settle
// when settle is set. The zero task ends a waiting runner.
type runnerTask struct {
	s      *Session
	settle *settlement
}

// run does t.
func (t runnerTask) run() {
	if t.settle != nil {
		t.s.settleRun(t.settle)
		return
	}
	t.s.run()
}

// start has a runner drain s's mailbox.
func (p *runnerPool) start(s *Session) { p.hand(runnerTask{s: s}) }

// startSettler has a runner settle q, s's settlement.
func (p *runnerPool) startSettler(s *Session, q *settlement) { p.hand(runnerTask{s: s, settle: q}) }

// hand gives t to the runner that waited least, or to a new one.
func (p *runnerPool) hand(t runnerTask) {
	p.mu.Lock()
	n := len(p.waiting)
	if n == 0 {
		p.mu.Unlock()
		go p.run(&runner{next: make(chan runnerTask, 1)}, t)
		return
	}
	r := p.waiting[n-1]
	p.waiting[n-1] = nil
	p.waiting = p.waiting[:n-1]
	p.mu.Unlock()
	r.next <- t
}

// run does t, then the tasks handed to r, until the reaper ends it.
func (p *runnerPool) run(r *runner, t runnerTask) {
	for {
		t.run()
		t = runnerTask{} // a waiting runner must not keep a closed session alive
		p.wait(r)
		if t = <-r.next; t.s == nil {
			return
		}
	}
}

// wait puts r on the stack of waiting runners.
func (p *runnerPool) wait(r *runner) {
	p.mu.Lock()
	defer p.mu.Unlock()
	r.since = p.round
	p.waiting = append(p.waiting, r)
	if p.reaper == nil {
		p.reaper = time.AfterFunc(runnerIdle, p.reap)
	} else if len(p.waiting) == 1 {
		p.reaper.Reset(runnerIdle)
	}
}

// reap ends the runners that have waited since before its previous
// look, and looks again later while any runner waits.
func (p *runnerPool) reap() {
	p.mu.Lock()
	defer p.mu.Unlock()
	old := 0
	for old < len(p.waiting) && p.waiting[old].since < p.round {
		p.waiting[old].next <- runnerTask{}
		old++
	}
	p.waiting = slices.Delete(p.waiting, 0, old)
	p.round++
	if len(p.waiting) > 0 {
		p.reaper.Reset(runnerIdle)
	}
}
