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

// testEnqueueAll checks store.BatchQueue, when the backend has it: one
// call appends to many keys (one of them twice, one empty batch) after
// what they held, with the seqs Enqueue would have given.
func testEnqueueAll(t *testing.T, s store.Store) {
	bq, ok := s.(store.BatchQueue)
	if !ok {
		t.Skip("the backend has no EnqueueAll")
	}
	a, b, c := "a@example.org", "b@example.org", "c@example.org"
	a0 := enqueue(t, s, a, payload(a, 0), payload(a, 1))
	ack(t, s, a, a0)
	bs := []store.QueueBatch{
		{Key: a, Payloads: [][]byte{payload(a, 2), payload(a, 3)}},
		{Key: b, Payloads: [][]byte{payload(b, 0)}},
		{Key: c},
		{Key: a, Payloads: [][]byte{payload(a, 4)}},
	}
	must(t, "EnqueueAll", bq.EnqueueAll(ctx(), bs))
	if bs[0].First != a0+2 || bs[3].First != a0+4 || bs[1].First == 0 || bs[2].First == 0 {
		t.Fatalf("EnqueueAll firsts = %d %d %d %d, want %d, >0, >0, %d", bs[0].First, bs[1].First, bs[2].First, bs[3].First, a0+2, a0+4)
	}
	checkQueue(t, s, a, span(a0+1, 4), func(seq uint64) []byte { return payload(a, int(seq-a0)) })
	checkQueue(t, s, b, span(bs[1].First, 1), func(uint64) []byte { return payload(b, 0) })
	checkQueue(t, s, c, nil, nil)
	if got := enqueue(t, s, c, payload(c, 0)); got != bs[2].First {
		t.Fatalf("Enqueue after an empty batch = %d, want %d", got, bs[2].First)
	}
	if got := enqueue(t, s, a, payload(a, 5)); got != a0+5 {
		t.Fatalf("Enqueue after EnqueueAll = %d, want %d", got, a0+5)
	}
	ack(t, s, a, span(a0+1, 5)...)
	checkQueue(t, s, a, nil, nil)
}
