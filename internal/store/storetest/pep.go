package storetest

import (
	"fmt"
	"slices"
	"testing"

	"github.com/parley-im/parley/internal/store"
)

func pepItem(id string, i int) store.PEPItem {
	return store.PEPItem{ID: id, Payload: []byte(fmt.Sprintf("<x n='%d'>%s\x00</x>", i, id)), Published: ts(i)}
}

// checkItems compares the node's items (newest first) with want.
func checkItems(t *testing.T, p store.PEP, owner, node string, max int, want ...store.PEPItem) {
	t.Helper()
	got, err := p.GetPEPItems(ctx(), owner, node, max)
	must(t, "GetPEPItems "+node, err)
	if len(got) != len(want) {
		t.Fatalf("GetPEPItems(%s, %s, %d) = %d items %v, want %d", owner, node, max, len(got), got, len(want))
	}
	for i := range want {
		if got[i].ID != want[i].ID || !sameBytes(got[i].Payload, want[i].Payload) || !got[i].Published.Equal(want[i].Published) {
			t.Fatalf("item %d of %s = %+v, want %+v", i, node, got[i], want[i])
		}
	}
}

func runPEP(t *testing.T, f Factory) {
	const alice, node = "alice@example.org", "urn:xmpp:avatar:metadata"
	subtests(t, f, []namedTest{
		{"MissingNode", func(t *testing.T, s store.Store) {
			_, err := s.GetPEPNode(ctx(), alice, node)
			wantErr(t, "GetPEPNode", err, store.ErrNotFound)
			_, err = s.GetPEPItems(ctx(), alice, node, 0)
			wantErr(t, "GetPEPItems", err, store.ErrNotFound)
			wantErr(t, "PutPEPItem", s.PutPEPItem(ctx(), alice, node, pepItem("a", 1)), store.ErrNotFound)
			wantErr(t, "DeletePEPItem", s.DeletePEPItem(ctx(), alice, node, "a"), store.ErrNotFound)
			wantErr(t, "DeletePEPNode", s.DeletePEPNode(ctx(), alice, node), store.ErrNotFound)
			nodes, err := s.ListPEPNodes(ctx(), alice)
			must(t, "ListPEPNodes", err)
			if len(nodes) != 0 {
				t.Fatalf("ListPEPNodes = %q, want none", nodes)
			}
		}},
		{"PublishReplaceTrim", func(t *testing.T, s store.Store) {
			cfg := store.PEPNode{Access: "presence", MaxItems: 2}
			must(t, "PutPEPNode", s.PutPEPNode(ctx(), alice, node, cfg))
			if got, err := s.GetPEPNode(ctx(), alice, node); err != nil || got != cfg {
				t.Fatalf("GetPEPNode = %+v, %v, want %+v", got, err, cfg)
			}
			checkItems(t, s, alice, node, 0)
			a, b, c := pepItem("a", 1), pepItem("b", 2), pepItem("c", 3)
			for _, it := range []store.PEPItem{a, b, c} {
				must(t, "PutPEPItem "+it.ID, s.PutPEPItem(ctx(), alice, node, it))
			}
			checkItems(t, s, alice, node, 0, c, b) // a trimmed
			checkItems(t, s, alice, node, 1, c)
			b2 := pepItem("b", 4)
			must(t, "PutPEPItem b again", s.PutPEPItem(ctx(), alice, node, b2))
			checkItems(t, s, alice, node, 0, b2, c) // replaced, now the newest
			must(t, "DeletePEPItem c", s.DeletePEPItem(ctx(), alice, node, "c"))
			wantErr(t, "DeletePEPItem c again", s.DeletePEPItem(ctx(), alice, node, "c"), store.ErrNotFound)
			checkItems(t, s, alice, node, 0, b2)
			// lowering MaxItems trims; raising it keeps more.
			must(t, "PutPEPItem d", s.PutPEPItem(ctx(), alice, node, pepItem("d", 5)))
			must(t, "PutPEPNode max 1", s.PutPEPNode(ctx(), alice, node, store.PEPNode{Access: "open", MaxItems: 1}))
			checkItems(t, s, alice, node, 0, pepItem("d", 5))
			must(t, "PutPEPNode max 10", s.PutPEPNode(ctx(), alice, node, store.PEPNode{Access: "open", MaxItems: 10}))
			for i := range 5 {
				must(t, "PutPEPItem", s.PutPEPItem(ctx(), alice, node, pepItem(fmt.Sprint("n", i), 10+i)))
			}
			checkItems(t, s, alice, node, 3, pepItem("n4", 14), pepItem("n3", 13), pepItem("n2", 12))
		}},
		{"NodesPerUser", func(t *testing.T, s store.Store) {
			nodes := []string{"urn:xmpp:bookmarks:1", "eu.siacs.conversations.axolotl.devicelist", node, "a\x00b", ""}
			for _, n := range nodes {
				must(t, "PutPEPNode "+n, s.PutPEPNode(ctx(), alice, n, store.PEPNode{Access: "presence", MaxItems: 1}))
				must(t, "PutPEPItem "+n, s.PutPEPItem(ctx(), alice, n, pepItem("current", 1)))
			}
			must(t, "PutPEPNode a@x", s.PutPEPNode(ctx(), "a@x", "other", store.PEPNode{Access: "open", MaxItems: 1}))
			got, err := s.ListPEPNodes(ctx(), alice)
			must(t, "ListPEPNodes", err)
			want := slices.Clone(nodes)
			slices.Sort(want)
			if !sameStrings(got, want) {
				t.Fatalf("ListPEPNodes = %q, want %q", got, want)
			}
			must(t, "DeletePEPNode", s.DeletePEPNode(ctx(), alice, node))
			_, err = s.GetPEPItems(ctx(), alice, node, 0)
			wantErr(t, "GetPEPItems of a deleted node", err, store.ErrNotFound)
			got, _ = s.ListPEPNodes(ctx(), "a@x")
			if !sameStrings(got, []string{"other"}) {
				t.Fatalf("ListPEPNodes(a@x) = %q", got)
			}
			got, _ = s.ListPEPNodes(ctx(), "a@xy")
			if len(got) != 0 {
				t.Fatalf("ListPEPNodes(a@xy) = %q, want none", got)
			}
		}},
		{"DeleteAccount", func(t *testing.T, s store.Store) {
			must(t, "CreateAccount", s.CreateAccount(ctx(), account(alice, 1)))
			must(t, "PutPEPNode", s.PutPEPNode(ctx(), alice, node, store.PEPNode{Access: "presence", MaxItems: 1}))
			must(t, "PutPEPItem", s.PutPEPItem(ctx(), alice, node, pepItem("a", 1)))
			must(t, "DeleteAccount", s.DeleteAccount(ctx(), alice))
			nodes, err := s.ListPEPNodes(ctx(), alice)
			must(t, "ListPEPNodes", err)
			if len(nodes) != 0 {
				t.Fatalf("nodes after DeleteAccount: %q", nodes)
			}
		}},
	})
	t.Run("Reopen", func(t *testing.T) {
		if f.Reopen == nil {
			t.Skip("backend does not support Reopen")
		}
		s := f.Open(t)
		must(t, "PutPEPNode", s.PutPEPNode(ctx(), alice, node, store.PEPNode{Access: "presence", MaxItems: 2}))
		must(t, "PutPEPItem a", s.PutPEPItem(ctx(), alice, node, pepItem("a", 1)))
		s = f.Reopen(t, s)
		defer s.Close()
		must(t, "PutPEPItem b after reopen", s.PutPEPItem(ctx(), alice, node, pepItem("b", 2)))
		checkItems(t, s, alice, node, 0, pepItem("b", 2), pepItem("a", 1))
	})
}
