package pebble

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/parley-im/parley/internal/store"
)

// BenchmarkArchive measures the archive on an in-memory store: appends,
// and pages of 50 from one user's archive of 20,000 messages (among other
// users' archives) at its start, after an id in the middle, at its end
// backward and with a peer filter; and a count of the whole archive.
func BenchmarkArchive(b *testing.B) {
	ctx := context.Background()
	s := openT(b, "", syncLogData)
	const n = 20_000
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	payload := make([]byte, 300)
	for _, user := range []string{"a@x", "alice@x", "z@x"} {
		for i := range n {
			m := store.ArchivedMessage{ID: fmt.Sprintf("%s-%06d", user, i), Time: t0.Add(time.Duration(i) * time.Millisecond),
				With: fmt.Sprintf("peer%d@x", i%20), Payload: payload}
			if err := s.AppendArchive(ctx, user, m); err != nil {
				b.Fatal(err)
			}
		}
	}
	runs := 0
	b.Run("Append", func(b *testing.B) {
		runs++ // -count n runs this n times on the same store: fresh ids
		for i := 0; b.Loop(); i++ {
			m := store.ArchivedMessage{ID: fmt.Sprintf("new-%d-%d", runs, i), Time: t0.Add(time.Hour + time.Duration(i)), With: "peer@x", Payload: payload}
			if err := s.AppendArchive(ctx, "bench@x", m); err != nil {
				b.Fatal(err)
			}
		}
	})
	for _, q := range []struct {
		name string
		q    store.ArchiveQuery
	}{
		{"PageFirst", store.ArchiveQuery{Max: 50}},
		{"PageAfterMiddle", store.ArchiveQuery{Max: 50, AfterID: fmt.Sprintf("alice@x-%06d", n/2)}},
		{"PageLastBackward", store.ArchiveQuery{Max: 50, Backward: true}},
		{"PagePeerBackward", store.ArchiveQuery{Max: 50, Backward: true, With: "peer7@x"}},
	} {
		b.Run(q.name, func(b *testing.B) {
			for b.Loop() {
				page, _, err := s.QueryArchive(ctx, "alice@x", q.q)
				if err != nil || len(page) != 50 {
					b.Fatal(len(page), err)
				}
			}
		})
	}
	b.Run("Count20k", func(b *testing.B) {
		for b.Loop() {
			if c, err := s.CountArchive(ctx, "alice@x", store.ArchiveQuery{}); err != nil || c != n {
				b.Fatal(c, err)
			}
		}
	})
}
