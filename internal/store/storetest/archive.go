package storetest

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/parley-im/parley/internal/store"
)

// archiveOf returns s as a store.Archive, or skips the test when the
// backend does not implement it yet.
func archiveOf(t *testing.T, s store.Store) store.Archive {
	t.Helper()
	a, ok := s.(store.Archive)
	if !ok {
		t.Skip("backend does not implement store.Archive")
	}
	return a
}

// archived is message i of an archive: peers alternate bob and carol, one
// second apart.
func archived(i int) store.ArchivedMessage {
	with := "bob@example.org"
	if i%2 == 1 {
		with = "carol@example.org"
	}
	return store.ArchivedMessage{ID: fmt.Sprintf("id-%02d", i), Time: ts(i), With: with, Payload: []byte(fmt.Sprintf("<message>%d</message>", i))}
}

func fillArchive(t *testing.T, a store.Archive, user string, n int) []store.ArchivedMessage {
	t.Helper()
	var all []store.ArchivedMessage
	for i := range n {
		m := archived(i)
		must(t, "AppendArchive "+m.ID, a.AppendArchive(ctx(), user, m))
		all = append(all, m)
	}
	return all
}

// checkPage runs q and compares the page's ids and its completeness.
func checkPage(t *testing.T, a store.Archive, user string, q store.ArchiveQuery, wantComplete bool, want ...store.ArchivedMessage) []store.ArchivedMessage {
	t.Helper()
	got, complete, err := a.QueryArchive(ctx(), user, q)
	must(t, fmt.Sprintf("QueryArchive %+v", q), err)
	if len(got) != len(want) || complete != wantComplete {
		t.Fatalf("QueryArchive %+v = %v complete=%v, want %v complete=%v", q, archIDs(got), complete, archIDs(want), wantComplete)
	}
	for i := range got {
		g, w := got[i], want[i]
		if g.ID != w.ID || !g.Time.Equal(w.Time) || g.Time.Location().String() != "UTC" || g.With != w.With || !sameBytes(g.Payload, w.Payload) {
			t.Fatalf("QueryArchive %+v [%d] = %+v, want %+v", q, i, g, w)
		}
	}
	return got
}

func checkCount(t *testing.T, a store.Archive, user string, q store.ArchiveQuery, want int) {
	t.Helper()
	n, err := a.CountArchive(ctx(), user, q)
	must(t, "CountArchive", err)
	if n != want {
		t.Fatalf("CountArchive %+v = %d, want %d", q, n, want)
	}
}

func archIDs(ms []store.ArchivedMessage) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.ID
	}
	return out
}

func withPeer(ms []store.ArchivedMessage, with string) []store.ArchivedMessage {
	var out []store.ArchivedMessage
	for _, m := range ms {
		if m.With == with {
			out = append(out, m)
		}
	}
	return out
}

