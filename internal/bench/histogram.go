package bench

import (
	"math/bits"
	"sync/atomic"
	"time"
)

// Histogram records durations in log-linear buckets (HDR style): 64
// sub-buckets per power of two, so every recorded value is kept within
// 1.6% of its true value, from 1 µs to over an hour. Recording is lock-free
// and safe for concurrent use.
type Histogram struct {
	counts [histBuckets]atomic.Uint64
	total  atomic.Uint64
	max    atomic.Int64
}

const (
	subBits     = 6 // 64 sub-buckets per power of two
	subCount    = 1 << subBits
	histBuckets = (42 - subBits + 1) * subCount // up to 2^42 µs
)

func bucketOf(us int64) int {
	if us < subCount {
		if us < 0 {
			return 0
		}
		return int(us)
	}
	exp := bits.Len64(uint64(us)) - 1 - subBits // >= 0
	idx := (exp+1)*subCount + int(uint64(us)>>uint(exp)) - subCount
	return min(idx, histBuckets-1)
}

// lowOf is the smallest value (µs) of bucket i.
func lowOf(i int) int64 {
	if i < subCount {
		return int64(i)
	}
	exp := i/subCount - 1
	return int64(i%subCount+subCount) << uint(exp)
}

// Record adds one observation.
func (h *Histogram) Record(d time.Duration) {
	us := d.Microseconds()
	h.counts[bucketOf(us)].Add(1)
	h.total.Add(1)
	for {
		m := h.max.Load()
		if us <= m || h.max.CompareAndSwap(m, us) {
			return
		}
	}
}

// Count is the number of observations.
func (h *Histogram) Count() uint64 { return h.total.Load() }

// Max is the largest observation.
func (h *Histogram) Max() time.Duration { return time.Duration(h.max.Load()) * time.Microsecond }

// Quantile returns the value below which a fraction q of the observations
// fall (0 when empty).
func (h *Histogram) Quantile(q float64) time.Duration {
	n := h.total.Load()
	if n == 0 {
		return 0
	}
	rank := uint64(q*float64(n) + 0.5)
	rank = max(rank, 1)
	var seen uint64
	for i := range h.counts {
		seen += h.counts[i].Load()
		if seen >= rank {
			// the bucket's middle, capped by the true maximum
			lo, hi := lowOf(i), lowOf(i+1)
			mid := min(lo+(hi-lo)/2, h.max.Load())
			return time.Duration(mid) * time.Microsecond
		}
	}
	return h.Max()
}

// Reset forgets every observation.
func (h *Histogram) Reset() {
	for i := range h.counts {
		h.counts[i].Store(0)
	}
	h.total.Store(0)
	h.max.Store(0)
}
