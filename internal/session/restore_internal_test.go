package session

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/parley-im/parley/internal/store"
	"github.com/parley-im/parley/internal/store/pebble"
)

// heldResumptions is a real store whose record writes wait until release
// is closed, and which counts them.
type heldResumptions struct {
	store.Resumptions
	release chan struct{}

	mu       sync.Mutex
	writes   int
	inFlight int // records of the writes waiting for release
}

func (h *heldResumptions) PutResumptions(ctx context.Context, rs []store.Resumption) error {
	h.mu.Lock()
	h.writes++
	h.inFlight += len(rs)
	h.mu.Unlock()
	<-h.release
	return h.Resumptions.PutResumptions(ctx, rs)
}

// heldRecordStore is an in-memory Pebble store, the same whose record
// writes wait for release, and a session Config writing through it.
func heldRecordStore(t *testing.T) (*pebble.Store, *heldResumptions, *Config) {
	st, err := pebble.Open(t.Name(), pebble.Options{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	held := &heldResumptions{Resumptions: st, release: make(chan struct{})}
	return st, held, &Config{Resumptions: held}
}

// TestRecordsOfConcurrentHandoffsAreBatched: 600 sessions handed off at
// once store their records while the first store write is in flight; the
// rest go in writes of up to maxRecordBatch, not one write per session,
// and every record is stored.
func TestRecordsOfConcurrentHandoffsAreBatched(t *testing.T) {
	st, held, cfg := heldRecordStore(t)
	const n = 600
	expires := time.Now().Add(time.Minute)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			errs[i] = cfg.putRecord(context.Background(), store.Resumption{
				ID: fmt.Sprintf("r%d", i), User: fmt.Sprintf("u%d@localhost", i), JID: fmt.Sprintf("u%d@localhost/phone", i),
				InH: uint32(i), Expires: expires,
			})
		})
	}
	// Wait until every record is in the first write or pending.
	var first int
	for deadline := time.Now().Add(10 * time.Second); ; {
		held.mu.Lock()
		first = held.inFlight
		held.mu.Unlock()
		cfg.records.mu.Lock()
		pending := len(cfg.records.pending)
		cfg.records.mu.Unlock()
		if first+pending == n {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d records in flight and %d pending, want %d in all", first, pending, n)
		}
		time.Sleep(time.Millisecond)
	}
	close(held.release)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
	}
	if want := 1 + (n-first+maxRecordBatch-1)/maxRecordBatch; held.writes != want {
		t.Fatalf("%d store writes for %d records (%d in the first), want %d", held.writes, n, first, want)
	}
	for i := range n {
		r, err := st.TakeResumption(context.Background(), fmt.Sprintf("r%d", i), fmt.Sprintf("u%d@localhost", i), "", time.Now())
		if err != nil || r.InH != uint32(i) {
			t.Fatalf("record %d: %+v, %v", i, r, err)
		}
	}
}

// TestRecordPutWithdrawnWhenItsContextEnds: a record still pending when
// its caller gives up is not written later.
func TestRecordPutWithdrawnWhenItsContextEnds(t *testing.T) {
	st, held, cfg := heldRecordStore(t)
	rec := func(id string) store.Resumption {
		return store.Resumption{ID: id, User: "a@localhost", JID: "a@localhost/x", Expires: time.Now().Add(time.Minute)}
	}
	firstDone := make(chan error, 1)
	go func() { firstDone <- cfg.putRecord(context.Background(), rec("first")) }()
	for {
		held.mu.Lock()
		w := held.writes
		held.mu.Unlock()
		if w == 1 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := cfg.putRecord(ctx, rec("late")); err != context.DeadlineExceeded {
		t.Fatalf("a put whose context ended while pending: %v, want %v", err, context.DeadlineExceeded)
	}
	close(held.release)
	if err := <-firstDone; err != nil {
		t.Fatal(err)
	}
	if _, err := st.TakeResumption(context.Background(), "late", "a@localhost", "", time.Now()); err == nil {
		t.Fatal("the withdrawn record was written")
	}
	if held.writes != 1 {
		t.Fatalf("%d store writes, want 1", held.writes)
	}
}
