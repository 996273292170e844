package main

import (
	"log/slog"
	"runtime"
)

// minProcs is the fewest Ps (goroutines running at once, GOMAXPROCS) the
// server runs with, even on one CPU.
//
// A disk sync (the write-ahead log's fdatasync, hundreds per second under
// load) is a blocking system call, and the goroutine making it keeps its P
// until the runtime's monitor takes the P back, which it does only for a
// call that spans one of its ticks, up to 10 ms apart. Most syncs are
// shorter than that, so on one CPU (GOMAXPROCS=1: a one-vCPU machine, or
// the benchmarks' taskset to one core) every sync stopped the whole server
// for its duration: at 2,500 messages/s its P was in fdatasync a third of
// the time, and messages waited behind it (p50 10 ms, p99 57 ms; with two
// Ps 0.5 and 10 ms; docs/benchmarks.md, "The WAL sync"). With a second P
// the other goroutines run on while a sync blocks; the kernel shares the
// one CPU between the two threads.
const minProcs = 2

// procsFor is the GOMAXPROCS the server sets, given the runtime's and
// whether the operator chose it (the GOMAXPROCS environment variable):
// 0 means leave it.
func procsFor(current int, operatorSet bool) int {
	if operatorSet || current >= minProcs {
		return 0
	}
	return minProcs
}

// ensureMinProcs raises GOMAXPROCS to minProcs unless the operator set it.
func ensureMinProcs(log *slog.Logger, operatorSet bool) {
	if n := procsFor(runtime.GOMAXPROCS(0), operatorSet); n > 0 {
		runtime.GOMAXPROCS(n)
		log.Info("one CPU: running two Ps so that a blocking disk sync does not stop the server", "gomaxprocs", n)
	}
}
