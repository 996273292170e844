package postgres

import (
	"context"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parley-im/parley/internal/store"
	"github.com/parley-im/parley/internal/store/storetest"
)

// BenchmarkStore runs the shared benchmarks (storetest.Bench), each on a
// fresh schema, with the default options: the numbers to compare with
// store/pebble's BenchmarkStore.
func BenchmarkStore(b *testing.B) {
	base := testDSN(b)
	storetest.Bench(b, func(b *testing.B) store.Store { return openT(b, freshSchema(b, base), Options{}) })
}

// BenchmarkGroupCommit compares group-commit settings with 64 writers
// (storetest's enqueue benchmarks). "NoBatching" is one statement and one
// commit per Enqueue call on 16 connections: PostgreSQL's own grouping of
// concurrent WAL flushes, without ours.
func BenchmarkGroupCommit(b *testing.B) {
	base := testDSN(b)
	for _, c := range []struct {
		name string
		opts Options
	}{
		{"NoBatching", Options{MaxConns: 16, EnqueueFlushers: 16, MaxBatchPayloads: 1}},
		{"Flushers1", Options{EnqueueFlushers: 1}},
		{"Flushers2", Options{EnqueueFlushers: 2}},
		{"Flushers4", Options{EnqueueFlushers: 4}},
	} {
		open := func(b *testing.B) store.Store { return openT(b, freshSchema(b, base), c.opts) }
		b.Run(c.name+"/EnqueueParallel", func(b *testing.B) { storetest.BenchEnqueueParallel(b, open) })
		b.Run(c.name+"/EnqueueAck", func(b *testing.B) { storetest.BenchEnqueueAck(b, open) })
	}
}

// BenchmarkAckOne measures single acks (one statement each, the way a
// device acks stanza by stanza) on a fresh queue and on one whose key
// already had 20,000 stanzas acked one by one: the second must cost about
// what the first does (no scan over the dead rows of the key).
func BenchmarkAckOne(b *testing.B) {
	base := testDSN(b)
	for _, acked := range []int{0, 20_000} {
		b.Run(fmt.Sprintf("AfterAcks=%d", acked), func(b *testing.B) {
			s := openT(b, freshSchema(b, base), Options{})
			const key = "busy@example.org"
			enqueueN := func(n int) uint64 {
				var first uint64
				for i := 0; i < n; i += 1000 {
					ps := make([][]byte, min(1000, n-i))
					for j := range ps {
						ps[j] = make([]byte, 200)
					}
					seq, err := s.Enqueue(context.Background(), key, ps...)
					if err != nil {
						b.Fatal(err)
					}
					if i == 0 {
						first = seq
					}
				}
				return first
			}
			first := enqueueN(acked)
			for i := range acked {
				if err := s.AckQueue(context.Background(), key, first+uint64(i)); err != nil {
					b.Fatal(err)
				}
			}
			first = enqueueN(b.N)
			b.ResetTimer()
			for i := range b.N {
				if err := s.AckQueue(context.Background(), key, first+uint64(i)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkPutResumptions measures a handoff's record writes per record:
// one record per write (the handoff before batching: a commit each, from
// 4 writers as the pool allows) and 256 per write (one statement each).
func BenchmarkPutResumptions(b *testing.B) {
	base := testDSN(b)
	record := func(i int) store.Resumption {
		return store.Resumption{
			ID: fmt.Sprintf("r%d", i), User: fmt.Sprintf("u%d@example.org", i), JID: fmt.Sprintf("u%d@example.org/phone", i),
			InH: 3, Acked: 1, Presence: []byte("<presence/>"), Expires: time.Now().Add(time.Hour),
			Unacked: []store.ResumedStanza{{Seq: 1, Payload: make([]byte, 300)}, {Seq: 2, Payload: make([]byte, 300)}},
		}
	}
	for _, perWrite := range []int{1, 256} {
		b.Run(fmt.Sprintf("PerWrite=%d", perWrite), func(b *testing.B) {
			s := openT(b, freshSchema(b, base), Options{})
			var next atomic.Int64
			b.SetParallelism(max(1, 4/runtime.GOMAXPROCS(0)))
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					rs := make([]store.Resumption, perWrite)
					for i := range rs {
						rs[i] = record(int(next.Add(1)))
					}
					if err := s.PutResumptions(context.Background(), rs); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*perWrite), "ns/record")
		})
	}
}
