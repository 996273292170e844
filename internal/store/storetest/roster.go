package storetest

import (
	"slices"
	"strings"
	"testing"

	"github.com/parley-im/parley/internal/store"
)

func sameItem(a, b store.RosterItem) bool {
	return a.JID == b.JID && a.Name == b.Name && sameStrings(a.Groups, b.Groups) &&
		a.Subscription == b.Subscription && a.AskOut == b.AskOut && a.PendingIn == b.PendingIn &&
		a.PendingInStatus == b.PendingInStatus && a.PreApproved == b.PreApproved && a.Hidden == b.Hidden
}

// checkRoster compares the owner's roster with want (any order) and returns the version.
func checkRoster(t *testing.T, s store.Store, owner string, want ...store.RosterItem) uint64 {
	t.Helper()
	got, ver, err := s.GetRoster(ctx(), owner)
	must(t, "GetRoster "+owner, err)
	byJID := func(a, b store.RosterItem) int { return strings.Compare(a.JID, b.JID) }
	got, want = slices.Clone(got), slices.Clone(want)
	slices.SortFunc(got, byJID)
	slices.SortFunc(want, byJID)
	if !slices.EqualFunc(got, want, sameItem) {
		t.Fatalf("GetRoster(%q) = %+v, want %+v", owner, got, want)
	}
	return ver
}

func fullItem() store.RosterItem {
	return store.RosterItem{
		JID: "bob@example.org", Name: "Bob «the builder» 🛠", Groups: []string{"Friends", "Work", "ñ"},
		Subscription: store.SubBoth, AskOut: true, PendingIn: true, PendingInStatus: "hi, it's bob",
		PreApproved: true, Hidden: true,
	}
}

func runRoster(t *testing.T, f Factory) {
	subtests(t, f, []namedTest{
		{"Empty", func(t *testing.T, s store.Store) {
			if ver := checkRoster(t, s, "alice@example.org"); ver != 0 {
				t.Errorf("version of a never-written roster = %d, want 0", ver)
			}
			_, err := s.GetRosterItem(ctx(), "alice@example.org", "bob@example.org")
			wantErr(t, "GetRosterItem", err, store.ErrNotFound)
			_, err = s.DeleteRosterItem(ctx(), "alice@example.org", "bob@example.org")
			wantErr(t, "DeleteRosterItem", err, store.ErrNotFound)
		}},
		{"RoundTrip", func(t *testing.T, s store.Store) {
			const owner = "alice@example.org"
			items := []store.RosterItem{
				fullItem(),
				{JID: "carol@example.net", Subscription: store.SubNone},
				{JID: "dave@example.org", Name: "Dave", Groups: []string{"Work"}, Subscription: store.SubTo},
				{JID: "eve@example.org", Subscription: store.SubFrom, PendingIn: true},
				{JID: "example.net", Subscription: store.SubTo},
			}
			for _, it := range items {
				in := it
				in.Groups = slices.Clone(it.Groups)
				_, err := s.PutRosterItem(ctx(), owner, in)
				must(t, "PutRosterItem "+it.JID, err)
				if len(in.Groups) > 0 {
					in.Groups[0] = "mutated" // the store keeps its own copy
				}
			}
			checkRoster(t, s, owner, items...)
			for _, it := range items {
				got, err := s.GetRosterItem(ctx(), owner, it.JID)
				must(t, "GetRosterItem "+it.JID, err)
				if !sameItem(got, it) {
					t.Errorf("GetRosterItem(%q) = %+v, want %+v", it.JID, got, it)
				}
			}
			// Replacing clears what the new item leaves out.
			plain := store.RosterItem{JID: "bob@example.org", Subscription: store.SubNone}
			_, err := s.PutRosterItem(ctx(), owner, plain)
			must(t, "PutRosterItem replace", err)
			got, err := s.GetRosterItem(ctx(), owner, plain.JID)
			must(t, "GetRosterItem", err)
			if !sameItem(got, plain) {
				t.Errorf("after replace: %+v, want %+v", got, plain)
			}
		}},
		{"Versions", testRosterVersions},
		{"OwnersIsolated", func(t *testing.T, s store.Store) {
			owners := []string{"a@x", "a@xy", "a@x#dev", "b@x", "x"}
			for i, o := range owners {
				_, err := s.PutRosterItem(ctx(), o, store.RosterItem{JID: "c@x", Name: o, Subscription: store.SubBoth})
				must(t, "PutRosterItem", err)
				if i == 0 {
					_, err = s.PutRosterItem(ctx(), o, store.RosterItem{JID: "d@x", Subscription: store.SubTo})
					must(t, "PutRosterItem", err)
				}
			}
			_, err := s.DeleteRosterItem(ctx(), "a@x", "c@x")
			must(t, "DeleteRosterItem", err)
			checkRoster(t, s, "a@x", store.RosterItem{JID: "d@x", Subscription: store.SubTo})
			for _, o := range owners[1:] {
				checkRoster(t, s, o, store.RosterItem{JID: "c@x", Name: o, Subscription: store.SubBoth})
			}
			checkRoster(t, s, "c@x")
		}},
	})
}

func testRosterVersions(t *testing.T, s store.Store) {
	const owner = "alice@example.org"
	last := checkRoster(t, s, owner)
	step := func(what string, ver uint64, err error) {
		t.Helper()
		must(t, what, err)
		if ver <= last {
			t.Fatalf("%s: version %d, want > %d", what, ver, last)
		}
		_, v, err := s.GetRoster(ctx(), owner)
		must(t, what+": GetRoster", err)
		if v != ver {
			t.Fatalf("%s: GetRoster version %d, want %d", what, v, ver)
		}
		last = ver
	}
	it := fullItem()
	v, err := s.PutRosterItem(ctx(), owner, it)
	step("put", v, err)
	v, err = s.PutRosterItem(ctx(), owner, it) // same item again: still a change
	step("put same", v, err)
	it.Name = "Robert"
	v, err = s.PutRosterItem(ctx(), owner, it)
	step("rename", v, err)
	v, err = s.PutRosterItem(ctx(), owner, store.RosterItem{JID: "carol@example.org", Subscription: store.SubNone})
	step("put carol", v, err)
	// Another owner's changes may or may not move this version, but never backwards.
	_, err = s.PutRosterItem(ctx(), "bob@example.org", fullItem())
	must(t, "put other owner", err)
	if _, v, _ := s.GetRoster(ctx(), owner); v < last {
		t.Fatalf("version went back from %d to %d after another owner's change", last, v)
	} else {
		last = v
	}
	v, err = s.DeleteRosterItem(ctx(), owner, "bob@example.org")
	step("delete", v, err)
	_, err = s.DeleteRosterItem(ctx(), owner, "bob@example.org")
	wantErr(t, "delete again", err, store.ErrNotFound)
	if _, v, _ := s.GetRoster(ctx(), owner); v != last {
		t.Fatalf("a failed delete moved the version from %d to %d", last, v)
	}
	for i := range 20 {
		v, err = s.PutRosterItem(ctx(), owner, store.RosterItem{JID: "carol@example.org", Subscription: store.SubNone, Name: strings.Repeat("c", i)})
		step("churn", v, err)
	}
	checkRoster(t, s, owner, store.RosterItem{JID: "carol@example.org", Subscription: store.SubNone, Name: strings.Repeat("c", 19)})
}
