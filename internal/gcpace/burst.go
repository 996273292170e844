package gcpace

import (
	"runtime/debug"
	"time"
)

// Burst is the GOGC to use at once after a quick look in which the
// collector took gcShare of one core over cycles completed collections at
// GOGC percent: the ceiling when that share is BurstShare or more over at
// least two collections, percent otherwise. A burst of work (a login
// storm, offline messages stored by the thousand, a group's fan-out)
// collects every few milliseconds at a low GOGC; the horizon's average
// (Next) takes many seconds to notice it, and a server that stored
// 50,000 offline messages at GOGC 100 made 16 collections where 800 makes
// one (docs/benchmarks.md). One collection alone, however costly (an
// idle server's heap), never raises it.
func (c Config) Burst(percent int, gcShare float64, cycles uint64, liveHeap uint64) int {
	c = c.withDefaults()
	if gcShare < c.BurstShare || cycles < 2 {
		return percent
	}
	return max(percent, c.ceiling(liveHeap))
}

// burst raises GOGC at once (Burst) when the quick look from last to r
// saw a burst, and reports whether it did. The horizon's history is
// dropped then, not rescaled: a jump of up to 32 times would turn a
// quiet minute into evidence for lowering GOGC again at the next look,
// in the middle of the burst.
func (p *Pacer) burst(last, r reading) bool {
	share, length, ok := quickShare(last, r)
	if !ok {
		return false
	}
	next := p.cfg.Burst(p.percent, share, r.cycles-last.cycles, r.liveHeap)
	if next <= p.percent {
		return false
	}
	if p.cfg.Log != nil {
		p.cfg.Log.Debug("gc pacer burst", "gc_cpu_ms", r.gcSecondsSince(last)*1000, "ms", length.Milliseconds(),
			"gc_cycles", r.cycles-last.cycles, "live_heap", r.liveHeap, "gogc", p.percent, "next", next)
	}
	if p.burstFrom == 0 {
		p.burstFrom = p.percent
	}
	p.quiet = 0
	p.windows = p.windows[:0]
	p.set(next)
	return true
}

// burstOver reports whether the burst under way, if any, is over: the
// quick looks found the collector under a quarter of BurstShare for
// BurstQuiet, at the GOGC before the burst (the share at the raised one
// scaled by the ratio of the two, as rescale does: a burst still going
// costs a fraction at GOGC 800 of what it did at 25, and read as is it
// would end at once and start again at the next look).
func (p *Pacer) burstOver(last, r reading) bool {
	if p.burstFrom == 0 {
		return false
	}
	share, length, ok := quickShare(last, r)
	if !ok {
		return false
	}
	if share*float64(p.percent)/float64(p.burstFrom) >= p.cfg.BurstShare/4 {
		p.quiet = 0
		return false
	}
	p.quiet += length
	return p.quiet >= p.cfg.BurstQuiet
}

// endBurst gives GOGC back the value it had before the burst, collects
// and returns the burst's garbage to the OS at once (as decide does when
// it lowers GOGC for an idle server), and starts a fresh horizon: the
// burst's windows, rescaled to the lower GOGC, would read as load. It
// returns the reading the next window starts from. Without it the
// burst's GOGC held a heap of up to Headroom above the live one for a
// minute: measured 2 s after a login ramp of 1,000 devices over TLS,
// 84 KiB per device instead of 23. Going back to the lower GOGC without
// the forced return left 78 KiB: the runtime's scavenger returns the
// burst's pages far more slowly than that (9 KiB with it).
func (p *Pacer) endBurst() reading {
	if p.cfg.Log != nil {
		p.cfg.Log.Debug("gc pacer burst over", "quiet_ms", p.quiet.Milliseconds(), "gogc", p.percent, "next", p.burstFrom)
	}
	next := p.burstFrom
	p.burstFrom, p.quiet = 0, 0
	p.windows = p.windows[:0]
	p.set(next)
	debug.FreeOSMemory()
	p.released = time.Now()
	return p.read(p.released)
}

// quickShare is the collector's CPU share of one core from last to r,
// and how long that was; ok is false for a look of no length.
func quickShare(last, r reading) (share float64, length time.Duration, ok bool) {
	length = r.at.Sub(last.at)
	if length <= 0 {
		return 0, 0, false
	}
	return r.gcSecondsSince(last) / length.Seconds(), length, true
}

// set makes percent the GOGC.
func (p *Pacer) set(percent int) {
	p.percent = percent
	debug.SetGCPercent(percent)
	p.report()
}
