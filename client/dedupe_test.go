package client

import (
	"fmt"
	"testing"
)

func TestDedupeDropsCopies(t *testing.T) {
	var d dedupe
	steps := []struct {
		from, origin, sid string
		want              bool
	}{
		{"alice@x/phone", "o1", "s1", true},
		{"alice@x/phone", "o1", "s1", false},  // the same stored copy again
		{"alice@x/laptop", "o1", "s2", false}, // re-sent by alice's client: a second stored copy
		{"bob@x/phone", "o1", "s3", true},     // another sender's id
		{"alice@x/phone", "", "s4", true},
		{"alice@x/phone", "", "s4", false},
		{"alice@x/phone", "", "", true}, // nothing to compare
		{"alice@x/phone", "", "", true},
	}
	for i, s := range steps {
		if got := d.first(s.from, s.origin, s.sid); got != s.want {
			t.Fatalf("step %d %+v: first = %v", i, s, got)
		}
	}
	for i := range 2 * dedupeSize { // evicts the oldest
		d.first("carol@x/a", fmt.Sprint("o", i), fmt.Sprint("s", i))
	}
	if !d.first("alice@x/phone", "o1", "s1") || len(d.seen) > dedupeSize {
		t.Fatalf("old entries are not evicted (%d kept)", len(d.seen))
	}
}
