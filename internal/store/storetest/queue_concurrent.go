package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/parley-im/parley/internal/store"
)

const (
	concWriters  = 32
	concRounds   = 40 // Enqueue calls per writer
	concDeadline = 60 * time.Second
)

// testConcurrentSameKey runs 32 writers enqueuing 1-3 payloads per call to
// one shared key (and one to a key of their own) while a reader follows the
// shared queue, reading after the last seq it saw and acking what it read.
// The reader must see consecutive seqs (the ordering contract: no gaps,
// ever), every stanza exactly once, each writer's stanzas in its order, and
// at the seq that writer's Enqueue returned.
func testConcurrentSameKey(t *testing.T, s store.Store) {
	const shared = "shared@example.org"
	type call struct {
		seq uint64
		n   int
	}
	calls := make([][]call, concWriters) // per writer, in order
	total := 0
	for i := range concRounds {
		total += i%3 + 1
	}
	total *= concWriters

	var wg sync.WaitGroup
	errs := make(chan error, concWriters+1)
	start := make(chan struct{})
	for w := range concWriters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			own := fmt.Sprintf("writer%d@example.org#dev", w)
			var ownFirst uint64
			for i := range concRounds {
				n := i%3 + 1
				ps := make([][]byte, n)
				for j := range ps {
					ps[j] = fmt.Appendf(nil, "%d/%d/%d", w, i, j)
				}
				seq, err := s.Enqueue(ctx(), shared, ps...)
				if err != nil {
					errs <- fmt.Errorf("writer %d: Enqueue: %w", w, err)
					return
				}
				calls[w] = append(calls[w], call{seq, n})
				oseq, err := s.Enqueue(ctx(), own, ps[0])
				if err != nil {
					errs <- fmt.Errorf("writer %d: Enqueue own: %w", w, err)
					return
				}
				if i == 0 {
					ownFirst = oseq
				} else if oseq != ownFirst+uint64(i) {
					errs <- fmt.Errorf("writer %d: own key seq %d, want %d", w, oseq, ownFirst+uint64(i))
					return
				}
			}
		}()
	}

	type pos struct{ w, i, j int }
	seen := make(map[uint64]pos, total) // seq -> payload, as the reader saw it
	readerDone := make(chan struct{})
	go func() {
		defer close(readerDone)
		<-start
		var last uint64
		next := make([]pos, concWriters) // next (i, j) expected from each writer
		deadline := time.Now().Add(concDeadline)
		for reads := 0; len(seen) < total; reads++ {
			if time.Now().After(deadline) {
				errs <- fmt.Errorf("reader: saw %d of %d stanzas before the deadline", len(seen), total)
				return
			}
			batch, err := s.ReadQueue(ctx(), shared, last, 1+reads%50)
			if err != nil {
				errs <- fmt.Errorf("reader: ReadQueue: %w", err)
				return
			}
			if len(batch) == 0 {
				time.Sleep(50 * time.Microsecond)
				continue
			}
			for _, q := range batch {
				if last != 0 && q.Seq != last+1 {
					errs <- fmt.Errorf("reader: gap: read seq %d after %d", q.Seq, last)
					return
				}
				var p pos
				if _, err := fmt.Sscanf(string(q.Payload), "%d/%d/%d", &p.w, &p.i, &p.j); err != nil || p.w < 0 || p.w >= concWriters {
					errs <- fmt.Errorf("reader: bad payload %q", q.Payload)
					return
				}
				if p != (pos{p.w, next[p.w].i, next[p.w].j}) {
					errs <- fmt.Errorf("reader: writer %d: got stanza %d/%d, want %d/%d (lost, duplicated or reordered)",
						p.w, p.i, p.j, next[p.w].i, next[p.w].j)
					return
				}
				if next[p.w].j+1 < p.i%3+1 {
					next[p.w].j++
				} else {
					next[p.w] = pos{p.w, p.i + 1, 0}
				}
				seen[q.Seq] = p
				last = q.Seq
			}
			if reads%3 == 0 { // ack some of what was read, leaving the rest queued
				if err := s.AckQueue(ctx(), shared, seqsOf(batch)...); err != nil {
					errs <- fmt.Errorf("reader: AckQueue: %w", err)
					return
				}
			}
		}
	}()
	close(start)
	wg.Wait()
	<-readerDone
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if t.Failed() {
		return
	}

	// Every Enqueue's seq is where the reader found that call's stanzas.
	for w, cs := range calls {
		for i, c := range cs {
			for j := range c.n {
				if got := seen[c.seq+uint64(j)]; got != (pos{w, i, j}) {
					t.Fatalf("writer %d call %d returned seq %d, but seq %d holds %d/%d/%d",
						w, i, c.seq, c.seq+uint64(j), got.w, got.i, got.j)
				}
			}
		}
		n, err := s.QueueLen(ctx(), fmt.Sprintf("writer%d@example.org#dev", w))
		must(t, "QueueLen", err)
		if n != concRounds {
			t.Errorf("writer %d own queue length %d, want %d", w, n, concRounds)
		}
	}
	rest := read(t, s, shared, 0, readAllLimit)
	ack(t, s, shared, seqsOf(rest)...)
	checkQueue(t, s, shared, nil, nil)
}

// testConcurrentChurn runs 32 goroutines, each enqueuing, reading and
// acking on a key of its own, concurrently.
func testConcurrentChurn(t *testing.T, s store.Store) {
	var wg sync.WaitGroup
	errs := make(chan error, concWriters)
	for w := range concWriters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			key := fmt.Sprintf("churn@example.org#%d", w)
			var last uint64
			for i := range concRounds {
				seq, err := s.Enqueue(ctx(), key, payload(key, 2*i), payload(key, 2*i+1))
				if err != nil {
					errs <- err
					return
				}
				if last != 0 && seq != last+1 {
					errs <- fmt.Errorf("%s: Enqueue returned %d after %d", key, seq, last)
					return
				}
				got, err := s.ReadQueue(ctx(), key, 0, 10)
				if err != nil {
					errs <- err
					return
				}
				if len(got) != 2 || got[0].Seq != seq || got[1].Seq != seq+1 {
					errs <- fmt.Errorf("%s: read %v after Enqueue returned %d", key, seqsOf(got), seq)
					return
				}
				if err := s.AckQueue(ctx(), key, seq+1, seq); err != nil {
					errs <- err
					return
				}
				last = seq + 1
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for w := range concWriters {
		checkQueue(t, s, fmt.Sprintf("churn@example.org#%d", w), nil, nil)
	}
}
