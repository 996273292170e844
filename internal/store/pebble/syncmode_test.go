package pebble

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/parley-im/parley/internal/proccpu"
)

// TestCompareSyncModes measures durable enqueues/s from 64 writers under
// each syncMode, interleaving short rounds so that the (noisy) disk affects
// every mode alike, and logs the median of each. It backs the choice in
// doc.go. Run with PARLEY_SYNCMODE_COMPARE=1 go test -run CompareSyncModes -v.
func TestCompareSyncModes(t *testing.T) {
	if os.Getenv("PARLEY_SYNCMODE_COMPARE") == "" {
		t.Skip("set PARLEY_SYNCMODE_COMPARE=1 to run")
	}
	const rounds, writers, dur = 5, 64, time.Second
	type variant struct {
		name string
		run  func(t *testing.T, dir string) result
	}
	// enq: writers enqueue to keys distinct keys (writer w to key w%keys).
	enq := func(mode syncMode, keys int) func(t *testing.T, dir string) result {
		return func(t *testing.T, dir string) result {
			s := openT(t, dir, mode)
			defer s.Close()
			return rate(writers, dur, func(w int) error {
				_, err := s.Enqueue(context.Background(), fmt.Sprintf("user%d@example.org", w%keys), make([]byte, 200))
				return err
			})
		}
	}
	variants := []variant{
		{"NoSyncWait", enq(syncNoWait, writers)},
		{"InLock", enq(syncInLock, writers)},
		{"LogData", enq(syncLogData, writers)},
		{"NoSyncWait/1key", enq(syncNoWait, 1)},
		{"InLock/1key", enq(syncInLock, 1)},
		{"LogData/1key", enq(syncLogData, 1)},
		{"RawPebbleSet", func(t *testing.T, dir string) result {
			s := openT(t, dir, syncLogData)
			defer s.Close()
			var n atomic.Uint64
			return rate(writers, dur, func(int) error {
				return s.db.Set(queueKey(queuePrefix("raw"), n.Add(1)), make([]byte, 200), pebble.Sync)
			})
		}},
		{"OneWriter", func(t *testing.T, dir string) result {
			s := openT(t, dir, syncLogData)
			defer s.Close()
			return rate(1, dur, func(int) error {
				_, err := s.Enqueue(context.Background(), "one@example.org", make([]byte, 200))
				return err
			})
		}},
	}
	results := make(map[string][]result)
	for r := range rounds {
		for i := range variants {
			v := variants[(i+r)%len(variants)]
			results[v.name] = append(results[v.name], v.run(t, filepath.Join(t.TempDir(), "db")))
		}
	}
	for _, v := range variants {
		rs := results[v.name]
		slices.SortFunc(rs, func(a, b result) int { return cmp.Compare(a.perSec, b.perSec) })
		cpu := make([]float64, len(rs))
		for i, r := range rs {
			cpu[i] = r.cpuPerOp
		}
		slices.Sort(cpu)
		t.Logf("%-16s median %7.0f/s  (min %7.0f, max %7.0f)  CPU %5.1f us/op",
			v.name, rs[len(rs)/2].perSec, rs[0].perSec, rs[len(rs)-1].perSec, cpu[len(cpu)/2])
	}
}

type result struct{ perSec, cpuPerOp float64 }

// rate runs op from n goroutines for d and returns completed ops per second
// and process CPU (both cores, background work included) per op in us.
func rate(n int, d time.Duration, op func(w int) error) result {
	var done atomic.Int64
	var stop atomic.Bool
	var wg sync.WaitGroup
	start, cpu0 := time.Now(), proccpu.Now()
	for w := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				if op(w) != nil {
					return
				}
				done.Add(1)
			}
		}()
	}
	time.Sleep(d)
	stop.Store(true)
	wg.Wait()
	ops := float64(done.Load())
	return result{ops / time.Since(start).Seconds(), float64((proccpu.Now() - cpu0).Microseconds()) / ops}
}
