package storetest

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/parley-im/parley/internal/store"
)

// readAllLimit is larger than any queue the suite builds.
const readAllLimit = 1 << 20

func payload(key string, i int) []byte { return fmt.Appendf(nil, "<message to='%s' n='%d'/>", key, i) }

func enqueue(t *testing.T, s store.Store, key string, payloads ...[]byte) uint64 {
	t.Helper()
	seq, err := s.Enqueue(ctx(), key, payloads...)
	must(t, "Enqueue "+key, err)
	if seq == 0 {
		t.Fatalf("Enqueue(%q) returned seq 0; sequence numbers start above 0 so that ReadQueue(after=0) sees them", key)
	}
	return seq
}

func read(t *testing.T, s store.Store, key string, after uint64, limit int) []store.QueuedStanza {
	t.Helper()
	got, err := s.ReadQueue(ctx(), key, after, limit)
	must(t, "ReadQueue "+key, err)
	return got
}

func seqsOf(qs []store.QueuedStanza) []uint64 {
	out := make([]uint64, len(qs))
	for i, q := range qs {
		out[i] = q.Seq
	}
	return out
}

func span(first uint64, n int) []uint64 {
	out := make([]uint64, n)
	for i := range out {
		out[i] = first + uint64(i)
	}
	return out
}

func sameSeqs(a, b []uint64) bool { return fmt.Sprint(a) == fmt.Sprint(b) }

// checkQueue reads the whole queue and checks its sequence numbers and
// length; payloads are checked against want(seq) when want is not nil.
func checkQueue(t *testing.T, s store.Store, key string, wantSeqs []uint64, want func(seq uint64) []byte) {
	t.Helper()
	got := read(t, s, key, 0, readAllLimit)
	if !sameSeqs(seqsOf(got), wantSeqs) {
		t.Fatalf("ReadQueue(%q) seqs = %v, want %v", key, seqsOf(got), wantSeqs)
	}
	if want != nil {
		for _, q := range got {
			if w := want(q.Seq); !bytes.Equal(q.Payload, w) {
				t.Fatalf("ReadQueue(%q) seq %d payload = %q, want %q", key, q.Seq, q.Payload, w)
			}
		}
	}
	n, err := s.QueueLen(ctx(), key)
	must(t, "QueueLen "+key, err)
	if n != len(wantSeqs) {
		t.Fatalf("QueueLen(%q) = %d, want %d", key, n, len(wantSeqs))
	}
}

func ack(t *testing.T, s store.Store, key string, seqs ...uint64) {
	t.Helper()
	must(t, fmt.Sprintf("AckQueue %s %v", key, seqs), s.AckQueue(ctx(), key, seqs...))
}

func runQueue(t *testing.T, f Factory) {
	subtests(t, f, []namedTest{
		{"EmptyKey", func(t *testing.T, s store.Store) { checkQueue(t, s, "alice@example.org", nil, nil) }},
		{"EnqueueSeqs", testEnqueueSeqs},
		{"ReadAfterLimit", testReadAfterLimit},
		{"Ack", testAck},
		{"AckModel", testAckModel},
		{"EnqueueAll", testEnqueueAll},
		{"NoSeqReuse", testNoSeqReuse},
		{"KeysIsolated", testKeysIsolated},
		{"Payloads", testPayloads},
		{"ConcurrentSameKey", testConcurrentSameKey},
		{"ConcurrentChurn", testConcurrentChurn},
	})
}

func testEnqueueSeqs(t *testing.T, s store.Store) {
	const key = "alice@example.org"
	start := time.Now()
	b := enqueue(t, s, key, payload(key, 0))
	if got := enqueue(t, s, key, payload(key, 1), payload(key, 2), payload(key, 3)); got != b+1 {
		t.Fatalf("second Enqueue returned %d, want %d", got, b+1)
	}
	if got := enqueue(t, s, key, payload(key, 4)); got != b+4 {
		t.Fatalf("third Enqueue returned %d, want %d", got, b+4)
	}
	end := time.Now()
	checkQueue(t, s, key, span(b, 5), func(seq uint64) []byte { return payload(key, int(seq-b)) })
	// Stored is the backend's clock (maybe a database server's): allow skew.
	for _, q := range read(t, s, key, 0, readAllLimit) {
		if q.Stored.Before(start.Add(-time.Minute)) || q.Stored.After(end.Add(time.Minute)) {
			t.Errorf("seq %d Stored = %v, want about %v", q.Seq, q.Stored, start)
		}
	}
}

