package bench

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestHistogramQuantilesAreWithinTwoPercent(t *testing.T) {
	var h Histogram
	r := rand.New(rand.NewPCG(1, 2))
	vals := make([]time.Duration, 100000)
	for i := range vals {
		// log-uniform from 1 µs to 10 s
		vals[i] = time.Duration(float64(time.Microsecond) * math.Pow(10, r.Float64()*7))
		h.Record(vals[i])
	}
	slices.Sort(vals)
	for _, q := range []float64{0.5, 0.9, 0.99, 0.999} {
		want := vals[int(q*float64(len(vals)))-1]
		got := h.Quantile(q)
		if diff := float64(got-want) / float64(want); diff > 0.02 || diff < -0.02 {
			t.Errorf("q%.3f: got %v, want %v (%.1f%%)", q, got, want, diff*100)
		}
	}
	if h.Count() != uint64(len(vals)) || h.Max() != vals[len(vals)-1].Truncate(time.Microsecond) {
		t.Errorf("count %d max %v", h.Count(), h.Max())
	}
}

func TestHistogramBucketsAreMonotonic(t *testing.T) {
	prev := -1
	for us := int64(0); us < 1<<30; us = us*5/4 + 1 {
		b := bucketOf(us)
		if b < prev || lowOf(b) > us || lowOf(b+1) <= us {
			t.Fatalf("value %d: bucket %d [%d,%d)", us, b, lowOf(b), lowOf(b+1))
		}
		prev = b
	}
}

func BenchmarkHistogramRecord(b *testing.B) {
	var h Histogram
	for i := 0; b.Loop(); i++ {
		h.Record(time.Duration(i%100000) * time.Microsecond)
	}
}
