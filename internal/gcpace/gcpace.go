package gcpace

import (
	"context"
	"log/slog"
	"runtime/debug"
	"runtime/metrics"
	"sync/atomic"
	"time"

	"github.com/parley-im/parley/internal/proccpu"
)

// Config bounds the pacer. The zero value of a field means its default.
type Config struct {
	Min int // lowest GOGC (default 25)
	// Max is the highest GOGC (default 100, Go's own default) but for a
	// small live heap: under load GOGC may go past Max as long as the
	// heap it lets grow above the live heap stays under Headroom, up to
	// maxPercent (see ceiling). The pacer starts at Max.
	Max int
	// Headroom is how much heap above the live heap a busy server may
	// keep for garbage (default 64 MiB). Serving 1,024 group members at
	// 5 posts/s, the server had 21 MB of heap in use, and allocation and
	// collection took about a fifth of its CPU at GOGC 100
	// (docs/benchmarks.md, "Per-copy costs of a group post").
	Headroom uint64
	Budget   float64       // the collector's CPU share of one core to stay under (default 0.01)
	Every    time.Duration // how often to look (default 5s)
	Horizon  time.Duration // how far back the share is averaged (default 60s, at least Every)
	Log      *slog.Logger  // each window's share and decision, at debug level (nil: none)
	// Quick is how often the pacer looks for a burst between two looks
	// (default 250ms, at most Every), and BurstShare the collector's CPU
	// share of one core since the last quick look that raises GOGC to its
	// ceiling at once (default 0.1; see Burst). A burst is over once the
	// quick looks found the heap allocating less than one collection a
	// second at the GOGC before it, for BurstQuiet (default 1s): GOGC
	// goes back to what it was (burstOver, endBurst).
	Quick      time.Duration
	BurstShare float64
	BurstQuiet time.Duration
	// ReleaseEvery is the least time between two returns of free heap to
	// the OS while the server is quiet (default 60s; see releaseIfQuiet).
	ReleaseEvery time.Duration
}

func (c Config) withDefaults() Config {
	if c.Min <= 0 {
		c.Min = 25
	}
	if c.Max < c.Min {
		c.Max = max(100, c.Min)
	}
	if c.Headroom == 0 {
		c.Headroom = 64 << 20
	}
	if c.Budget <= 0 {
		c.Budget = 0.01
	}
	if c.Every <= 0 {
		c.Every = 5 * time.Second
	}
	if c.Quick <= 0 {
		c.Quick = 250 * time.Millisecond
	}
	c.Quick = min(c.Quick, c.Every)
	if c.BurstShare <= 0 {
		c.BurstShare = 0.1
	}
	if c.BurstQuiet <= 0 {
		c.BurstQuiet = time.Second
	}
	if c.Horizon <= 0 {
		c.Horizon = 60 * time.Second
	}
	c.Horizon = max(c.Horizon, c.Every)
	if c.ReleaseEvery <= 0 {
		c.ReleaseEvery = 60 * time.Second
	}
	return c
}

// maxPercent bounds GOGC however small the live heap: past it, a
// collection's fixed costs (the goroutines' stacks, the globals) are
// already rare enough.
const maxPercent = 800

// Next is the GOGC to use after a horizon in which the collector took
// gcShare of one core at GOGC percent, with liveHeap bytes live after the
// last collection: double over the budget, half under a quarter of it (a
// band in between keeps it from see-sawing), within [Min, ceiling].
func (c Config) Next(percent int, gcShare float64, liveHeap uint64) int {
	c = c.withDefaults()
	switch {
	case gcShare > c.Budget:
		percent *= 2
	case gcShare < c.Budget/4:
		percent /= 2
	}
	return min(c.ceiling(liveHeap), max(c.Min, percent))
}

// ceiling is the highest GOGC for a live heap of liveHeap bytes: Max, or
// more while the heap it lets grow above the live one stays under
// Headroom (at most maxPercent). A live heap that grows brings it down.
func (c Config) ceiling(liveHeap uint64) int {
	if liveHeap == 0 {
		return c.Max
	}
	return max(c.Max, int(min(maxPercent, 100*c.Headroom/liveHeap)))
}

