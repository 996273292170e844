// Package proccpu reads the CPU time the calling process has used, for
// the figures that divide it by work done: the load generator's own cost,
// the GC pacer's bound on the collector's estimate, and the benchmarks'
// CPU per message.
package proccpu