func testReadAfterLimit(t *testing.T, s store.Store) {
	const key = "alice@example.org"
	var b uint64
	for i := range 10 {
		seq := enqueue(t, s, key, payload(key, i))
		if i == 0 {
			b = seq
		}
	}
	cases := []struct {
		after uint64
		limit int
		want  []uint64
	}{
		{0, readAllLimit, span(b, 10)},
		{0, 1, span(b, 1)},
		{b - 1, 3, span(b, 3)},
		{b, 100, span(b+1, 9)},
		{b + 3, 2, span(b+4, 2)},
		{b + 3, 6, span(b+4, 6)},
		{b + 3, 7, span(b+4, 6)},
		{b + 8, 10, span(b+9, 1)},
		{b + 9, 10, nil},
		{b + 1000, 10, nil},
	}
	for _, c := range cases {
		got := read(t, s, key, c.after, c.limit)
		if !sameSeqs(seqsOf(got), c.want) {
			t.Errorf("ReadQueue(after=%d, limit=%d) = %v, want %v", c.after, c.limit, seqsOf(got), c.want)
		}
		for _, q := range got {
			if !bytes.Equal(q.Payload, payload(key, int(q.Seq-b))) {
				t.Errorf("seq %d payload = %q", q.Seq, q.Payload)
			}
		}
	}
}

func testAck(t *testing.T, s store.Store) {
	const key = "alice@example.org"
	b := enqueue(t, s, key, payload(key, 0), payload(key, 1), payload(key, 2), payload(key, 3), payload(key, 4),
		payload(key, 5), payload(key, 6), payload(key, 7), payload(key, 8), payload(key, 9))
	want := func(seq uint64) []byte { return payload(key, int(seq-b)) }
	seqs := func(offsets ...int) []uint64 {
		out := make([]uint64, len(offsets))
		for i, o := range offsets {
			out[i] = b + uint64(o)
		}
		return out
	}
	ack(t, s, key) // no seqs: nothing happens
	checkQueue(t, s, key, span(b, 10), want)
	ack(t, s, key, seqs(0, 1)...) // the head, in order
	checkQueue(t, s, key, seqs(2, 3, 4, 5, 6, 7, 8, 9), want)
	ack(t, s, key, seqs(5, 3)...) // holes, out of order
	checkQueue(t, s, key, seqs(2, 4, 6, 7, 8, 9), want)
	if got := read(t, s, key, b+2, 2); !sameSeqs(seqsOf(got), seqs(4, 6)) {
		t.Fatalf("read across holes = %v, want %v", seqsOf(got), seqs(4, 6))
	}
	ack(t, s, key, b, b+3, b+100, b+10, 0, b+5) // all unknown or acked already
	checkQueue(t, s, key, seqs(2, 4, 6, 7, 8, 9), want)
	ack(t, s, key, seqs(6, 6, 6)...) // duplicates
	checkQueue(t, s, key, seqs(2, 4, 7, 8, 9), want)
	ack(t, s, key, seqs(4, 2)...) // the head again, out of order
	checkQueue(t, s, key, seqs(7, 8, 9), want)
	if got := read(t, s, key, b+7, 10); !sameSeqs(seqsOf(got), seqs(8, 9)) {
		t.Fatalf("read after head = %v", seqsOf(got))
	}
	ack(t, s, key, seqs(9, 8, 7, 11)...)
	checkQueue(t, s, key, nil, nil)
	ack(t, s, "never-used@example.org", 1, 2, 3)
	checkQueue(t, s, "never-used@example.org", nil, nil)
}

