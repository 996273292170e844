package storetest

import (
	"fmt"
	"testing"

	"github.com/parley-im/parley/internal/store"
)

func checkLastSeen(t *testing.T, s store.Store, jid string, want store.LastSeen) {
	t.Helper()
	got, err := s.GetLastSeen(ctx(), jid)
	must(t, "GetLastSeen "+jid, err)
	if !got.At.Equal(want.At) || got.Status != want.Status {
		t.Fatalf("GetLastSeen(%q) = %+v, want %+v", jid, got, want)
	}
}

func runLastActivity(t *testing.T, f Factory) {
	subtests(t, f, []namedTest{
		{"Missing", func(t *testing.T, s store.Store) {
			_, err := s.GetLastSeen(ctx(), "alice@example.org")
			wantErr(t, "GetLastSeen", err, store.ErrNotFound)
			must(t, "PutLastSeen empty", s.PutLastSeen(ctx(), nil))
			must(t, "PutLastSeen empty", s.PutLastSeen(ctx(), map[string]store.LastSeen{}))
		}},
		{"PutGet", func(t *testing.T, s store.Store) {
			recs := map[string]store.LastSeen{
				"a@x":               {At: ts(1), Status: "gone fishing 🎣"},
				"a@xy":              {At: ts(2)},
				"alice@example.org": {At: ts(3), Status: "Away"},
			}
			must(t, "PutLastSeen", s.PutLastSeen(ctx(), recs))
			for j, r := range recs {
				checkLastSeen(t, s, j, r)
			}
			_, err := s.GetLastSeen(ctx(), "a@x.y")
			wantErr(t, "GetLastSeen", err, store.ErrNotFound)
			// A later batch replaces some records and leaves the others.
			must(t, "PutLastSeen", s.PutLastSeen(ctx(), map[string]store.LastSeen{
				"a@x":           {At: ts(10), Status: ""},
				"bob@example.o": {At: ts(11), Status: "b"},
			}))
			checkLastSeen(t, s, "a@x", store.LastSeen{At: ts(10)})
			checkLastSeen(t, s, "a@xy", recs["a@xy"])
			checkLastSeen(t, s, "bob@example.o", store.LastSeen{At: ts(11), Status: "b"})
		}},
		{"Many", func(t *testing.T, s store.Store) {
			recs := make(map[string]store.LastSeen, 1000)
			for i := range 1000 {
				recs[fmt.Sprintf("user%d@example.org", i)] = store.LastSeen{At: ts(i), Status: "s"}
			}
			must(t, "PutLastSeen", s.PutLastSeen(ctx(), recs))
			for j, r := range recs {
				checkLastSeen(t, s, j, r)
			}
		}},
	})
}
