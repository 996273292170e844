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
type runnerPool struct {
	once sync.Once
	// work is unbuffered: a session is handed over only to a runner
	// waiting for one, otherwise a new runner starts.
	work chan *Session
}

// start has a runner drain s's mailbox.
func (p *runnerPool) start(s *Session) {
	p.once.Do(func() { p.work = make(chan *Session) })
	select {
	case p.work <- s:
	default:
		go p.runner(s)
	}
}

// runner drains s, then the mailboxes handed to it, until none comes for
// runnerIdle.
func (p *runnerPool) runner(s *Session) {
	idle := time.NewTimer(runnerIdle)
	defer idle.Stop()
	for {
		s.run()
		s = nil // an idle runner must not keep a closed session alive
		idle.Reset(runnerIdle)
		select {
		case s = <-p.work:
		case <-idle.C:
			return
		}
	}
}
