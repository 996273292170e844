package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-im/parley/internal/store"
)

// TestPEPConcurrentPublish publishes to one node from many connections at
// once while its configuration changes: every trim sees the items
// published before it (the batch's second statement takes its snapshot
// after the node's lock), so no committed state keeps more than MaxItems,
// and the newest survive.
func TestPEPConcurrentPublish(t *testing.T) {
	s := openT(t, freshSchema(t, testDSN(t)), Options{MaxConns: 8})
	ctx := context.Background()
	const owner, node, writers, each = "alice@example.org", "urn:xmpp:microblog:0", 8, 20
	if err := s.PutPEPNode(ctx, owner, node, store.PEPNode{Access: "open", MaxItems: 3}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, writers+1)
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				it := store.PEPItem{ID: fmt.Sprintf("w%d-%d", w, i), Payload: []byte("<x/>"), Published: time.Now()}
				if err := s.PutPEPItem(ctx, owner, node, it); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Go(func() {
		for i := range each {
			if err := s.PutPEPNode(ctx, owner, node, store.PEPNode{Access: "open", MaxItems: 1 + 2*(i%2)}); err != nil {
				errs <- err
				return
			}
		}
	})
	// Every committed state keeps at most MaxItems items.
	done := make(chan struct{})
	checked := make(chan error, 1)
	go func() {
		defer close(checked)
		for {
			select {
			case <-done:
				return
			default:
			}
			var maxItems, n int
			err := s.pool.QueryRow(ctx, `SELECT n.max_items, (SELECT count(*) FROM pep_items i
				WHERE i.owner = n.owner AND i.node = n.node AND i.seq <= n.next_seq) FROM pep_nodes n`).Scan(&maxItems, &n)
			if err == nil && n > maxItems {
				err = fmt.Errorf("a committed state has %d items, MaxItems %d", n, maxItems)
			}
			if err != nil {
				checked <- err
				return
			}
		}
	}()
	wg.Wait()
	close(done)
	if err := <-checked; err != nil {
		t.Fatal(err)
	}
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	cfg, err := s.GetPEPNode(ctx, owner, node)
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM pep_items`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n > cfg.MaxItems {
		t.Fatalf("%d item rows left, MaxItems %d", n, cfg.MaxItems)
	}
	items, err := s.GetPEPItems(ctx, owner, node, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != n {
		t.Fatalf("GetPEPItems = %d items, %d rows", len(items), n)
	}
	// Each writer's last item is newer than its others: whichever writer
	// published last, its last item is the newest.
	if !strings.HasSuffix(items[0].ID, fmt.Sprintf("-%d", each-1)) {
		t.Fatalf("newest item %s is not a writer's last", items[0].ID)
	}
}

// TestPEPDeleteNodeWhilePublishing deletes a node while items are being
// published to it: a publish either fails (no node) or lands before the
// delete, which then removes its item; no item outlives its node.
func TestPEPDeleteNodeWhilePublishing(t *testing.T) {
	s := openT(t, freshSchema(t, testDSN(t)), Options{MaxConns: 8})
	ctx := context.Background()
	const owner, node = "alice@example.org", "urn:xmpp:avatar:data"
	for round := range 20 {
		if err := s.PutPEPNode(ctx, owner, node, store.PEPNode{Access: "presence", MaxItems: 100}); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		for w := range 4 {
			wg.Go(func() {
				for i := range 5 {
					it := store.PEPItem{ID: fmt.Sprintf("%d-%d-%d", round, w, i), Payload: []byte("<data/>"), Published: time.Now()}
					if err := s.PutPEPItem(ctx, owner, node, it); err != nil && !isNotFound(err) {
						t.Error(err)
					}
				}
			})
		}
		wg.Go(func() {
			if err := s.DeletePEPNode(ctx, owner, node); err != nil {
				t.Error(err)
			}
		})
		wg.Wait()
		var n int
		if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM pep_items`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Fatalf("round %d: %d items outlived their node", round, n)
		}
	}
}

// TestPEPOrphanItems: an item left without its node (DeleteAccount racing
// a publish, see pep.go) is never read and is removed when the node is
// created again.
func TestPEPOrphanItems(t *testing.T) {
	s := openT(t, freshSchema(t, testDSN(t)), Options{})
	ctx := context.Background()
	const owner, node = "alice@example.org", "urn:xmpp:nickname:0"
	if _, err := s.pool.Exec(ctx, `INSERT INTO pep_items (owner, node, id, seq, published, payload)
		VALUES ($1, $2, 'orphan', 7, now(), '\x00')`, owner, []byte(node)); err != nil {
		t.Fatal(err)
	}
	if err := s.DeletePEPItem(ctx, owner, node, "orphan"); !isNotFound(err) {
		t.Fatalf("DeletePEPItem of an orphan: %v, want ErrNotFound", err)
	}
	if err := s.PutPEPNode(ctx, owner, node, store.PEPNode{Access: "presence", MaxItems: 10}); err != nil {
		t.Fatal(err)
	}
	items, err := s.GetPEPItems(ctx, owner, node, 0)
	if err != nil || len(items) != 0 {
		t.Fatalf("GetPEPItems = %v, %v, want none", items, err)
	}
	var n int
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM pep_items`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("%d item rows (%v), want 0", n, err)
	}
}

func isNotFound(err error) bool { return errors.Is(err, store.ErrNotFound) }
