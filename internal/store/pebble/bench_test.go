package pebble

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"path/filepath"
	"testing"

	"github.com/parley-im/parley/internal/store"
	"github.com/parley-im/parley/internal/store/storetest"
)

// BenchmarkStore runs the shared benchmarks on disk, as in production.
func BenchmarkStore(b *testing.B) {
	storetest.Bench(b, func(b *testing.B) store.Store {
		return openT(b, filepath.Join(b.TempDir(), "db"), syncLogData)
	})
}

// BenchmarkSyncMode compares the ways of making an enqueue durable while
// keeping the ordering contract (doc.go, "Group commit"), with 64 writers.
func BenchmarkSyncMode(b *testing.B) {
	for _, m := range []struct {
		name string
		mode syncMode
	}{{"LogData", syncLogData}, {"NoSyncWait", syncNoWait}, {"InLock", syncInLock}} {
		open := func(b *testing.B) store.Store { return openT(b, filepath.Join(b.TempDir(), "db"), m.mode) }
		b.Run(m.name+"/EnqueueParallel", func(b *testing.B) { storetest.BenchEnqueueParallel(b, open) })
		b.Run(m.name+"/EnqueueAck", func(b *testing.B) { storetest.BenchEnqueueAck(b, open) })
	}
}

// BenchmarkRawPebble is the floor under BenchmarkSyncMode: 64 writers doing
// synced sets straight on the DB, as in anchors.md.
func BenchmarkRawPebble(b *testing.B) {
	s := openT(b, filepath.Join(b.TempDir(), "db"), syncLogData)
	val := make([]byte, 200)
	runWriters(b, 64, func(w, i int) error {
		return s.db.Set(queueKey(queuePrefix("raw"), uint64(i)), val, pebble.Sync)
	})
}

// runWriters spreads b.N calls of op over n goroutines and reports ops/s.
func runWriters(b *testing.B, n int, op func(w, i int) error) {
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, n)
	b.ResetTimer()
	start := time.Now()
	for w := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1)) - 1; i < b.N; i = int(next.Add(1)) - 1 {
				if err := op(w, i); err != nil {
					errs <- fmt.Errorf("writer %d: %w", w, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "ops/s")
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
}
