//go:build !unix

package groups

import "time"

// processCPU is not measured here: cpu-ns/delivery reads 0.
func processCPU() time.Duration { return 0 }
