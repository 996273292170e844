package session

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/parley-im/parley/internal/stanza"
)

// BenchmarkHeldGroupPosts measures the heap that members' devices hold
// for the group posts they were handed and have not acknowledged yet (a
// device slow to acknowledge, or one whose connection dropped and which
// waits to resume): 256 members with stream management, 64 posts each,
// handed by Router.RouteLogged as the fan-out hands them. "posts" hands
// the posts themselves (stanza.NewPost), as the fan-out does; "copies"
// hands each member a copy made for it (stanza.For), as the fan-out did
// before session 20. held-B/post is the heap per member per post.
//
//	go test ./internal/session -run '^$' -bench HeldGroupPosts -benchtime 3x
func BenchmarkHeldGroupPosts(b *testing.B) {
	for _, mode := range []string{"posts", "copies"} {
		b.Run(mode, func(b *testing.B) { benchHeldGroupPosts(b, mode == "copies") })
	}
}

func benchHeldGroupPosts(b *testing.B, copies bool) {
	const members, posts = 256, 64
	var held float64
	for range b.N {
		r, ss, _, all := liveMembers(b, members, true)
		for _, s := range ss {
			s.sm.enabled = true
		}
		before := liveHeap()
		for p := 1; p <= posts; p++ {
			m := stanza.NewElement(stanza.NSClient, stanza.KindMessage, "from", "g@groups.example.org/alice@example.org", "type", "groupchat", "id", fmt.Sprint("p", p)).
				AddChild(&stanza.Element{Space: stanza.NSClient, Name: "body", Text: "Hello, this is a typical group message of about a hundred bytes in length, sent to everyone!"}).
				AddChild(stanza.NewElement(stanza.NSSID, "stanza-id", "id", fmt.Sprint("gid", p), "by", "g@groups.example.org"))
			post := stanza.NewPost(m, stanza.NewElement(stanza.NSSID, "stanza-id", "id", fmt.Sprint("gid", p), "by", ""))
			for i := range all {
				msg := post
				if copies {
					msg = stanza.For(post, all[i].To.String())
				}
				all[i].Msgs, all[i].Seqs = []*stanza.Element{msg}, []uint64{uint64(p)}
			}
			if serr := r.RouteLogged(context.Background(), testLog, all); serr != nil {
				b.Fatal(serr)
			}
		}
		waitWritten(b, ss, posts)
		held += float64(liveHeap()-before) / (members * posts)
	}
	b.ReportMetric(held/float64(b.N), "held-B/post")
}

// waitWritten waits until each session holds posts unacknowledged
// stanzas, and fails if one holds more.
func waitWritten(b *testing.B, ss []*Session, posts int) {
	deadline := time.Now().Add(30 * time.Second)
	for _, s := range ss {
		for {
			s.mu.Lock()
			n := len(s.sm.unacked)
			s.mu.Unlock()
			if n > posts {
				b.Fatalf("%s holds %d unacknowledged stanzas, want %d", s.JID(), n, posts)
			}
			if n == posts {
				break
			}
			if time.Now().After(deadline) {
				b.Fatalf("%s wrote %d of %d posts", s.JID(), n, posts)
			}
			time.Sleep(time.Millisecond)
		}
	}
}

// liveHeap is the live heap after a collection.
func liveHeap() int64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}
