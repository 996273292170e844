package gcpace

import (
	"context"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// Config bounds the pacer. The zero value of a field means its default.
type Config struct {
	Min    int           // lowest GOGC (default 25)
	Max    int           // highest GOGC (default 100, Go's own default)
	Budget float64       // the collector's CPU share of one core to stay under (default 0.01)
	Every  time.Duration // how often to look (default 5s)
}

func (c Config) withDefaults() Config {
	if c.Min <= 0 {
		c.Min = 25
	}
	if c.Max < c.Min {
		c.Max = max(100, c.Min)
	}
	if c.Budget <= 0 {
		c.Budget = 0.01
	}
	if c.Every <= 0 {
		c.Every = 5 * time.Second
	}
	return c
}

// Next is the GOGC to use after a window in which the collector took
// gcShare of one core at GOGC percent: double over the budget, half under
// a quarter of it (a band in between keeps it from see-sawing).
func (c Config) Next(percent int, gcShare float64) int {
	c = c.withDefaults()
	switch {
	case gcShare > c.Budget:
		percent *= 2
	case gcShare < c.Budget/4:
		percent /= 2
	}
	return min(c.Max, max(c.Min, percent))
}

// Pacer adjusts GOGC periodically; see the package documentation.
type Pacer struct {
	cfg     Config
	percent int
	onSet   func(percent int)
	sample  []metrics.Sample
}

// gcCPU is the collector's CPU time: marking (dedicated, fractional, idle
// workers and assists) and pauses.
const gcCPU = "/cpu/classes/gc/total:cpu-seconds"

// New returns a pacer starting at cfg.Max. onSet, if not nil, is told
// each GOGC the pacer sets (for a metric).
func New(cfg Config, onSet func(percent int)) *Pacer {
	cfg = cfg.withDefaults()
	return &Pacer{cfg: cfg, percent: cfg.Max, onSet: onSet, sample: []metrics.Sample{{Name: gcCPU}}}
}

// Run sets GOGC every cfg.Every until ctx ends, then gives the runtime
// back the GOGC it had.
func (p *Pacer) Run(ctx context.Context) {
	before := debug.SetGCPercent(p.percent)
	defer debug.SetGCPercent(before)
	p.report()
	t := time.NewTicker(p.cfg.Every)
	defer t.Stop()
	lastCPU, lastAt := p.gcSeconds(), time.Now()
	settling := false
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			cpu := p.gcSeconds()
			share := (cpu - lastCPU) / now.Sub(lastAt).Seconds()
			lastCPU, lastAt = cpu, now
			if settling {
				// Lowering GOGC starts a collection at once: that window
				// says what the change cost, not what collection costs.
				settling = false
				continue
			}
			if next := p.cfg.Next(p.percent, share); next != p.percent {
				lower := next < p.percent
				p.percent = next
				debug.SetGCPercent(next)
				if lower {
					// Idle: collect now and give the freed pages back to
					// the OS at once, not at the background scavenger's
					// pace.
					debug.FreeOSMemory()
				}
				p.report()
				settling = true
			}
		}
	}
}

func (p *Pacer) report() {
	if p.onSet != nil {
		p.onSet(p.percent)
	}
}

func (p *Pacer) gcSeconds() float64 {
	metrics.Read(p.sample)
	if p.sample[0].Value.Kind() != metrics.KindFloat64 {
		return 0
	}
	return p.sample[0].Value.Float64()
}
