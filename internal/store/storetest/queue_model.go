package storetest

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/parley-im/parley/internal/store"
)

// testAckModel drives one queue with a seeded random mix of enqueues and
// acks (in order from the head, runs long enough for range deletes, holes
// out of order, duplicates, already acked and unknown seqs) and checks the
// queue against a model after every step: the acks a group fan-out's
// members send, whatever path the backend takes for them.
func testAckModel(t *testing.T, s store.Store) {
	const key = "model@example.org"
	rng := rand.New(rand.NewPCG(9, 1))
	var live []uint64 // the model: live seqs, in order
	n := 0
	for step := range 300 {
		switch r := rng.IntN(10); {
		case r < 4 || len(live) == 0:
			k := 1 + rng.IntN(100)
			pls := make([][]byte, k)
			for i := range pls {
				pls[i] = payload(key, n+i)
			}
			first := enqueue(t, s, key, pls...)
			for i := range k {
				live = append(live, first+uint64(i))
			}
			n += k
		case r < 7: // a prefix from the head, as a device acks
			k := 1 + rng.IntN(len(live))
			ack(t, s, key, live[:k]...)
			live = live[k:]
		default: // random live seqs, some dead ones and duplicates
			var seqs []uint64
			for range 1 + rng.IntN(80) {
				seqs = append(seqs, live[rng.IntN(len(live))])
			}
			seqs = append(seqs, live[0]-1, live[len(live)-1]+1000)
			rng.Shuffle(len(seqs), func(i, j int) { seqs[i], seqs[j] = seqs[j], seqs[i] })
			ack(t, s, key, seqs...)
			live = slices.DeleteFunc(live, func(q uint64) bool { return slices.Contains(seqs, q) })
		}
		got := read(t, s, key, 0, readAllLimit)
		if !sameSeqs(seqsOf(got), live) {
			t.Fatalf("step %d: ReadQueue seqs = %v, want %v", step, seqsOf(got), live)
		}
		if len(live) > 0 {
			after := live[rng.IntN(len(live))]
			i, _ := slices.BinarySearch(live, after)
			if got := read(t, s, key, after, 5); !sameSeqs(seqsOf(got), live[i+1:min(len(live), i+6)]) {
				t.Fatalf("step %d: ReadQueue after %d = %v, want %v", step, after, seqsOf(got), live[i+1:min(len(live), i+6)])
			}
		}
		if l, err := s.QueueLen(ctx(), key); err != nil || l != len(live) {
			t.Fatalf("step %d: QueueLen = %d, %v, want %d", step, l, err, len(live))
		}
	}
}
