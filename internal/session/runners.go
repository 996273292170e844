package session

import (
	"sync"
	"time"
)

// runnerIdle is how long a mailbox runner with nothing to do waits for
// another session's mailbox before it exits.
const runnerIdle = time.Second

// runnerPool keeps the goroutines that drain mailboxes alive between
// bursts. A runner started afresh for every burst began from a small
// stack and grew it again on the write path each time (copystack was
// 10-16% of the server's CPU at 10,000 msg/s); a runner that finished a
// mailbox instead waits, holding no session, for the next one to start,
// for up to runnerIdle. A session still has at most one runner at a time
// (Session.mb.running), so its items are handled in order as before.
// The same runners settle the messages a session's reader handed over
// (settleRun), at most one at a time per session (settlement.running).
type runnerPool struct {
	once sync.Once
	// work is unbuffered: a task is handed over only to a runner waiting
	// for one, otherwise a new runner starts.
	work chan runnerTask
}

// runnerTask is a session's mailbox to drain, or its settlement to settle
// when settle is set.
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

// hand gives t to an idle runner, or to a new one.
func (p *runnerPool) hand(t runnerTask) {
	p.once.Do(func() { p.work = make(chan runnerTask) })
	select {
	case p.work <- t:
	default:
		go p.runner(t)
	}
}

// runner does t, then the tasks handed to it, until none comes for
// runnerIdle.
func (p *runnerPool) runner(t runnerTask) {
	idle := time.NewTimer(runnerIdle)
	defer idle.Stop()
	for {
		t.run()
		//lint:ignore SA4006 an idle runner must not keep a closed session alive while it waits
		t = runnerTask{}
		idle.Reset(runnerIdle)
		select {
		case t = <-p.work:
		case <-idle.C:
			return
		}
	}
}
