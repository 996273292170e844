package c2s

import "testing"

// TestADeepCallAllocatesNothing: a call handed to a waiting worker reuses
// a pooled call and its channel (two allocations per call before, three
// calls per login: the SASL step, the initial presence and an IQ).
func TestADeepCallAllocatesNothing(t *testing.T) {
	var p deepCalls
	ran := 0
	f := func() { ran++ }
	p.do(f) // starts the worker, which then waits for the next call
	allocs := testing.AllocsPerRun(100, func() { p.do(f) })
	if ran != 102 {
		t.Fatalf("%d calls ran, want 102", ran)
	}
	if allocs > 0 && !raceEnabled {
		t.Errorf("a deep call allocated %v times, want 0", allocs)
	}
}
