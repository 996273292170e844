package c2s

import "sync/atomic"

// lingerLimit is how many connections may linger at once (lingerHere):
// one beyond it is parked at once instead. A lingering connection keeps
// its goroutine, and the stack its routing grew, for up to parkAfter;
// without a bound a login ramp of 1,000 logins/s had a thousand such
// goroutines alive at once, whose structs the runtime keeps for good and
// whose stacks leave the heap grown after the ramp (docs/benchmarks.md,
// "Memory per idle connection"), and the keep-alive sweep's ping rounds
// at 15,000 idle devices 1,500-1,600. Beyond the bound a connection's
// next stanza wakes it from the parker (a fresh goroutine) rather than on
// the goroutine that lingered, which costs CPU: the bound is above the
// 1,000 devices of the message-path benchmarks, which all linger between
// their messages.
const lingerLimit = 1024

// lingerSlots counts the connections lingering, up to a limit.
type lingerSlots struct {
	n     atomic.Int32
	limit int32
	peak  atomic.Int32 // the most that lingered at once
}

// take reserves a slot; false when all are taken.
func (l *lingerSlots) take() bool {
	n := l.n.Add(1)
	if n > l.limit {
		l.n.Add(-1)
		return false
	}
	for {
		p := l.peak.Load()
		if n <= p || l.peak.CompareAndSwap(p, n) {
			return true
		}
	}
}

// give returns a slot taken.
func (l *lingerSlots) give() { l.n.Add(-1) }