func runArchive(t *testing.T, f Factory) {
	const alice = "alice@example.org"
	subtests(t, f, []namedTest{
		{"Empty", func(t *testing.T, s store.Store) {
			a := archiveOf(t, s)
			checkPage(t, a, alice, store.ArchiveQuery{}, true)
			checkPage(t, a, alice, store.ArchiveQuery{Max: 10, Backward: true}, true)
			checkCount(t, a, alice, store.ArchiveQuery{}, 0)
			_, _, err := a.QueryArchive(ctx(), alice, store.ArchiveQuery{AfterID: "nope"})
			wantErr(t, "QueryArchive after an unknown id", err, store.ErrNotFound)
			_, err = a.CountArchive(ctx(), alice, store.ArchiveQuery{BeforeID: "nope"})
			wantErr(t, "CountArchive before an unknown id", err, store.ErrNotFound)
		}},
		{"PagesForward", func(t *testing.T, s store.Store) {
			a := archiveOf(t, s)
			all := fillArchive(t, a, alice, 25)
			p1 := checkPage(t, a, alice, store.ArchiveQuery{Max: 10}, false, all[:10]...)
			p2 := checkPage(t, a, alice, store.ArchiveQuery{Max: 10, AfterID: p1[9].ID}, false, all[10:20]...)
			checkPage(t, a, alice, store.ArchiveQuery{Max: 10, AfterID: p2[9].ID}, true, all[20:]...)
			checkPage(t, a, alice, store.ArchiveQuery{Max: 5, AfterID: all[19].ID}, true, all[20:]...)
			checkPage(t, a, alice, store.ArchiveQuery{AfterID: all[24].ID}, true)
			checkPage(t, a, alice, store.ArchiveQuery{}, true, all...)
			checkCount(t, a, alice, store.ArchiveQuery{}, 25)
			checkCount(t, a, alice, store.ArchiveQuery{Max: 3, BeforeID: p2[0].ID}, 10)
		}},
		{"PagesBackward", func(t *testing.T, s store.Store) {
			a := archiveOf(t, s)
			all := fillArchive(t, a, alice, 25)
			p1 := checkPage(t, a, alice, store.ArchiveQuery{Max: 10, Backward: true}, false, all[15:]...)
			p2 := checkPage(t, a, alice, store.ArchiveQuery{Max: 10, Backward: true, BeforeID: p1[0].ID}, false, all[5:15]...)
			checkPage(t, a, alice, store.ArchiveQuery{Max: 10, Backward: true, BeforeID: p2[0].ID}, true, all[:5]...)
			checkPage(t, a, alice, store.ArchiveQuery{Max: 5, Backward: true, BeforeID: all[5].ID}, true, all[:5]...)
			checkPage(t, a, alice, store.ArchiveQuery{Backward: true, BeforeID: all[0].ID}, true)
			// Forward paging with a before bound, and both bounds.
			checkPage(t, a, alice, store.ArchiveQuery{Max: 3, BeforeID: all[10].ID}, false, all[:3]...)
			checkPage(t, a, alice, store.ArchiveQuery{AfterID: all[3].ID, BeforeID: all[7].ID}, true, all[4:7]...)
			checkPage(t, a, alice, store.ArchiveQuery{Max: 2, Backward: true, AfterID: all[3].ID, BeforeID: all[7].ID}, false, all[5:7]...)
		}},
		{"Filters", func(t *testing.T, s store.Store) {
			a := archiveOf(t, s)
			all := fillArchive(t, a, alice, 25)
			bob, carol := withPeer(all, "bob@example.org"), withPeer(all, "carol@example.org")
			checkPage(t, a, alice, store.ArchiveQuery{With: "bob@example.org"}, true, bob...)
			checkPage(t, a, alice, store.ArchiveQuery{With: "carol@example.org", Max: 4}, false, carol[:4]...)
			checkPage(t, a, alice, store.ArchiveQuery{With: "carol@example.org", Max: 4, Backward: true}, false, carol[8:]...)
			// An id of another peer's message still bounds a peer query.
			checkPage(t, a, alice, store.ArchiveQuery{With: "carol@example.org", AfterID: all[10].ID}, true, carol[5:]...)
			checkPage(t, a, alice, store.ArchiveQuery{With: "nobody@example.org"}, true)
			checkCount(t, a, alice, store.ArchiveQuery{With: "bob@example.org"}, 13)
			// Start and End are inclusive.
			checkPage(t, a, alice, store.ArchiveQuery{Start: ts(5), End: ts(9)}, true, all[5:10]...)
			checkPage(t, a, alice, store.ArchiveQuery{Start: ts(5).Add(1), End: ts(9).Add(-1)}, true, all[6:9]...)
			checkPage(t, a, alice, store.ArchiveQuery{Start: ts(20)}, true, all[20:]...)
			checkPage(t, a, alice, store.ArchiveQuery{End: ts(2), Max: 10, Backward: true}, true, all[:3]...)
			checkPage(t, a, alice, store.ArchiveQuery{With: "bob@example.org", Start: ts(5), End: ts(12)}, true, all[6], all[8], all[10], all[12])
			checkCount(t, a, alice, store.ArchiveQuery{With: "bob@example.org", Start: ts(5), End: ts(12)}, 4)
			checkPage(t, a, alice, store.ArchiveQuery{Start: ts(10), End: ts(5)}, true)
		}},
		{"OrderAndDuplicates", func(t *testing.T, s store.Store) {
			a := archiveOf(t, s)
			// Equal times sort by id; appends out of time order sort by time.
			ms := []store.ArchivedMessage{
				{ID: "b", Time: ts(1), With: "x@y"}, {ID: "a", Time: ts(1), With: "x@y"},
				{ID: "z", Time: ts(0), With: "x@y", Payload: []byte("z")},
			}
			for _, m := range ms {
				must(t, "AppendArchive", a.AppendArchive(ctx(), alice, m))
			}
			checkPage(t, a, alice, store.ArchiveQuery{}, true, ms[2], ms[1], ms[0])
			checkPage(t, a, alice, store.ArchiveQuery{AfterID: "a"}, true, ms[0])
			// Ids are per user (a duplicate in one archive is a caller error
			// that backends need not detect).
			dup := store.ArchivedMessage{ID: "a", Time: ts(9), With: "other@y", Payload: []byte("dup")}
			must(t, "AppendArchive same id, other user", a.AppendArchive(ctx(), "bob@example.org", dup))
			checkPage(t, a, "bob@example.org", store.ArchiveQuery{}, true, dup)
			checkPage(t, a, alice, store.ArchiveQuery{}, true, ms[2], ms[1], ms[0])
		}},
		{"PerUser", func(t *testing.T, s store.Store) {
			a := archiveOf(t, s)
			users := []string{"a@x", "a@xy", "a@x.y", "x", "aa@x"}
			for i, u := range users {
				fillArchive(t, a, u, i+1)
			}
			for i, u := range users {
				checkCount(t, a, u, store.ArchiveQuery{}, i+1)
				checkPage(t, a, u, store.ArchiveQuery{Max: 10, Backward: true}, true, fillArchiveWant(i+1)...)
			}
		}},
		{"DeleteBefore", func(t *testing.T, s store.Store) {
			a := archiveOf(t, s)
			all := fillArchive(t, a, alice, 10)
			other := fillArchive(t, a, "zed@example.org", 4)
			n, err := a.DeleteArchiveBefore(ctx(), ts(3), 2)
			must(t, "DeleteArchiveBefore", err)
			if n != 2 {
				t.Fatalf("DeleteArchiveBefore(limit 2) = %d", n)
			}
			n, err = a.DeleteArchiveBefore(ctx(), ts(3), 0)
			must(t, "DeleteArchiveBefore", err)
			if n != 4 {
				t.Fatalf("DeleteArchiveBefore(no limit) = %d, want 4 (1 of alice, 3 of zed)", n)
			}
			checkPage(t, a, alice, store.ArchiveQuery{}, true, all[3:]...)
			checkPage(t, a, "zed@example.org", store.ArchiveQuery{}, true, other[3:]...)
			checkPage(t, a, alice, store.ArchiveQuery{With: "bob@example.org"}, true, withPeer(all[3:], "bob@example.org")...)
			_, _, err = a.QueryArchive(ctx(), alice, store.ArchiveQuery{AfterID: all[1].ID})
			wantErr(t, "QueryArchive after a deleted id", err, store.ErrNotFound)
			// A deleted id can be archived again.
			must(t, "AppendArchive of a deleted id", a.AppendArchive(ctx(), alice, all[0]))
			checkCount(t, a, alice, store.ArchiveQuery{}, 8)
			if n, err := a.DeleteArchiveBefore(ctx(), ts(-5), 0); err != nil || n != 0 {
				t.Fatalf("DeleteArchiveBefore(nothing older) = %d, %v", n, err)
			}
		}},
		{"Prefs", func(t *testing.T, s store.Store) {
			a := archiveOf(t, s)
			p, err := a.GetArchivePrefs(ctx(), alice)
			must(t, "GetArchivePrefs", err)
			if p.Default != "" || len(p.Always) != 0 || len(p.Never) != 0 {
				t.Fatalf("prefs never set = %+v", p)
			}
			want := store.ArchivePrefs{Default: "roster", Always: []string{"bob@example.org", "carol@example.org"}, Never: []string{"spam@example.org"}}
			must(t, "SetArchivePrefs", a.SetArchivePrefs(ctx(), alice, want))
			must(t, "SetArchivePrefs other", a.SetArchivePrefs(ctx(), "alice@example.orgx", store.ArchivePrefs{Default: "never"}))
			p, err = a.GetArchivePrefs(ctx(), alice)
			must(t, "GetArchivePrefs", err)
			if p.Default != want.Default || !sameStrings(p.Always, want.Always) || !sameStrings(p.Never, want.Never) {
				t.Fatalf("GetArchivePrefs = %+v, want %+v", p, want)
			}
			must(t, "SetArchivePrefs", a.SetArchivePrefs(ctx(), alice, store.ArchivePrefs{Default: "always"}))
			p, _ = a.GetArchivePrefs(ctx(), alice)
			if p.Default != "always" || len(p.Always)+len(p.Never) != 0 {
				t.Fatalf("GetArchivePrefs after replacing = %+v", p)
			}
		}},
		{"DeleteAccount", func(t *testing.T, s store.Store) {
			a := archiveOf(t, s)
			for i, u := range []string{"a@x", "a@xy"} {
				must(t, "CreateAccount", s.CreateAccount(ctx(), account(u, byte(i+1))))
				fillArchive(t, a, u, 3)
				must(t, "SetArchivePrefs", a.SetArchivePrefs(ctx(), u, store.ArchivePrefs{Default: "never"}))
			}
			must(t, "DeleteAccount", s.DeleteAccount(ctx(), "a@x"))
			checkPage(t, a, "a@x", store.ArchiveQuery{}, true)
			checkPage(t, a, "a@x", store.ArchiveQuery{With: "bob@example.org"}, true)
			_, _, err := a.QueryArchive(ctx(), "a@x", store.ArchiveQuery{AfterID: archived(0).ID})
			wantErr(t, "QueryArchive after an id of a deleted account", err, store.ErrNotFound)
			if p, _ := a.GetArchivePrefs(ctx(), "a@x"); p.Default != "" {
				t.Fatalf("prefs survived DeleteAccount: %+v", p)
			}
			checkPage(t, a, "a@xy", store.ArchiveQuery{}, true, fillArchiveWant(3)...)
			if p, _ := a.GetArchivePrefs(ctx(), "a@xy"); p.Default != "never" {
				t.Fatalf("another user's prefs = %+v", p)
			}
		}},
		{"Concurrent", func(t *testing.T, s store.Store) {
			a := archiveOf(t, s)
			var wg sync.WaitGroup
			for g := range 8 {
				wg.Go(func() {
					for i := range 20 {
						m := store.ArchivedMessage{ID: fmt.Sprintf("g%d-%02d", g, i), Time: ts(g*100 + i), With: "x@y"}
						if err := a.AppendArchive(ctx(), alice, m); err != nil {
							t.Errorf("AppendArchive: %v", err)
						}
					}
				})
			}
			wg.Wait()
			got, complete, err := a.QueryArchive(ctx(), alice, store.ArchiveQuery{})
			must(t, "QueryArchive", err)
			if len(got) != 160 || !complete || !slices.IsSortedFunc(got, func(x, y store.ArchivedMessage) int { return x.Time.Compare(y.Time) }) {
				t.Fatalf("after concurrent appends: %d messages, complete=%v, sorted=%v", len(got), complete, false)
			}
		}},
	})
	t.Run("Closed", func(t *testing.T) { testArchiveClosed(t, f) })
	t.Run("Reopen", func(t *testing.T) {
		if f.Reopen == nil {
			t.Skip("backend does not support Reopen")
		}
		s := f.Open(t)
		all := fillArchive(t, archiveOf(t, s), alice, 5)
		must(t, "SetArchivePrefs", archiveOf(t, s).SetArchivePrefs(ctx(), alice, store.ArchivePrefs{Default: "roster"}))
		s = f.Reopen(t, s)
		defer s.Close()
		checkPage(t, archiveOf(t, s), alice, store.ArchiveQuery{Max: 2, AfterID: all[1].ID}, false, all[2:4]...)
		if p, _ := archiveOf(t, s).GetArchivePrefs(ctx(), alice); p.Default != "roster" {
			t.Fatalf("prefs after reopen = %+v", p)
		}
	})
}

