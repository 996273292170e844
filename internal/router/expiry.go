package router

import (
	"cmp"
	"log/slog"
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
	log    *slog.Logger

	mu    sync.Mutex
	queue []*Pending // oldest first; queue[head:] are live
	head  int
	timer *time.Timer // armed for queue[head] while armed
	armed bool
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
// next one. A user's messages are stored in order, oldest first; different
// users' in parallel, since a store may wait for a durable write (a
// backend without store.QueueStarter) and one slow user must not hold
// back the others. Failed writes are logged once per pass (their senders
// get an error, if they wait; nobody else may).
//
// Two passes take their messages one after the other (mu); one that
// overlaps an earlier pass still stores in order, as a message stores its
// user's earlier waiting messages first (Router.storeUpTo).
func (e *pendingExpiry) expire() {
	byKey := groupByKey(e.takeExpired(time.Now()))
	var wg sync.WaitGroup
	var mu sync.Mutex
	failed, first := 0, error(nil)
	for i, ps := range byKey {
		store := func() {
			for _, p := range ps {
				n, err := p.r.storeUpTo(p)
				mu.Lock()
				failed, first = failed+n, cmp.Or(first, err)
				mu.Unlock()
			}
		}
		if i == len(byKey)-1 {
			store() // the last group in this goroutine
			break
		}
		wg.Go(store)
	}
	wg.Wait()
	if failed > 0 && e.log != nil {
		e.log.Warn("storing messages no device acknowledged in time", "failed", failed, "err", first)
	}
}

// groupByKey returns the messages still waiting for an ack, grouped by
// user (queue key), each group in the order of ps.
func groupByKey(ps []*Pending) [][]*Pending {
	var groups [][]*Pending
	index := make(map[string]int)
	for _, p := range ps {
		if !p.waiting() {
			continue
		}
		i, ok := index[p.key]
		if !ok {
			i = len(groups)
			index[p.key] = i
			groups = append(groups, nil)
		}
		groups[i] = append(groups[i], p)
	}
	return groups
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
		if cap(e.queue) > 1024 && cap(e.queue) > 4*n { // a burst ended: let its array go
			e.queue = append([]*Pending(nil), e.queue...)
		}
	}
	e.armed = false
	if e.head < len(e.queue) {
		e.arm(e.queue[e.head].expires.Sub(now) + e.window/8)
	}
	return expired
}