// Pacer adjusts GOGC periodically; see the package documentation.
type Pacer struct {
	cfg     Config
	percent int
	onSet   func(percent int)
	sample  []metrics.Sample
	windows []window // the last Horizon's windows, oldest first
	// burstFrom is the GOGC before the burst under way (0: none), and
	// quiet how long the quick looks since found the heap allocating
	// little enough for it to be over (burst.go).
	burstFrom int
	quiet     time.Duration
	// released is when free heap was last returned to the OS (at a
	// lowering of GOGC or by releaseIfQuiet); releases counts the latter.
	released time.Time
	releases atomic.Int64
}

// window is the collector's CPU time in one interval between two looks,
// as it would have been at the current GOGC (see rescale).
type window struct {
	end       time.Time
	length    time.Duration
	gcSeconds float64
}

// What the pacer reads: the collector's CPU time (marking by dedicated,
// fractional and idle workers and assists, and pauses) and its idle
// workers' share of it, the number of completed cycles and the live heap
// (the last two only for the log).
func readings() []string {
	return []string{
		"/cpu/classes/gc/total:cpu-seconds",
		"/gc/cycles/total:gc-cycles",
		"/gc/heap/live:bytes",
		"/cpu/classes/gc/mark/idle:cpu-seconds",
		"/memory/classes/heap/free:bytes",
		"/gc/heap/allocs:bytes",
	}
}

// competingGCSeconds is the collector's CPU time less its idle mark
// workers': those run only on a processor that has nothing else to do, so
// their time is not taken from the server's work. On an idle server they
// do most of the marking (a ping round's collection of a 40 MB heap read
// 23-80 ms, most of it idle marking), which held GOGC at 50 where 25 would
// have cost the server nothing (docs/benchmarks.md); under load there is no
// idle processor and the two are the same.
func competingGCSeconds(total, idleMark float64) float64 { return max(total-idleMark, 0) }

// reading is one look at the runtime's counters.
type reading struct {
	at          time.Time
	gcSeconds   float64
	cycles      uint64
	liveHeap    uint64
	procSeconds float64 // the process's CPU time (user and system)
	procKnown   bool
	freeHeap    uint64 // heap pages free and not yet returned to the OS
	allocated   uint64 // bytes allocated on the heap since the process started
}

// gcSecondsSince is the collector's CPU time between last and r, at most
// the CPU time the whole process used meanwhile. The runtime's figure is
// an estimate from the time its workers held a processor: on a shared
// core, time the OS gave to other processes counts too (a 40 MB heap's
// collection read 50-380 ms at load 8-11, 23-80 ms on the quiet machine),
// and the process's own CPU time bounds it.
func (r reading) gcSecondsSince(last reading) float64 {
	gc := r.gcSeconds - last.gcSeconds
	if r.procKnown && last.procKnown {
		gc = min(gc, r.procSeconds-last.procSeconds)
	}
	return max(gc, 0)
}

// New returns a pacer starting at cfg.Max. onSet, if not nil, is told
// each GOGC the pacer sets (for a metric).
func New(cfg Config, onSet func(percent int)) *Pacer {
	cfg = cfg.withDefaults()
	names := readings()
	sample := make([]metrics.Sample, len(names))
	for i, name := range names {
		sample[i].Name = name
	}
	return &Pacer{cfg: cfg, percent: cfg.Max, onSet: onSet, sample: sample}
}