func testNoSeqReuse(t *testing.T, s store.Store) {
	const key = "alice@example.org"
	b := enqueue(t, s, key, payload(key, 0), payload(key, 1), payload(key, 2))
	ack(t, s, key, b+2) // the tail
	if got := enqueue(t, s, key, payload(key, 3)); got != b+3 {
		t.Fatalf("Enqueue after acking the tail returned %d, want %d", got, b+3)
	}
	ack(t, s, key, b, b+1, b+3) // everything
	checkQueue(t, s, key, nil, nil)
	if got := enqueue(t, s, key, payload(key, 4)); got != b+4 {
		t.Fatalf("Enqueue after draining the queue returned %d, want %d (seqs are never reused)", got, b+4)
	}
	checkQueue(t, s, key, span(b+4, 1), func(uint64) []byte { return payload(key, 4) })
}

// isolationKeys are queue keys that are prefixes of one another.
var isolationKeys = [...]string{
	"a@x", "a@x#dev", "a@x#dev2", "a@x#de", "a@xy", "a@xy#dev", "a@x.y", "b@x", "x", "x#dev", "a@x#dev#2",
}

func testKeysIsolated(t *testing.T, s store.Store) {
	first := map[string]uint64{}
	count := map[string]int{}
	for round := range 3 {
		for i, key := range isolationKeys {
			n := i%3 + 1
			ps := make([][]byte, n)
			for j := range ps {
				ps[j] = payload(key, count[key]+j)
			}
			seq := enqueue(t, s, key, ps...)
			if round == 0 {
				first[key] = seq
			} else if want := first[key] + uint64(count[key]); seq != want {
				t.Fatalf("Enqueue(%q) = %d, want %d: another key's enqueue moved this key's sequence", key, seq, want)
			}
			count[key] += n
		}
	}
	check := func(skip string) {
		t.Helper()
		for _, key := range isolationKeys {
			if key == skip {
				checkQueue(t, s, key, nil, nil)
				continue
			}
			checkQueue(t, s, key, span(first[key], count[key]), func(seq uint64) []byte { return payload(key, int(seq-first[key])) })
		}
	}
	check("")
	ack(t, s, "a@x", span(first["a@x"], count["a@x"])...)
	check("a@x")
	// Acking seqs a key never had (but its neighbours have) changes nothing.
	ack(t, s, "a@x#de", span(first["a@x#de"]+uint64(count["a@x#de"]), 20)...)
	check("a@x")
}

func testPayloads(t *testing.T, s store.Store) {
	const key = "alice@example.org"
	big := bytes.Repeat([]byte("0123456789abcdef"), 16<<10) // 256 KiB
	bin := []byte{0, 1, 2, 0xFF, 0, 0xFE, 0}
	in := [][]byte{{}, bin, big, []byte("x")}
	b := enqueue(t, s, key, in[0], bytes.Clone(in[1]), bytes.Clone(in[2]), in[3])
	// The store owns its copy: mutating the caller's slices changes nothing.
	mut := bytes.Clone(bin)
	seq := enqueue(t, s, key, mut)
	mut[0] = 42
	in = append(in, bin)
	got := read(t, s, key, 0, readAllLimit)
	if !sameSeqs(seqsOf(got), span(b, 5)) || seq != b+4 {
		t.Fatalf("seqs = %v (last Enqueue %d), want %v", seqsOf(got), seq, span(b, 5))
	}
	for i, q := range got {
		if !bytes.Equal(q.Payload, in[i]) {
			t.Fatalf("payload %d: got %d bytes, want %d", i, len(q.Payload), len(in[i]))
		}
		// The caller owns what it read.
		if len(q.Payload) > 0 {
			q.Payload[0] ^= 0xFF
		}
	}
	for i, q := range read(t, s, key, 0, readAllLimit) {
		if !bytes.Equal(q.Payload, in[i]) {
			t.Fatalf("payload %d changed after the caller mutated a read result", i)
		}
	}
}
