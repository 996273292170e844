package main

import "testing"

// TestProcsForOneCPU: on one CPU the server runs two Ps (a blocking disk
// sync must not stop it), more CPUs are left as the runtime set them, and
// the operator's GOMAXPROCS always wins.
func TestProcsForOneCPU(t *testing.T) {
	for _, tc := range []struct {
		current     int
		operatorSet bool
		want        int
	}{
		{current: 1, want: 2},
		{current: 2, want: 0},
		{current: 8, want: 0},
		{current: 1, operatorSet: true, want: 0},
	} {
		if got := procsFor(tc.current, tc.operatorSet); got != tc.want {
			t.Errorf("procsFor(%d, operator set %v) = %d, want %d", tc.current, tc.operatorSet, got, tc.want)
		}
	}
}
