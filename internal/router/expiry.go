package router

import (
	"sync"
	"time"
)

// pendingExpiry stores the pending messages whose ack window ended with
// no device's ack. Every window has the same length (Config.AckWindow),
// so the messages end their windows in the order they were handed out: one
// queue in that order and one timer, armed for its oldest message, serve
// them all. A timer per message was a tenth of the objects the server
// allocated per message (BenchmarkOneToOne), for windows that nearly all
// end with an ack.
//
// The timer fires a little after the oldest window ends (window/8 later),
// so that each pass takes the windows that ended in that time, not one
// message (nearly always acknowledged) per pass.
//
// Expired messages are stored one after the other, oldest first, so that
// a user's queue keeps the order in which the messages reached the user's
// devices. An acknowledged message stays in the queue, without its
// stanza, until its window ends.
type pendingExpiry struct {
	window time.Duration

	mu    sync.Mutex
	queue []*Pending // oldest first; queue[head:] are live
	head  int
	timer *time.Timer // armed for queue[head] while armed
	armed bool

	storing sync.Mutex // one expiry pass at a time, so that they store in order
}

// add starts p's window.
func (e *pendingExpiry) add(p *Pending) {
	e.mu.Lock()
	defer e.mu.Unlock()
	p.expires = time.Now().Add(e.window) // under mu: the queue stays in expiry order
	e.queue = append(e.queue, p)
	if !e.armed {
		e.arm(e.window + e.window/8)
	}
}

// arm schedules the next pass in d; e.mu is held.
func (e *pendingExpiry) arm(d time.Duration) {
	e.armed = true
	if e.timer == nil {
		e.timer = time.AfterFunc(d, e.expire)
		return
	}
	e.timer.Reset(d)
}

// expire stores the messages whose window ended and arms the timer for the
// next one.
func (e *pendingExpiry) expire() {
	e.storing.Lock()
	defer e.storing.Unlock()
	for _, p := range e.takeExpired(time.Now()) {
		p.r.storeUpTo(p)
	}
}

// takeExpired removes from the queue the messages whose window ended by
// now, oldest first, and arms the timer for the oldest one left.
func (e *pendingExpiry) takeExpired(now time.Time) []*Pending {
	e.mu.Lock()
	defer e.mu.Unlock()
	start := e.head
	for e.head < len(e.queue) && !e.queue[e.head].expires.After(now) {
		e.head++
	}
	expired := append([]*Pending(nil), e.queue[start:e.head]...)
	clear(e.queue[start:e.head])
	if e.head == len(e.queue) || e.head > len(e.queue)/2 { // reuse the array once half of it is spent
		n := copy(e.queue, e.queue[e.head:])
		clear(e.queue[n:])
		e.queue, e.head = e.queue[:n], 0
	}
	e.armed = false
	if e.head < len(e.queue) {
		e.arm(e.queue[e.head].expires.Sub(now) + e.window/8)
	}
	return expired
}
