package gcpace

import (
	"context"
	"runtime"
	"runtime/debug"
	"sync/atomic"
	"testing"
	"time"
)

// TestNextStaysInBoundsAndBand: over the budget GOGC doubles, under a
// quarter of it halves, in between it stays, never leaving [Min, Max].
func TestNextStaysInBoundsAndBand(t *testing.T) {
	c := Config{Min: 25, Max: 100, Budget: 0.01}
	cases := []struct {
		percent int
		share   float64
		want    int
	}{
		{100, 0, 50}, {50, 0.001, 25}, {25, 0, 25}, // idle: down to Min
		{25, 0.02, 50}, {50, 0.05, 100}, {100, 0.5, 100}, // busy: up to Max
		{50, 0.005, 50}, {50, 0.0025, 50}, {50, 0.01, 50}, // in the band: stays
	}
	for _, tc := range cases {
		if got := c.Next(tc.percent, tc.share); got != tc.want {
			t.Errorf("Next(%d, %v) = %d, want %d", tc.percent, tc.share, got, tc.want)
		}
	}
	if got := (Config{}).Next(100, 0); got != 50 {
		t.Errorf("defaults: Next(100, 0) = %d, want 50", got)
	}
}

// TestPacerLowersGOGCWhileIdleAndRaisesItUnderAllocation runs a real
// pacer in this process: with nothing allocating, GOGC goes to Min; with a
// goroutine allocating as fast as it can (the collector then takes far
// more than the budget), it goes back up to Max. On Run's return GOGC is
// what it was.
func TestPacerLowersGOGCWhileIdleAndRaisesItUnderAllocation(t *testing.T) {
	before := debug.SetGCPercent(100)
	debug.SetGCPercent(before)
	var current atomic.Int32
	p := New(Config{Min: 25, Max: 100, Budget: 0.01, Every: 50 * time.Millisecond}, func(v int) { current.Store(int32(v)) })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { p.Run(ctx); close(done) }()
	waitFor(t, "GOGC down to 25 while idle", func() bool { return current.Load() == 25 })

	stop := make(chan struct{})
	go churn(stop)
	waitFor(t, "GOGC back up to 100 under allocation", func() bool { return current.Load() == 100 })
	close(stop)
	cancel()
	<-done
	if got := debug.SetGCPercent(before); got != before {
		t.Errorf("GOGC after Run = %d, want %d", got, before)
	}
}

// churn allocates until stop closes, keeping a live heap for the
// collector to mark.
func churn(stop <-chan struct{}) {
	keep := make([][]byte, 4096)
	for i := 0; ; i++ {
		select {
		case <-stop:
			return
		default:
		}
		keep[i%len(keep)] = make([]byte, 1024)
		if i%1024 == 0 {
			runtime.Gosched()
		}
	}
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if ok() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}
