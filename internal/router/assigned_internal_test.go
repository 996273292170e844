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
	a.addWait(func() *stanza.Error { called = append(called, 1); return nil })
	a.addWait(func() *stanza.Error { called = append(called, 2); return failed })
	a.addWait(func() *stanza.Error {
		called = append(called, 3)
		return stanza.NewError(stanza.ResourceConstraint, "")
	})
	if err := a.Wait(); err != failed {
		t.Errorf("Wait returned %v, want the first error (%v)", err, failed)
	}
	if len(called) != 3 || called[0] != 1 || called[1] != 2 || called[2] != 3 {
		t.Errorf("waits called %v, want [1 2 3]", called)
	}
}
