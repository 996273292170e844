package proccpu

import "testing"

// TestSelfGrowsWithWork: spinning adds CPU time.
func TestSelfGrowsWithWork(t *testing.T) {
	before, ok := Self()
	if !ok {
		t.Skip("no CPU time on this platform")
	}
	x := 0
	for after := before; after == before; after, _ = Self() {
		for i := range 1 << 20 {
			x += i
		}
	}
	_ = x
}
