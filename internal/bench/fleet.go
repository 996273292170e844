package bench

import (
	"context"
	"crypto/rand"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parley-im/parley/client"
)

// device is one simulated phone: a real client connection that sends to
// its partner (device i pairs with i^1) and checks what its partner sends.
type device struct {
	idx      int
	c        *client.Client
	to       string       // the partner's bare JID
	sent     atomic.Int64 // messages sent (their seqs are 0..sent-1)
	acked    atomic.Int64 // "sent" ticks received
	rx       tracker      // the partner's messages, as received here
	window   chan struct{}
	evDone   chan struct{}
	lostErr  atomic.Pointer[error] // last disconnection error (of any type: an atomic.Value would panic)
	connects atomic.Int64          // sessions bound (the first login and each reconnect)
}

// tracker counts one sender's messages at the receiver. Only the
// receiving device's event loop touches it while traffic flows.
type tracker struct {
	seen      []bool
	maxSeq    int64
	unique    atomic.Int64
	dups      atomic.Int64
	reordered atomic.Int64
}

func (t *tracker) record(seq int64) {
	if seq < 0 || seq > 1<<31 {
		return
	}
	for int64(len(t.seen)) <= seq {
		t.seen = append(t.seen, make([]bool, max(len(t.seen), 1024))...)
	}
	if t.seen[seq] {
		t.dups.Add(1)
		return
	}
	t.seen[seq] = true
	t.unique.Add(1)
	if seq < t.maxSeq {
		t.reordered.Add(1)
	}
	t.maxSeq = max(t.maxSeq, seq)
}

// fleet is every device of a run and the shared measurements.
type fleet struct {
	cfg       *Config
	devs      []*device
	latency   Histogram
	delivered atomic.Int64
	acked     atomic.Int64
	pad       string
	closed    atomic.Bool // closed loop: receivers return window tokens
	// run tags this fleet's messages: a message left in a queue by an
	// earlier phase (or run) on the same accounts is not counted.
	run   string
	stale atomic.Int64 // messages of another run received
	group *groupTrack  // the groups scenario's counts, or nil
	muc   *mucTrack    // the groups scenario over XEP-0045: the joins, or nil
	gaps  gapMeter     // the upgrade scenario: longest time without a delivery
	// The upgrade scenario splits delivery latency: live deliveries (and
	// stream-management re-sends) versus messages delivered from the
	// offline queue (delay-stamped: queued while the recipient was away).
	liveLatency, queuedLatency Histogram
	resumed, fresh             atomic.Int64 // reconnections that resumed / logged in afresh
	// retries counts the failed connection attempts before reconnections
	// succeeded; maxAttempts is the most one reconnection took.
	retries, maxAttempts atomic.Int64
}

func newFleet(cfg *Config) *fleet {
	f := &fleet{cfg: cfg, pad: strings.Repeat("x", cfg.BodySize), run: rand.Text()[:6]}
	for i := range cfg.Devices {
		f.devs = append(f.devs, &device{idx: i, to: cfg.jid(i ^ 1), window: make(chan struct{}, cfg.Window)})
	}
	return f
}

// body is "run|from|seq|unixnano|" padded to BodySize.
func (f *fleet) body(from int, seq int64, now time.Time) string {
	b := f.run + "|" + strconv.Itoa(from) + "|" + strconv.FormatInt(seq, 10) + "|" + strconv.FormatInt(now.UnixNano(), 10) + "|"
	if n := f.cfg.BodySize - len(b); n > 0 {
		b += f.pad[:n]
	}
	return b
}

func parseBody(s string) (run string, from int, seq int64, sent time.Time, ok bool) {
	run, s, ok0 := strings.Cut(s, "|")
	a, rest, ok1 := strings.Cut(s, "|")
	b, rest, ok2 := strings.Cut(rest, "|")
	c, _, ok3 := strings.Cut(rest, "|")
	if !ok0 || !ok1 || !ok2 || !ok3 {
		return "", 0, 0, time.Time{}, false
	}
	from, err1 := strconv.Atoi(a)
	seq, err2 := strconv.ParseInt(b, 10, 64)
	ns, err3 := strconv.ParseInt(c, 10, 64)
	if err1 != nil || err2 != nil || err3 != nil {
		return "", 0, 0, time.Time{}, false
	}
	return run, from, seq, time.Unix(0, ns), true
}

