package router

import (
	"testing"

	"github.com/parley-im/parley/internal/stanza"
)

// TestAddWaitWaitsForEveryMessageRoutedUnderOneAssigned: a feature that
// routes several messages under one Assigned (a group's invitations)
// settles them all, and its error is the first one's. Before, each
// message's wait replaced the last, and only the last was waited for (a
// pending message whose wait was replaced was never stored by its window).
func TestAddWaitWaitsForEveryMessageRoutedUnderOneAssigned(t *testing.T) {
	var a Assigned
	var called []int
	failed := stanza.NewError(stanza.InternalServerError, "")
	a.addWait(SettleFunc(func() *stanza.Error { called = append(called, 1); return nil }))
	a.addWait(SettleFunc(func() *stanza.Error { called = append(called, 2); return failed }))
	a.addWait(SettleFunc(func() *stanza.Error {
		called = append(called, 3)
		return stanza.NewError(stanza.ResourceConstraint, "")
	}))
	if err := a.Wait.Settle(); err != failed {
		t.Errorf("Wait returned %v, want the first error (%v)", err, failed)
	}
	if len(called) != 3 || called[0] != 1 || called[1] != 2 || called[2] != 3 {
		t.Errorf("waits called %v, want [1 2 3]", called)
	}
}

// TestAPendingIsItsOwnSettlement: a pending message's sender waits on the
// *Pending itself (a Settlement), not on a method value of it, which was
// an allocation per message routed.
func TestAPendingIsItsOwnSettlement(t *testing.T) {
	p := &Pending{}
	allocs := testing.AllocsPerRun(1000, func() {
		var a Assigned
		a.addWait(p)
		if a.Wait != p {
			t.Fatal("the settlement is not the pending message")
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocations to wait for a pending message, want 0", allocs)
	}
}