// fillArchiveWant is what fillArchive(n) stored.
func fillArchiveWant(n int) []store.ArchivedMessage {
	out := make([]store.ArchivedMessage, n)
	for i := range out {
		out[i] = archived(i)
	}
	return out
}

func testArchiveClosed(t *testing.T, f Factory) {
	s := f.Open(t)
	a := archiveOf(t, s)
	must(t, "Close", s.Close())
	const j = "alice@example.org"
	calls := map[string]func() error{
		"AppendArchive": func() error { return a.AppendArchive(ctx(), j, archived(0)) },
		"QueryArchive":  func() error { _, _, err := a.QueryArchive(ctx(), j, store.ArchiveQuery{}); return err },
		"CountArchive":  func() error { _, err := a.CountArchive(ctx(), j, store.ArchiveQuery{}); return err },
		"DeleteArchiveBefore": func() error {
			_, err := a.DeleteArchiveBefore(ctx(), ts(0), 0)
			return err
		},
		"GetArchivePrefs": func() error { _, err := a.GetArchivePrefs(ctx(), j); return err },
		"SetArchivePrefs": func() error { return a.SetArchivePrefs(ctx(), j, store.ArchivePrefs{Default: "never"}) },
	}
	for name, call := range calls {
		if err := safeCall(call); !errors.Is(err, store.ErrClosed) {
			t.Errorf("%s after Close: err = %v, want ErrClosed", name, err)
		}
	}
}