// send sends the device's next message to its partner.
func (f *fleet) send(d *device, now time.Time) error {
	seq := d.sent.Add(1) - 1
	_, err := d.c.SendMessage(d.to, f.body(d.idx, seq, now))
	return err
}

// login connects devices idx (bounded in flight), optionally announcing
// availability, and records each login's latency in lat.
func (f *fleet) login(ctx context.Context, idx []int, available bool, lat *Histogram, progress func()) error {
	var firstErr error
	var mu sync.Mutex
	eachBounded(ctx, idx, f.cfg.LoginsInFlight, func(i int) {
		d := f.devs[i]
		start := time.Now()
		if err := f.connect(ctx, d, available); err != nil {
			mu.Lock()
			if firstErr == nil {
				firstErr = fmt.Errorf("device %d (%s): %w", d.idx, f.cfg.jid(d.idx), err)
			}
			mu.Unlock()
			return
		}
		lat.Record(time.Since(start))
		if progress != nil {
			progress()
		}
	})
	if firstErr == nil {
		firstErr = ctx.Err()
	}
	return firstErr
}

// eachBounded calls fn for each of items, at most workers at a time,
// until ctx ends, and returns when the calls have. The calls run on
// workers goroutines that take the items in turn: a goroutine per item
// would be created and grow its stack (a login's parser and SCRAM) for
// every login, which the generator's CPU per login counted.
func eachBounded(ctx context.Context, items []int, workers int, fn func(int)) {
	next := make(chan int)
	var wg sync.WaitGroup
	for range max(1, min(workers, len(items))) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				fn(i)
			}
		}()
	}
	for _, i := range items {
		if ctx.Err() != nil {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
}

func (f *fleet) connect(ctx context.Context, d *device, available bool) error {
	o := f.cfg.clientOptions(d.idx)
	o.Available = available // the presence goes with a pipelined login's last write
	c, err := client.Dial(ctx, o)
	if err != nil {
		return err
	}
	d.c = c
	d.evDone = make(chan struct{})
	go f.events(d)
	return nil
}

// events runs a device's event loop until its client closes.
func (f *fleet) events(d *device) {
	defer close(d.evDone)
	for e := range d.c.Events() {
		switch e := e.(type) {
		case *client.Message:
			if f.group == nil || !f.group.received(d, e) {
				f.received(d, e)
			}
		case *client.Presence:
			if f.muc != nil {
				f.muc.presence(d, e)
			}
		case *client.Sent:
			d.acked.Add(1)
			f.acked.Add(1)
		case *client.Connected:
			if d.connects.Add(1) > 1 {
				if e.Resumed {
					f.resumed.Add(1)
				} else {
					f.fresh.Add(1)
				}
				f.retries.Add(int64(max(e.Attempts-1, 0)))
				for a := int64(e.Attempts); ; {
					cur := f.maxAttempts.Load()
					if a <= cur || f.maxAttempts.CompareAndSwap(cur, a) {
						break
					}
				}
			}
		case *client.Disconnected:
			if e.Err != nil {
				err := e.Err
				d.lostErr.Store(&err)
			}
		}
	}
}

func (f *fleet) received(d *device, m *client.Message) {
	run, from, seq, sent, ok := parseBody(m.Body)
	if !ok || from != d.idx^1 {
		return
	}
	if run != f.run {
		f.stale.Add(1)
		return
	}
	now := time.Now()
	f.latency.Record(now.Sub(sent))
	if m.Delayed.IsZero() {
		f.liveLatency.Record(now.Sub(sent))
	} else {
		f.queuedLatency.Record(now.Sub(sent))
	}
	f.gaps.delivered(now)
	d.rx.record(seq)
	f.delivered.Add(1)
	if f.closed.Load() {
		sender := f.devs[from]
		select {
		case sender.window <- struct{}{}:
		default:
		}
	}
}

// close ends every connected device's session.
func (f *fleet) close() {
	var wg sync.WaitGroup
	for _, d := range f.devs {
		if d.c == nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = d.c.Close()
			<-d.evDone
		}()
	}
	wg.Wait()
}

// totals sums what was sent and what arrived.
type totals struct {
	sent, unique, dups, reordered int64
}

func (f *fleet) totals() totals {
	var t totals
	for _, d := range f.devs {
		t.sent += d.sent.Load()
		rx := &f.devs[d.idx^1].rx // d's messages are tracked at its partner
		t.unique += rx.unique.Load()
		t.dups += rx.dups.Load()
		t.reordered += rx.reordered.Load()
	}
	return t
}
