package router

import (
	"slices"
	"testing"
)

// TestWaitingListsKeepEachUsersOrder: messages leave their user's waiting
// list from anywhere in it (an ack may come for any of them) and the rest
// stay in the order they were handed out; a message removed twice (acked,
// then stored, or the other way round) changes nothing; a user with none
// left has no entry.
func TestWaitingListsKeepEachUsersOrder(t *testing.T) {
	var w waitingPending
	a := make([]*Pending, 5)
	for i := range a {
		a[i] = &Pending{key: "a"}
		w.add(a[i])
	}
	b := []*Pending{{key: "b"}, {key: "b"}}
	for _, p := range b {
		w.add(p)
	}
	w.remove(a[2]) // the middle
	w.remove(a[0]) // the head
	w.remove(a[4]) // the tail
	w.remove(a[2]) // again
	if got, want := w.of("a"), []*Pending{a[1], a[3]}; !slices.Equal(got, want) {
		t.Fatalf("a's waiting messages: %v, want %v", got, want)
	}
	if got := w.of("b"); !slices.Equal(got, b) {
		t.Fatalf("b's waiting messages: %v, want %v", got, b)
	}
	w.add(a[0]) // handed out again later: it goes last
	if got, want := w.of("a"), []*Pending{a[1], a[3], a[0]}; !slices.Equal(got, want) {
		t.Fatalf("a's waiting messages: %v, want %v", got, want)
	}
	for _, p := range []*Pending{a[1], a[3], a[0], b[0], b[1]} {
		w.remove(p)
	}
	if len(w.byKey) != 0 || w.of("a") != nil {
		t.Fatalf("%d users with waiting messages left, want none", len(w.byKey))
	}
}
