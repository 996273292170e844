package pebble

import (
	"context"
	"fmt"
	"sync"
	"testing"
)

// TestWALSyncsAreCountedAndSpaced: WALSyncs counts the write-ahead log's
// syncs, and with the minimum interval between them (the default) writers
// that keep arriving share syncs: 16 writers making 25 durable writes each
// (every write waits for its sync before the next) need at most a quarter
// as many syncs as writes. With syncs that take no time (an in-memory file
// system) and no interval (WALMinSyncInterval -1) every write got a sync
// of its own: 399-400 of 400, against 26-27 with the interval.
func TestWALSyncsAreCountedAndSpaced(t *testing.T) {
	s, err := Open("db", Options{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const writers, each = 16, 25
	before := s.WALSyncs()
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				key := fmt.Sprintf("user%d@example.org", w)
				if _, err := s.Enqueue(context.Background(), key, []byte(fmt.Sprintf("m%d", i))); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	syncs := s.WALSyncs() - before
	t.Logf("%d WAL syncs for %d durable writes", syncs, writers*each)
	if syncs == 0 {
		t.Fatal("no WAL sync counted")
	}
	if syncs > writers*each/4 {
		t.Errorf("%d WAL syncs for %d durable writes, want at most a quarter", syncs, writers*each)
	}
}