// Run sets GOGC every cfg.Every, and at a burst between two looks (a
// quick look every cfg.Quick: Every is taken at the first quick look at
// or past it), until ctx ends, then gives the runtime back the GOGC it
// had.
func (p *Pacer) Run(ctx context.Context) {
	before := debug.SetGCPercent(p.percent)
	defer debug.SetGCPercent(before)
	p.report()
	t := time.NewTicker(p.cfg.Quick)
	defer t.Stop()
	last := p.read(time.Now()) // the current window's start
	quick := last              // the last quick look
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			r := p.read(time.Now()) // not the tick's time: a busy server runs the pacer late
			switch {
			case p.burst(quick, r):
				last, quick = r, r // a fresh horizon starts (burst)
			case p.burstOver(quick, r):
				last = p.endBurst(r)
				quick = last
			case r.at.Sub(last.at) >= p.cfg.Every-p.cfg.Quick/2: // the ticker's jitter
				p.record(last, r)
				last = p.decide(last, r) // r, or a reading after a collection decide made
				quick = last
			default:
				quick = r
			}
		}
	}
}

// record adds the window from last to r and forgets the windows that
// ended more than a horizon ago.
func (p *Pacer) record(last, r reading) {
	p.windows = append(p.windows, window{end: r.at, length: r.at.Sub(last.at), gcSeconds: r.gcSecondsSince(last)})
	cut := 0
	for cut < len(p.windows) && r.at.Sub(p.windows[cut].end) >= p.cfg.Horizon {
		cut++
	}
	p.windows = p.windows[cut:]
}

// horizonShare is the collector's CPU share of one core over the windows
// kept, and whether they span a whole horizon. Over less than a horizon
// (just started) the share is taken over the horizon anyway, as if the
// rest had cost nothing: enough to raise GOGC under load, never to lower
// it on too short an evidence.
//
// One collection of an idle server's heap (about 40 MB at 15,000 devices)
// takes 25-80 ms of CPU: more than 1% of a 5 s window, so a pacer that
// decided on each window alone doubled GOGC at every ping round that
// happened to fall into one (docs/benchmarks.md).
func (p *Pacer) horizonShare() (share float64, whole bool) {
	var gc float64
	var span time.Duration
	for _, w := range p.windows {
		gc += w.gcSeconds
		span += w.length
	}
	whole = span >= p.cfg.Horizon-p.cfg.Every/2 // the ticker's jitter
	return gc / max(span, p.cfg.Horizon).Seconds(), whole
}

// decide applies Next to the horizon's share and returns the reading the
// next window starts from.
func (p *Pacer) decide(last, r reading) reading {
	share, whole := p.horizonShare()
	if whole {
		p.burstFrom = 0 // a burst that lasted a whole horizon is load: the horizon decides
	}
	next := p.cfg.Next(p.percent, share, r.liveHeap)
	if next < p.percent && !whole {
		// Too short an evidence to lower GOGC, unless the live heap grew
		// past what the current one's headroom allows.
		next = min(p.percent, p.cfg.ceiling(r.liveHeap))
	}
	p.logWindow(last, r, share, next)
	if next == p.percent {
		return p.releaseIfQuiet(r, share, whole)
	}
	// Lowered for quiet only on a whole horizon: during a burst (a fresh
	// horizon) the share is its few seconds over a whole minute, but a
	// lowering then is the ceiling's, under load.
	idle := whole && next < p.percent && share < p.cfg.Budget/4
	p.rescale(next)
	p.set(next)
	if p.burstFrom != 0 && p.percent <= p.burstFrom {
		p.burstFrom, p.quiet = 0, 0 // the ceiling came down past the GOGC before the burst: nothing to give back
	}
	if !idle { // raised, or brought down to the ceiling under load
		return r
	}
	// Idle: collect now and give the freed pages back to the OS at once,
	// not at the background scavenger's pace. That collection is the
	// change's cost, not what collection costs at the new GOGC: the next
	// window starts after it.
	return p.release()
}

// release collects now and returns the free heap to the OS
// (debug.FreeOSMemory), and returns the reading taken after it: the
// next window starts there, so that the forced collection is not
// counted as what collecting costs.
func (p *Pacer) release() reading {
	debug.FreeOSMemory()
	p.released = time.Now()
	return p.read(p.released)
}

