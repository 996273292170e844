//go:build unix

package proccpu

import (
	"syscall"
	"time"
)

// Self is the CPU time (user and system, all threads) the process has used
// so far, to the microsecond (getrusage, finer than /proc's 10 ms ticks),
// and whether it could be read.
func Self() (time.Duration, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}

// Now is Self's time, 0 where it cannot be read (benchmarks that report
// CPU per operation).
func Now() time.Duration {
	d, _ := Self()
	return d
}
