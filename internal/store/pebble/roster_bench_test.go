package pebble

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/parley-im/parley/internal/store"
)

// BenchmarkGetRoster reads one user's roster in a store of 20,000
// accounts flushed to disk, as at login (the initial presence reads the
// roster twice): "empty" for a user who never had a contact, "ten" for one
// with ten.
func BenchmarkGetRoster(b *testing.B) {
	ctx := context.Background()
	s := openT(b, filepath.Join(b.TempDir(), "db"), syncLogData)
	const users = 20000
	for i := range users {
		a := store.Account{JID: fmt.Sprintf("user%d@example.org", i), Created: time.Unix(0, 0)}
		if err := s.CreateAccount(ctx, a); err != nil {
			b.Fatal(err)
		}
		if i%10 == 0 {
			for c := range 10 {
				item := store.RosterItem{JID: fmt.Sprintf("contact%d@example.org", c), Subscription: store.SubBoth}
				if _, err := s.PutRosterItem(ctx, a.JID, item); err != nil {
					b.Fatal(err)
				}
			}
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
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				items, _, err := s.GetRoster(ctx, fmt.Sprintf("user%d@example.org", c.user(i)))
				if err != nil || len(items) != c.items {
					b.Fatalf("GetRoster: %d items, %v; want %d", len(items), err, c.items)
				}
				i++
			}
		})
	}
}
