// Package gcpace sets Go's garbage-collection target (GOGC) from what
// collection costs the process, so that a server of mostly idle devices
// keeps little headroom above its live heap while a busy one does not pay
// for that in CPU.
//
// The CPU a collector spends per second is about the allocation rate
// times the marking cost per byte, divided by GOGC: it does not depend on
// how big the live heap is. An idle server (phones parked, a keep-alive
// now and then) allocates almost nothing, so a low GOGC costs it nothing
// and saves memory in proportion to its tens of thousands of sessions; a
// server routing thousands of messages per second allocates fast, and a
// low GOGC would make it collect several times as often. The Pacer reads
// the collector's CPU time from runtime/metrics, less its idle mark
// workers' (they run only on a processor with nothing else to do, so their
// time costs the server nothing), at a fixed interval (5 s)
// and averages it over a longer horizon (a minute): it halves GOGC while
// that average stays well under a budget (a share of one core), doubles it
// when it goes over, within [Min, Max]. The horizon matters because one
// collection of a large idle heap costs tens of milliseconds, more than
// the budget of a single interval: decided per interval, the collections
// that an idle server's few allocations trigger kept GOGC from settling.
// The history is kept across a change, scaled by the ratio of the GOGC
// values (the cost is inverse to GOGC), so a clearly idle or clearly busy
// server moves from one bound to the other within one horizon. When it
// lowers GOGC it also collects at once and returns the freed memory to the
// OS (debug.FreeOSMemory): the process is idle then, and the background
// scavenger would take minutes. Once at Min it cannot lower GOGC again,
// so while the server stays quiet it returns the free heap the same way
// whenever that heap holds more than an eighth of the live heap in free
// pages (the garbage of a burst that ended, such as a login ramp: the
// scavenger keeps free pages up to about 1.1 times the heap goal), at
// most once per Config.ReleaseEvery; under load it never does.
//
// Max is Go's default, 100, for a large heap; for a small one the pacer
// goes past it under load as long as the heap that lets grow above the
// live heap stays under Config.Headroom (64 MiB; at most GOGC 800). What a
// collection costs is its marking of the live heap plus fixed work (every
// goroutine's stack, the globals), paid once per GOGC percent of live
// heap allocated: a server fanning out group posts to a thousand devices,
// with 21 MB of heap in use, collected every ~20 MB at GOGC 100, and
// allocation and collection took about a fifth of its CPU
// (docs/benchmarks.md, "Per-copy costs of a group post"). A live
// heap that grows brings the ceiling down at the next look, under load too,
// so a large server stays at 100 (GOMEMLIMIT still caps the whole heap).
//
// The horizon makes the pacer slow to notice a burst: at a tenth of a
// core spent collecting, the minute's average passes the budget after
// six seconds, and each doubling waits for the next look. A burst (a
// login storm, offline messages stored by the thousand, a group post to
// a thousand members) is over by then: 50,000 offline messages stored at
// GOGC 100 made 16 collections where 800 makes one (the collector 7% of
// the server's CPU, against 1%). So between two looks the
// pacer takes a quick one (every 250 ms, Config.Quick), and when the
// collector took a tenth of a core or more since the last one, over at
// least two collections (never one collection alone, however costly), it
// raises GOGC to its ceiling at once. The memory that costs is bounded
// by Headroom, and lasts as long as the burst: once the quick looks found
// the heap allocating less than one collection a second at the GOGC
// before the burst, for a second, GOGC goes back to that value and the
// burst's garbage is returned to the OS at once (one forced collection
// per burst). Held for a minute, the burst's GOGC left a server 84 KiB
// per device heavier 2 s after a login ramp of 1,000 devices over TLS,
// against 23. A fresh horizon starts at both ends of a burst (the history
// before it said "quiet" and would bring GOGC down at the next look, in
// the middle of the burst; the burst's own would read as load after it);
// a burst lasting a whole horizon is load, and the horizon decides from
// then on.
//
// An operator who sets GOGC in the environment has chosen: the server
// does not start a Pacer then (see docs/operations.md).
package gcpace
