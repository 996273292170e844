package storetest

import (
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/parley-im/parley/internal/store"
)

// checkBlocklist compares the user's block list with want (given in any
// order; the store must return it sorted by byte order).
func checkBlocklist(t *testing.T, s store.Store, user string, want ...string) {
	t.Helper()
	got, err := s.GetBlocklist(ctx(), user)
	must(t, "GetBlocklist "+user, err)
	want = slices.Clone(want)
	slices.Sort(want)
	if !sameStrings(got, want) {
		t.Fatalf("GetBlocklist(%q) = %q, want %q", user, got, want)
	}
}

func runBlocking(t *testing.T, f Factory) {
	const alice = "alice@example.org"
	subtests(t, f, []namedTest{
		{"Empty", func(t *testing.T, s store.Store) {
			checkBlocklist(t, s, alice)
			must(t, "RemoveFromBlocklist of nothing", s.RemoveFromBlocklist(ctx(), alice, []string{"bob@example.org"}))
			must(t, "ClearBlocklist of nothing", s.ClearBlocklist(ctx(), alice))
			must(t, "AddToBlocklist none", s.AddToBlocklist(ctx(), alice, nil))
			checkBlocklist(t, s, alice)
		}},
		{"AddRemoveClear", func(t *testing.T, s store.Store) {
			kinds := []string{"bob@example.org", "carol@example.org/phone", "spam.example", "spam.example/bot", "ñandú@example.org"}
			must(t, "AddToBlocklist", s.AddToBlocklist(ctx(), alice, kinds))
			checkBlocklist(t, s, alice, kinds...)
			// Adding again keeps one copy; new JIDs are added.
			must(t, "AddToBlocklist again", s.AddToBlocklist(ctx(), alice, []string{"bob@example.org", "dave@example.org"}))
			checkBlocklist(t, s, alice, append(kinds, "dave@example.org")...)
			must(t, "RemoveFromBlocklist", s.RemoveFromBlocklist(ctx(), alice,
				[]string{"bob@example.org", "spam.example", "never@example.org"}))
			checkBlocklist(t, s, alice, "carol@example.org/phone", "spam.example/bot", "ñandú@example.org", "dave@example.org")
			must(t, "ClearBlocklist", s.ClearBlocklist(ctx(), alice))
			checkBlocklist(t, s, alice)
			must(t, "AddToBlocklist after clear", s.AddToBlocklist(ctx(), alice, []string{"eve@example.org"}))
			checkBlocklist(t, s, alice, "eve@example.org")
		}},
		{"PerUser", func(t *testing.T, s store.Store) {
			// Users whose JIDs share prefixes keep separate lists.
			lists := map[string][]string{
				"a@x": {"b@x"}, "a@xy": {"c@x"}, "a@x.y": {"d@x"}, "x": {"e@x"}, "aa@x": {"f@x", "a@x"},
			}
			for u, l := range lists {
				must(t, "AddToBlocklist "+u, s.AddToBlocklist(ctx(), u, l))
			}
			must(t, "ClearBlocklist a@x", s.ClearBlocklist(ctx(), "a@x"))
			checkBlocklist(t, s, "a@x")
			for u, l := range lists {
				if u != "a@x" {
					checkBlocklist(t, s, u, l...)
				}
			}
		}},
		{"Concurrent", func(t *testing.T, s store.Store) {
			// Concurrent adds to one list all land.
			var wg sync.WaitGroup
			var want []string
			for g := range 8 {
				batch := make([]string, 25)
				for i := range batch {
					batch[i] = fmt.Sprintf("user%d-%d@example.org", g, i)
				}
				want = append(want, batch...)
				wg.Go(func() {
					for _, j := range batch {
						if err := s.AddToBlocklist(ctx(), alice, []string{j}); err != nil {
							t.Errorf("AddToBlocklist %s: %v", j, err)
						}
					}
				})
			}
			wg.Wait()
			checkBlocklist(t, s, alice, want...)
		}},
	})
}
