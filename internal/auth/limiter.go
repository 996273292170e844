package auth

import (
	"net/netip"
	"sync"
	"time"
)

// defaultMaxTracked caps the addresses a FailureLimiter remembers
// (about 70 bytes each with the map overhead: under 5 MB).
const defaultMaxTracked = 1 << 16

// evictSample is how many entries are looked at to choose one to evict
// when the table is full of active entries.
const evictSample = 8

// FailureLimiter limits authentication failures per client address: IPv4
// addresses one by one, IPv6 addresses by /64 (one customer's prefix).
//
// It is a token bucket (GCRA) per address: an address may fail maxFailures
// times in a row; after that Allow reports false until the bucket drains
// at maxFailures per window (one more attempt every window/maxFailures),
// and a full window without failures forgets the address. Memory is
// bounded: entries that drained are pruned lazily (at most one sweep per
// window, or when the table is full), and at most defaultMaxTracked
// addresses are tracked (when all are active, one of those closest to
// draining is evicted). No goroutine is started.
//
// A nil *FailureLimiter allows everything. Invalid (zero) addresses are
// not tracked. Safe for concurrent use.
type FailureLimiter struct {
	max        int // guarded by mu (SetMax)
	window     time.Duration
	interval   time.Duration // window / max: the drain time of one failure; guarded by mu (SetMax)
	maxTracked int
	now        func() time.Time // replaced in tests

	mu        sync.Mutex
	tat       map[netip.Addr]time.Time // guarded by mu; theoretical arrival time: the bucket is empty at tat
	lastSweep time.Time                // guarded by mu
}

// NewFailureLimiter allows maxFailures failures per window and address
// (e.g. 5 per minute). maxFailures <= 0 means 5, window <= 0 one minute.
func NewFailureLimiter(maxFailures int, window time.Duration) *FailureLimiter {
	if maxFailures <= 0 {
		maxFailures = 5
	}
	if window <= 0 {
		window = time.Minute
	}
	return &FailureLimiter{
		max:        maxFailures,
		window:     window,
		interval:   window / time.Duration(maxFailures),
		maxTracked: defaultMaxTracked,
		now:        time.Now,
		tat:        make(map[netip.Addr]time.Time),
	}
}

// LimiterKey is the group of addresses a per-address limit counts ip in:
// IPv4 (also IPv4-mapped IPv6) as is, IPv6 by /64 (one customer's prefix:
// a client given one holds every address in it), zones dropped. ok is
// false for an invalid (zero) address.
func LimiterKey(ip netip.Addr) (key netip.Addr, ok bool) {
	if !ip.IsValid() {
		return netip.Addr{}, false
	}
	ip = ip.Unmap().WithZone("")
	if ip.Is6() {
		p, _ := ip.Prefix(64)
		return p.Addr(), true
	}
	return ip, true
}

// SetMax changes the failures allowed per window and address (a
// configuration reload); what was counted stays counted.
func (l *FailureLimiter) SetMax(maxFailures int) {
	if l == nil || maxFailures <= 0 {
		return
	}
	l.mu.Lock()
	l.max = maxFailures
	l.interval = l.window / time.Duration(maxFailures)
	l.mu.Unlock()
}

// Allow reports whether ip may try to authenticate now. False means it is
// over its budget: answer temporary-auth-failure (or close the stream).
func (l *FailureLimiter) Allow(ip netip.Addr) bool {
	if l == nil {
		return true
	}
	k, ok := LimiterKey(ip)
	if !ok {
		return true
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.maybeSweep(now)
	tat, ok := l.tat[k]
	if !ok {
		return true
	}
	// The bucket holds tat-now worth of failures; full at one window.
	return tat.Sub(now) <= l.window-l.interval
}

// Fail records an authentication failure from ip.
func (l *FailureLimiter) Fail(ip netip.Addr) {
	if l == nil {
		return
	}
	k, ok := LimiterKey(ip)
	if !ok {
		return
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.maybeSweep(now)
	tat, ok := l.tat[k]
	if !ok && len(l.tat) >= l.maxTracked {
		l.sweep(now)
		if len(l.tat) >= l.maxTracked {
			l.evictOne()
		}
	}
	if tat.Before(now) {
		tat = now
	}
	tat = tat.Add(l.interval)
	if limit := now.Add(l.window); tat.After(limit) {
		tat = limit // failures while blocked do not extend the block past a window
	}
	l.tat[k] = tat
}

// Succeed forgets ip's failures (a user who mistyped and then got it
// right). Note that an attacker holding one valid account can use it to
// reset the budget of its address; the budget still bounds guesses per
// successful login.
func (l *FailureLimiter) Succeed(ip netip.Addr) {
	if l == nil {
		return
	}
	k, ok := LimiterKey(ip)
	if !ok {
		return
	}
	l.mu.Lock()
	delete(l.tat, k)
	l.mu.Unlock()
}

// Len returns the number of tracked address groups (for metrics and tests).
func (l *FailureLimiter) Len() int {
	if l == nil {
		return 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.tat)
}

// maybeSweep prunes drained entries at most once per window. Called with
// l.mu held.
func (l *FailureLimiter) maybeSweep(now time.Time) {
	if now.Sub(l.lastSweep) >= l.window {
		l.sweep(now)
	}
}

// sweep removes the entries whose bucket is empty. Called with l.mu held.
func (l *FailureLimiter) sweep(now time.Time) {
	for k, tat := range l.tat {
		if !tat.After(now) {
			delete(l.tat, k)
		}
	}
	l.lastSweep = now
}

// evictOne removes, among a few entries (map order is random), the one
// closest to draining. Called with l.mu held.
func (l *FailureLimiter) evictOne() {
	var victim netip.Addr
	var earliest time.Time
	i := 0
	for k, tat := range l.tat {
		if i == 0 || tat.Before(earliest) {
			victim, earliest = k, tat
		}
		if i++; i == evictSample {
			break
		}
	}
	delete(l.tat, victim)
}
