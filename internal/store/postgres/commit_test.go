package postgres

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Concurrent Enqueue calls share batches: 64 writers, far fewer commits.
func TestGroupCommitBatches(t *testing.T) {
	s := openT(t, freshSchema(t, testDSN(t)), Options{EnqueueFlushers: 1})
	const writers, rounds = 64, 10
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for range rounds {
				if _, err := s.Enqueue(context.Background(), "k@x", []byte{byte(w)}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	n, err := s.QueueLen(context.Background(), "k@x")
	if err != nil || n != writers*rounds {
		t.Fatalf("QueueLen = %d, %v; want %d", n, err, writers*rounds)
	}
	batches := s.gc.batches.Load()
	t.Logf("%d Enqueue calls in %d batches", writers*rounds, batches)
	if batches >= writers*rounds/2 {
		t.Errorf("%d Enqueue calls took %d batches: group commit is not grouping", writers*rounds, batches)
	}
}

// pendingCalls returns how many Enqueue calls wait for a batch and how
// many batches are in flight.
func (g *groupCommit) pendingCalls() (pending, inFlight int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.pending), g.inFlight
}

// waitFor polls cond for up to 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for range 10000 {
		if cond() {
			return
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}

// A call whose context ends while it waits for a batch is withdrawn (its
// stanza is not written); the call behind it still gets the flusher slot.
func TestGroupCommitWithdraw(t *testing.T) {
	base := testDSN(t)
	dsn := freshSchema(t, base)
	s := openT(t, dsn, Options{EnqueueFlushers: 1, MaxConns: 4})
	ctx := context.Background()
	first, err := s.Enqueue(ctx, "k@x", []byte("0"))
	if err != nil {
		t.Fatal(err)
	}
	// Hold k@x's seq row so that the next batch blocks in PostgreSQL.
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `SELECT * FROM queue_seqs WHERE key = 'k@x' FOR UPDATE`); err != nil {
		t.Fatal(err)
	}

	type result struct {
		seq uint64
		err error
	}
	a, b, c := make(chan result, 1), make(chan result, 1), make(chan result, 1)
	go func() { seq, err := s.Enqueue(ctx, "k@x", []byte("a")); a <- result{seq, err} }()
	waitFor(t, "the blocked batch", func() bool { p, f := s.gc.pendingCalls(); return p == 0 && f == 1 })
	bctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() { seq, err := s.Enqueue(bctx, "other@x", []byte("b")); b <- result{seq, err} }()
	waitFor(t, "b pending", func() bool { p, _ := s.gc.pendingCalls(); return p == 1 })
	go func() { seq, err := s.Enqueue(ctx, "other@x", []byte("c")); c <- result{seq, err} }()
	waitFor(t, "c pending", func() bool { p, _ := s.gc.pendingCalls(); return p == 2 })
	cancel()
	if r := <-b; !errors.Is(r.err, context.Canceled) {
		t.Fatalf("canceled Enqueue = %d, %v; want context.Canceled", r.seq, r.err)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if r := <-a; r.err != nil || r.seq != first+1 {
		t.Fatalf("blocked Enqueue = %d, %v; want %d", r.seq, r.err, first+1)
	}
	r := <-c
	if r.err != nil {
		t.Fatal(r.err)
	}
	got, err := s.ReadQueue(ctx, "other@x", 0, 0)
	if err != nil || len(got) != 1 || string(got[0].Payload) != "c" || got[0].Seq != r.seq {
		t.Fatalf("other@x = %v, %v; want only c at %d", got, err, r.seq)
	}
	if p, f := s.gc.pendingCalls(); p != 0 || f != 0 {
		t.Fatalf("after the batches: %d pending, %d in flight", p, f)
	}
}

// A call PostgreSQL refuses (a key that is not UTF-8) fails alone, not the
// calls that shared its batch.
func TestGroupCommitBadCallFailsAlone(t *testing.T) {
	s := openT(t, freshSchema(t, testDSN(t)), Options{EnqueueFlushers: 1})
	const writers = 16
	var wg sync.WaitGroup
	errs := make([]error, writers)
	for w := range writers {
		wg.Go(func() {
			key := "good@x"
			if w == 7 {
				key = "bad\xff@x"
			}
			_, errs[w] = s.Enqueue(context.Background(), key, []byte("p"))
		})
	}
	wg.Wait()
	for w, err := range errs {
		if (w == 7) != (err != nil) {
			t.Errorf("writer %d: err = %v", w, err)
		}
	}
	if n, err := s.QueueLen(context.Background(), "good@x"); n != writers-1 || err != nil {
		t.Fatalf("QueueLen = %d, %v; want %d", n, err, writers-1)
	}
}
