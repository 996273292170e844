//go:build !unix

package bench

import "time"

// selfCPU is unavailable here: the generator's CPU is not measured.
func selfCPU() (time.Duration, bool) { return 0, false }
