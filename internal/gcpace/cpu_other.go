//go:build !unix

package gcpace

// processCPU is not known here: the collector's own estimate is used as is.
func processCPU() (seconds float64, ok bool) { return 0, false }