// releaseIfQuiet returns the free heap to the OS (debug.FreeOSMemory)
// when the server is quiet (a whole horizon under a quarter of the
// budget, the share at which GOGC is lowered), the heap holds free pages
// of more than an eighth of the live heap, and nothing was released for
// ReleaseEvery. It returns the reading the next window starts from.
//
// A GOGC already at Min is never lowered again, so without this the free
// pages of a burst that ended (a login ramp: its handshakes' garbage, the
// stacks of connections that lingered) stay mapped: the runtime's
// scavenger keeps everything up to about 1.1 times the heap goal, and
// returns the rest only slowly. Under load the share is over the band and
// nothing happens. Its cost is one forced collection and the returning
// of the pages, at most once per ReleaseEvery; like a lowering's, it is
// not counted in the next window (it is logged at debug level).
func (p *Pacer) releaseIfQuiet(r reading, share float64, whole bool) reading {
	quiet := whole && share < p.cfg.Budget/4
	if !quiet || r.freeHeap <= r.liveHeap/8 || r.at.Sub(p.released) < p.cfg.ReleaseEvery {
		return r
	}
	after := p.release()
	p.releases.Add(1)
	if p.cfg.Log != nil {
		p.cfg.Log.Debug("gc pacer released free heap", "free_before", r.freeHeap, "free_after", after.freeHeap,
			"live_heap", after.liveHeap, "gc_cpu_ms", (after.gcSeconds-r.gcSeconds)*1000,
			"process_cpu_ms", (after.procSeconds-r.procSeconds)*1000)
	}
	return after
}

// Releases is how many times the pacer returned free heap to the OS on a
// quiet server (releaseIfQuiet), not counting those at a lowering of GOGC.
func (p *Pacer) Releases() int64 { return p.releases.Load() }

// rescale turns the windows kept into what they would have cost at GOGC
// next: the collector's CPU per second is about the allocation rate times
// the marking cost per byte divided by GOGC (package documentation), so
// the horizon's history stays usable across a change instead of being
// thrown away (which would hold every next step back by a whole horizon).
func (p *Pacer) rescale(next int) {
	f := float64(p.percent) / float64(next)
	for i := range p.windows {
		p.windows[i].gcSeconds *= f
	}
}

func (p *Pacer) logWindow(last, r reading, share float64, next int) {
	if p.cfg.Log == nil {
		return
	}
	p.cfg.Log.Debug("gc pacer window", "gc_cpu_ms", (r.gcSeconds-last.gcSeconds)*1000,
		"process_cpu_ms", (r.procSeconds-last.procSeconds)*1000, "counted_ms", r.gcSecondsSince(last)*1000,
		"gc_cycles", r.cycles-last.cycles, "live_heap", r.liveHeap,
		"horizon_share", share, "gogc", p.percent, "next", next)
}

func (p *Pacer) report() {
	if p.onSet != nil {
		p.onSet(p.percent)
	}
}

func (p *Pacer) read(now time.Time) reading {
	metrics.Read(p.sample)
	r := reading{at: now}
	var cpu time.Duration
	cpu, r.procKnown = proccpu.Self()
	r.procSeconds = cpu.Seconds()
	if v, idle := p.sample[0].Value, p.sample[3].Value; v.Kind() == metrics.KindFloat64 && idle.Kind() == metrics.KindFloat64 {
		r.gcSeconds = competingGCSeconds(v.Float64(), idle.Float64())
	}
	if v := p.sample[1].Value; v.Kind() == metrics.KindUint64 {
		r.cycles = v.Uint64()
	}
	if v := p.sample[2].Value; v.Kind() == metrics.KindUint64 {
		r.liveHeap = v.Uint64()
	}
	if v := p.sample[4].Value; v.Kind() == metrics.KindUint64 {
		r.freeHeap = v.Uint64()
	}
	if v := p.sample[5].Value; v.Kind() == metrics.KindUint64 {
		r.allocated = v.Uint64()
	}
	return r
}
