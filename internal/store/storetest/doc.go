// Package storetest is the conformance suite every store backend runs: one
// body of tests for the contracts declared in package store, executed
// unchanged against Pebble, PostgreSQL and any future backend.
//
// A backend's test file calls
//
//	storetest.Run(t, storetest.Factory{Open: open, Reopen: reopen})
//
// and, for the shared benchmarks,
//
//	storetest.Bench(b, openForBench)
//
// Factory.Open must return a fresh, empty store for each call; the suite
// never assumes two opened stores share data. Factory.Reopen (optional)
// closes a store and opens the same data again; the durability subtests are
// skipped without it.
//
// The suite uses only data a SQL backend can hold as is: JIDs and strings
// without NUL bytes, times with microsecond precision in UTC. It compares
// times with time.Time.Equal and treats nil and empty slices as equal. It
// expects ListAccounts to sort by byte order (in PostgreSQL: COLLATE "C").
//
// Concurrency: Run and Bench call t.Parallel nowhere; subtests run one after
// another, each on its own store, and the concurrency subtests start their
// own goroutines. Everything here is safe to call from one test goroutine;
// no package-level mutable state.
package storetest
