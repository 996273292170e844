package c2s

import (
	"context"
	"sync"
	"time"

	"github.com/parley-im/parley/internal/auth"
	"github.com/parley-im/parley/internal/stanza"
)

// deepIdle is how long a deep-call worker with nothing to do waits for the
// next call before it exits.
const deepIdle = time.Second

// deepCalls runs calls that go deep on the stack (a SASL mechanism's first
// step: the account read through Pebble's iterators, the HMACs; a presence
// or an IQ, whose handlers read the roster and other records) on a few
// goroutines kept alive between calls, whose stacks have grown already. A
// connection's goroutine starts with a small stack: running the call
// itself, it grew it by doublings, copying it each time (10% of the
// server's CPU in a login ramp), and then held the grown stack while it
// waited for the client's next step. The caller waits for the call: the
// connection's steps stay in order.
type deepCalls struct {
	once sync.Once
	// work is unbuffered: a call is handed over only to a worker waiting
	// for one, otherwise a new worker starts.
	work chan *deepCall
	// calls keeps deepCalls for reuse, with their done channels.
	calls sync.Pool
}

// deepCall is one call and its completion.
type deepCall struct {
	run  func()
	done chan struct{} // capacity 1: the worker's signal that run returned
}

// do runs f on a worker and returns once it has returned.
func (p *deepCalls) do(f func()) {
	p.once.Do(func() { p.work = make(chan *deepCall) })
	call, _ := p.calls.Get().(*deepCall)
	if call == nil {
		call = &deepCall{done: make(chan struct{}, 1)}
	}
	call.run = f
	select {
	case p.work <- call:
	default:
		go p.worker(call)
	}
	<-call.done
	call.run = nil
	p.calls.Put(call)
}

// worker runs call, then the calls handed to it, until none comes for
// deepIdle.
func (p *deepCalls) worker(call *deepCall) {
	idle := time.NewTimer(deepIdle)
	defer idle.Stop()
	for {
		call.run()
		call.done <- struct{}{}
		idle.Reset(deepIdle)
		select {
		case call = <-p.work:
		case <-idle.C:
			return
		}
	}
}

// goesDeep reports whether the session's handling of el reads the store
// through Pebble's iterators, deep on the stack, so that it runs on a
// deep-call worker: a presence or an IQ (by name: a top-level element in
// another namespace so named is refused by the session, on a worker or
// not). A message (the hot path) does not: its handling went no deeper
// than the connection's stack already was in the one-to-one benchmark's
// profile.
func goesDeep(el *stanza.Element) bool {
	return el.Name == stanza.KindPresence || el.Name == stanza.KindIQ
}

// startAuth runs the first step of mechanism (the account read and, for
// SCRAM, the first message; for PLAIN the whole check) on a deep-call
// worker.
func (c *conn) startAuth(ctx context.Context, mechanism string, initial []byte) (n *auth.Negotiation, challenge []byte, err error) {
	cfg := c.authConfig()
	c.srv.deep.do(func() { n, challenge, err = c.srv.auth.Start(ctx, cfg, mechanism, initial) })
	return n, challenge, err
}
