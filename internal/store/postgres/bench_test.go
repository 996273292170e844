package postgres

import (
	"testing"

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
