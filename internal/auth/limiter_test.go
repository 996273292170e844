package auth

import (
	"net/netip"
	"sync"
	"testing"
	"time"
)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newTestLimiter(max int, window time.Duration) (*FailureLimiter, *fakeClock) {
	l := NewFailureLimiter(max, window)
	c := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	l.now = c.now
	return l, c
}

func TestFailureLimiterBudget(t *testing.T) {
	l, clock := newTestLimiter(5, time.Minute)
	ip := netip.MustParseAddr("192.0.2.1")
	other := netip.MustParseAddr("192.0.2.2")
	for i := range 5 {
		if !l.Allow(ip) {
			t.Fatalf("blocked after %d failures", i)
		}
		l.Fail(ip)
	}
	if l.Allow(ip) {
		t.Fatal("allowed after 5 failures")
	}
	if !l.Allow(other) {
		t.Fatal("another address is blocked")
	}
	// One failure drains every window/5 = 12 s.
	clock.advance(11 * time.Second)
	if l.Allow(ip) {
		t.Fatal("allowed before a failure drained")
	}
	clock.advance(time.Second)
	if !l.Allow(ip) {
		t.Fatal("blocked after a failure drained")
	}
	l.Fail(ip)
	if l.Allow(ip) {
		t.Fatal("allowed right after using the drained slot")
	}
	// Failures while blocked fill the bucket but no more: the next attempt
	// comes one slot (12 s) later, not 100 slots.
	for range 100 {
		l.Fail(ip)
	}
	clock.advance(11 * time.Second)
	if l.Allow(ip) {
		t.Fatal("allowed too early")
	}
	clock.advance(time.Second)
	if !l.Allow(ip) || l.Len() != 1 {
		t.Fatalf("blocked after a slot drained (tracked %d)", l.Len())
	}
	// A window without failures forgets the address (pruned lazily).
	clock.advance(time.Minute)
	l.Allow(other)
	if l.Len() != 0 {
		t.Fatalf("drained entries kept: %d", l.Len())
	}
}

func TestFailureLimiterSucceed(t *testing.T) {
	l, _ := newTestLimiter(3, time.Minute)
	ip := netip.MustParseAddr("198.51.100.7")
	for range 3 {
		l.Fail(ip)
	}
	if l.Allow(ip) {
		t.Fatal("allowed")
	}
	l.Succeed(ip)
	if !l.Allow(ip) || l.Len() != 0 {
		t.Fatal("Succeed does not reset")
	}
}

func TestFailureLimiterGrouping(t *testing.T) {
	l, _ := newTestLimiter(2, time.Minute)
	// One /64 is one client.
	l.Fail(netip.MustParseAddr("2001:db8:1:2::1"))
	l.Fail(netip.MustParseAddr("2001:db8:1:2:ffff:ffff:ffff:ffff"))
	if l.Allow(netip.MustParseAddr("2001:db8:1:2:abcd::9")) {
		t.Error("same /64 not grouped")
	}
	if l.Allow(netip.MustParseAddr("fe80::1%eth0")) != true {
		t.Error("link-local blocked")
	}
	if !l.Allow(netip.MustParseAddr("2001:db8:1:3::1")) {
		t.Error("another /64 blocked")
	}
	// IPv4-mapped IPv6 is the IPv4 address.
	l.Fail(netip.MustParseAddr("203.0.113.5"))
	l.Fail(netip.MustParseAddr("::ffff:203.0.113.5"))
	if l.Allow(netip.MustParseAddr("203.0.113.5")) {
		t.Error("IPv4-mapped address not grouped with IPv4")
	}
	if !l.Allow(netip.MustParseAddr("203.0.113.6")) {
		t.Error("IPv4 grouped beyond /32")
	}
	// Invalid addresses are not tracked; nil limiter allows all.
	for range 10 {
		l.Fail(netip.Addr{})
	}
	if !l.Allow(netip.Addr{}) {
		t.Error("zero address blocked")
	}
	var nl *FailureLimiter
	nl.Fail(netip.MustParseAddr("203.0.113.5"))
	nl.Succeed(netip.MustParseAddr("203.0.113.5"))
	if !nl.Allow(netip.MustParseAddr("203.0.113.5")) || nl.Len() != 0 {
		t.Error("nil limiter")
	}
}

func TestFailureLimiterBounded(t *testing.T) {
	l, clock := newTestLimiter(5, time.Minute)
	l.maxTracked = 100
	for i := range 10_000 {
		l.Fail(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}))
		if i%1000 == 0 {
			clock.advance(time.Second)
		}
	}
	if n := l.Len(); n > 100 {
		t.Fatalf("tracking %d addresses, cap 100", n)
	}
	// Once everything drained, the next lazy sweep empties the table.
	clock.advance(2 * time.Minute)
	l.Allow(netip.MustParseAddr("10.0.0.1"))
	if n := l.Len(); n != 0 {
		t.Fatalf("%d drained entries kept", n)
	}
}

func TestFailureLimiterDefaults(t *testing.T) {
	l := NewFailureLimiter(0, 0)
	if l.max != 5 || l.window != time.Minute {
		t.Errorf("defaults %d/%v", l.max, l.window)
	}
}

func TestFailureLimiterConcurrent(t *testing.T) {
	l := NewFailureLimiter(5, time.Minute)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 1000 {
				ip := netip.AddrFrom4([4]byte{10, 0, byte(g), byte(i)})
				l.Allow(ip)
				l.Fail(ip)
				if i%7 == 0 {
					l.Succeed(ip)
				}
			}
		}()
	}
	wg.Wait()
	if l.Len() > 8*256 {
		t.Fatalf("tracked %d", l.Len())
	}
}
