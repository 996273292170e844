package session

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"testing"
	"time"

	"github.com/parley-im/parley/internal/jid"
	"github.com/parley-im/parley/internal/router"
	"github.com/parley-im/parley/internal/stanza"
	"github.com/parley-im/parley/internal/store/pebble"
	"github.com/parley-im/parley/internal/wire/xmlstream"
)

// discardTransport encodes what it is given and throws it away.
type discardTransport struct{}

func (discardTransport) AppendElement(dst []byte, e *stanza.Element) []byte {
	return xmlstream.AppendElement(dst, e, stanza.NSClient)
}
func (discardTransport) AppendClose(dst []byte, _ *stanza.StreamError) []byte { return dst }
func (discardTransport) Write([]byte) error                                   { return nil }
func (discardTransport) Close() error                                         { return nil }

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
	st, err := pebble.Open(b.TempDir(), pebble.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = st.Close() })
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	var held float64
	for range b.N {
		reg := router.NewRegistry()
		r := router.New(router.Config{Domain: "example.org", Registry: reg, Queue: st, Codec: testXMLCodec{}, Users: everyUser{}, Log: logger})
		cfg := &Config{Domain: "example.org", Queue: st, Codec: testXMLCodec{}, Now: time.Now, MailboxSize: 4 * posts, Logs: r, Log: logger}
		ss := make([]*Session, members)
		for i := range ss {
			s := New(context.Background(), cfg, nil, jid.MustParse(fmt.Sprintf("m%03d@example.org/phone", i)), discardTransport{})
			s.state, s.initialDone, s.sm.enabled = stateActive, true, true
			s.available.Store(true)
			reg.Add(s)
			ss[i] = s
		}
		before := liveHeap()
		for p := 1; p <= posts; p++ {
			m := stanza.NewElement(stanza.NSClient, stanza.KindMessage, "from", "g@groups.example.org/alice@example.org", "type", "groupchat", "id", fmt.Sprint("p", p)).
				AddChild(&stanza.Element{Space: stanza.NSClient, Name: "body", Text: "Hello, this is a typical group message of about a hundred bytes in length, sent to everyone!"}).
				AddChild(stanza.NewElement(stanza.NSSID, "stanza-id", "id", fmt.Sprint("gid", p), "by", "g@groups.example.org"))
			post := stanza.NewPost(m, stanza.NewElement(stanza.NSSID, "stanza-id", "id", fmt.Sprint("gid", p), "by", ""))
			all := make([]router.Stored, members)
			for i, s := range ss {
				to := s.JID().Bare()
				msg := post
				if copies {
					msg = stanza.For(post, to.String())
				}
				all[i] = router.Stored{To: to, Msgs: []*stanza.Element{msg}, Seqs: []uint64{uint64(p)}}
			}
			if serr := r.RouteLogged(context.Background(), testLog, all); serr != nil {
				b.Fatal(serr)
			}
		}
		waitWritten(b, ss, posts)
		held += float64(liveHeap()-before) / (members * posts)
		for _, s := range ss {
			s.mu.Lock()
			if len(s.sm.unacked) != posts {
				b.Fatalf("%s holds %d unacknowledged stanzas, want %d", s.JID(), len(s.sm.unacked), posts)
			}
			s.mu.Unlock()
		}
	}
	b.ReportMetric(held/float64(b.N), "held-B/post")
}

// waitWritten waits until each session wrote posts stanzas.
func waitWritten(b *testing.B, ss []*Session, posts int) {
	deadline := time.Now().Add(30 * time.Second)
	for _, s := range ss {
		for {
			s.mu.Lock()
			n := len(s.sm.unacked)
			s.mu.Unlock()
			if n >= posts {
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
