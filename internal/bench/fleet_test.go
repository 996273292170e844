package bench

import (
	"context"
	"runtime/metrics"
	"sync/atomic"
	"testing"
)

// goroutinesCreated is how many goroutines this process has created.
func goroutinesCreated(t *testing.T) uint64 {
	t.Helper()
	s := []metrics.Sample{{Name: "/sched/goroutines-created:goroutines"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		t.Skip("this runtime does not count the goroutines it creates")
	}
	return s[0].Value.Uint64()
}

// A login ramp's calls run on a fixed set of goroutines (the logins in
// flight), not on a goroutine per login, each created and grown afresh;
// every item is done once, and never more than workers at a time.
func TestEachBoundedRunsOnItsWorkersOnly(t *testing.T) {
	const items, workers = 2000, 10
	idx := make([]int, items)
	for i := range idx {
		idx[i] = i
	}
	var done [items]atomic.Int32
	var running, most atomic.Int32
	before := goroutinesCreated(t)
	eachBounded(context.Background(), idx, workers, func(i int) {
		n := running.Add(1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		done[i].Add(1)
		running.Add(-1)
	})
	created := goroutinesCreated(t) - before
	if created > 2*workers {
		t.Fatalf("%d goroutines created for %d items with %d workers, want about %d", created, items, workers, workers)
	}
	if most.Load() > workers {
		t.Fatalf("%d calls ran at once, want at most %d", most.Load(), workers)
	}
	for i := range done {
		if n := done[i].Load(); n != 1 {
			t.Fatalf("item %d done %d times", i, n)
		}
	}
}
