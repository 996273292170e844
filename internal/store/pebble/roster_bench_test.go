package pebble

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parley-im/parley/internal/store"
)

// BenchmarkGetRoster reads one user's roster in a store of 20,000
// accounts flushed to tables (in memory: the setup's 22,000 writes would
// each wait for a sync on disk), as at login (the initial presence reads
// the roster twice): "empty" for a user who never had a contact, "ten" for
// one with ten.
func BenchmarkGetRoster(b *testing.B) {
	ctx := context.Background()
	s := openT(b, "", syncLogData)
	const users, writers = 20000, 64
	var next atomic.Int64 // writers share the syncs (group commit)
	errs := make(chan error, writers)
	for range writers {
		go func() {
			var err error
			for i := int(next.Add(1)) - 1; i < users && err == nil; i = int(next.Add(1)) - 1 {
				err = addUser(ctx, s, i)
			}
			errs <- err
		}()
	}
	for range writers {
		if err := <-errs; err != nil {
			b.Fatal(err)
		}
	}
	if err := s.db.Flush(); err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name  string
		user  func(i int) int
		items int
	}{
		{"empty", func(i int) int { return (i*10 + 1) % users }, 0},
		{"ten", func(i int) int { return (i * 10) % users }, 10},
	} {
		b.Run(c.name, func(b *testing.B) {
			names := make([]string, users)
			for i := range names {
				names[i] = fmt.Sprintf("user%d@example.org", c.user(i))
			}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				items, _, err := s.GetRoster(ctx, names[i%users])
				if err != nil || len(items) != c.items {
					b.Fatalf("GetRoster: %d items, %v; want %d", len(items), err, c.items)
				}
				i++
			}
		})
	}
}

// addUser creates user<i>@example.org, with ten contacts if i is a
// multiple of ten.
func addUser(ctx context.Context, s *Store, i int) error {
	a := store.Account{JID: fmt.Sprintf("user%d@example.org", i), Created: time.Unix(0, 0)}
	if err := s.CreateAccount(ctx, a); err != nil {
		return err
	}
	if i%10 != 0 {
		return nil
	}
	for c := range 10 {
		item := store.RosterItem{JID: fmt.Sprintf("contact%d@example.org", c), Subscription: store.SubBoth}
		if _, err := s.PutRosterItem(ctx, a.JID, item); err != nil {
			return err
		}
	}
	return nil
}
