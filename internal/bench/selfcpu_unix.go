//go:build unix

package bench

import (
	"syscall"
	"time"
)

// selfCPU is the generator's own CPU time (user + system) to the
// microsecond (getrusage), finer than /proc's 10 ms ticks.
func selfCPU() (time.Duration, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
