package storetest

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parley-im/parley/internal/store"
)

// benchPayload is the size of a small chat message with its envelope.
var benchPayload = make([]byte, 200)

// Bench runs the shared benchmarks as sub-benchmarks of b, each on a fresh
// store from open (which must be as durable as production: on disk, synced).
func Bench(b *testing.B, open func(b *testing.B) store.Store) {
	b.Run("EnqueueParallel", func(b *testing.B) { BenchEnqueueParallel(b, open) })
	b.Run("EnqueueAck", func(b *testing.B) { BenchEnqueueAck(b, open) })
	b.Run("ReadFresh", func(b *testing.B) { benchRead(b, open, 0) })
	b.Run("ReadAfterManyAcks", func(b *testing.B) { BenchReadAfterManyAcks(b, open) })
}

// benchWriters is how many concurrent writers BenchEnqueueParallel runs.
const benchWriters = 64

// runWriters calls op(w, i) b.N times in all, spread over n goroutines
// (not GOMAXPROCS-bound like b.RunParallel), and reports ops/s.
func runWriters(b *testing.B, n int, op func(w, i int) error) {
	var next atomic.Int64
	var wg sync.WaitGroup
	var failed atomic.Value
	b.ResetTimer()
	start := time.Now()
	for w := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= b.N {
					return
				}
				if err := op(w, i); err != nil {
					failed.CompareAndSwap(nil, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	if err, _ := failed.Load().(error); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "ops/s")
}

func closeBench(b *testing.B, s store.Store) {
	if err := s.Close(); err != nil {
		b.Fatal(err)
	}
}

// BenchEnqueueParallel: durable enqueues from 64 goroutines, each to its own
// key. Measures group commit: far above 1/fsync means it works.
func BenchEnqueueParallel(b *testing.B, open func(b *testing.B) store.Store) {
	s := open(b)
	defer closeBench(b, s)
	keys := make([]string, benchWriters)
	for w := range keys {
		keys[w] = fmt.Sprintf("user%d@example.org#dev", w)
	}
	b.SetBytes(int64(len(benchPayload)))
	runWriters(b, benchWriters, func(w, _ int) error {
		_, err := s.Enqueue(ctx(), keys[w], benchPayload)
		return err
	})
}

// BenchEnqueueAck: the offline-queue life cycle (durable enqueue, read, ack)
// from 64 goroutines over 64 keys; each op is one stanza's full cycle.
func BenchEnqueueAck(b *testing.B, open func(b *testing.B) store.Store) {
	s := open(b)
	defer closeBench(b, s)
	keys := make([]string, benchWriters)
	for w := range keys {
		keys[w] = fmt.Sprintf("user%d@example.org", w)
	}
	runWriters(b, benchWriters, func(w, _ int) error {
		seq, err := s.Enqueue(ctx(), keys[w], benchPayload)
		if err != nil {
			return err
		}
		got, err := s.ReadQueue(ctx(), keys[w], seq-1, 1)
		if err != nil {
			return err
		}
		if len(got) != 1 || got[0].Seq != seq {
			return fmt.Errorf("read after enqueue of %d: %d stanzas", seq, len(got))
		}
		return s.AckQueue(ctx(), keys[w], seq)
	})
}

// BenchReadAfterManyAcks: reading the head of a queue after 100,000 stanzas
// were enqueued and acknowledged (one by one and in runs) must cost about
// what reading a fresh queue does: acked stanzas must not slow reads down.
// Compare with the ReadFresh sub-benchmark of Bench.
func BenchReadAfterManyAcks(b *testing.B, open func(b *testing.B) store.Store) {
	benchRead(b, open, 100_000)
}

func benchRead(b *testing.B, open func(b *testing.B) store.Store, acked int) {
	s := open(b)
	defer closeBench(b, s)
	const key, batch = "busy@example.org", 100
	for i := 0; i < acked; i += batch {
		ps := make([][]byte, batch)
		for j := range ps {
			ps[j] = benchPayload
		}
		first, err := s.Enqueue(ctx(), key, ps...)
		if err != nil {
			b.Fatal(err)
		}
		seqs := span(first, batch)
		if (i/batch)%2 == 0 {
			err = s.AckQueue(ctx(), key, seqs...) // a run
		} else {
			for _, q := range seqs { // one at a time, as devices ack
				if err = s.AckQueue(ctx(), key, q); err != nil {
					break
				}
			}
		}
		if err != nil {
			b.Fatal(err)
		}
	}
	live, err := s.Enqueue(ctx(), key, benchPayload, benchPayload)
	if err != nil {
		b.Fatal(err)
	}
	runtime.GC()
	for b.Loop() {
		got, err := s.ReadQueue(ctx(), key, 0, 10)
		if err != nil {
			b.Fatal(err)
		}
		if len(got) != 2 || got[0].Seq != live {
			b.Fatalf("read %v, want 2 stanzas from %d", seqsOf(got), live)
		}
	}
}
