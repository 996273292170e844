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

// burstOver reports whether the burst under way, if any, is over: for
// BurstQuiet, the quick looks found the heap allocating less than would
// start one collection a second at the GOGC before the burst. Not the
// collector's CPU: the runtime counts it when a collection ends, and at
// the burst's GOGC a burst may go a second or more without one (the
// 50,000 offline messages made one in all), which read as an idle second
// and ended bursts still going, to start them again at the next look.
func (p *Pacer) burstOver(last, r reading) bool {
	if p.burstFrom == 0 {
		return false
	}
	length := r.at.Sub(last.at)
	if length <= 0 {
		return false
	}
	perCollection := float64(max(r.liveHeap, minHeapGoal)) * float64(p.burstFrom) / 100
	if float64(r.allocated-last.allocated)/length.Seconds() >= perCollection {
		p.quiet = 0
		return false
	}
	p.quiet += length
	return p.quiet >= p.cfg.BurstQuiet
}

// minHeapGoal is the runtime's smallest heap goal (4 MiB): a live heap
// smaller than that still collects at most once per that much allocated.
const minHeapGoal = 4 << 20

// endBurst gives GOGC back the value it had before the burst (or the
// ceiling for today's live heap, if lower) and starts a fresh horizon
// (the burst's windows, rescaled to the lower GOGC, would read as load).
// It then collects the burst's garbage and returns the free pages to the
// OS at once, as decide does when it lowers GOGC for an idle server: one
// collection per burst, where a burst was at least two collections at
// the GOGC before it (Burst) and a second's quiet after. It returns the
// reading the next window starts from.
//
// Without it the burst's GOGC held a heap of up to Headroom above the
// live one for a minute: measured 2 s after a login ramp of 1,000
// devices over TLS, 84 KiB per device instead of 23. Going back to the
// lower GOGC without the forced return left 78 KiB: the runtime's
// scavenger returns the burst's pages far more slowly than that (9 KiB
// with it).
func (p *Pacer) endBurst(r reading) reading {
	next := min(p.burstFrom, p.cfg.ceiling(r.liveHeap))
	if p.cfg.Log != nil {
		p.cfg.Log.Debug("gc pacer burst over", "quiet_ms", p.quiet.Milliseconds(), "gogc", p.percent, "next", next)
	}
	p.burstFrom, p.quiet = 0, 0
	p.windows = p.windows[:0]
	if next >= p.percent {
		return r
	}
	p.set(next)
	return p.release()
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
