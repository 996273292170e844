package router_test

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/parley-im/parley/internal/jid"
	"github.com/parley-im/parley/internal/router"
	"github.com/parley-im/parley/internal/stanza"
	"github.com/parley-im/parley/internal/store/pebble"
)

// silentDevice takes pending messages and never acknowledges them.
type silentDevice struct {
	benchDevice
	mu   sync.Mutex
	got  []*router.Pending
	sent []string // ids, in the order handed out
}

func (d *silentDevice) AcceptsPending() bool { return true }
func (d *silentDevice) DeliverPending(st *stanza.Element, p *router.Pending) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.got, d.sent = append(d.got, p), append(d.sent, st.ID())
	return true
}

// TestAPendingMessageIsStoredWhenItsWindowEndsWhoeverWaits: messages
// handed to a device that never acknowledges them are stored once their
// ack window ends, in the order they were handed out, though no sender
// waits for them (Assigned.Wait is never called: a message a feature
// routed and did not wait for). Before, a message was stored only by its
// sender's wait, with a timer per message: these stayed pending for as
// long as the device stayed connected.
func TestAPendingMessageIsStoredWhenItsWindowEndsWhoeverWaits(t *testing.T) {
	const window = 50 * time.Millisecond
	st, err := pebble.Open(t.TempDir(), pebble.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	reg := router.NewRegistry()
	bob := &silentDevice{benchDevice: benchDevice{full: jid.MustParse("bob@localhost/phone")}}
	reg.Add(bob)
	r := router.New(router.Config{Domain: "localhost", Registry: reg, Queue: st, Codec: xmlCodec{}, Users: allUsers{},
		AckWindow: window, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})

	const n = 20
	for i := range n {
		ctx, a := router.WithAssigned(context.Background())
		a.Defer = true
		m := stanza.NewElement(stanza.NSClient, "message", "from", "alice@localhost/phone", "to", "bob@localhost",
			"type", "chat", "id", string(rune('a'+i)))
		body := stanza.NewElement(stanza.NSClient, "body")
		body.Text = "hi"
		m.AddChild(body)
		if serr := r.Route(ctx, m); serr != nil {
			t.Fatal(serr)
		}
		if a.Wait == nil {
			t.Fatalf("message %d was not pending (stored before delivery)", i)
		}
	}
	deadline := time.Now().Add(10 * window)
	for r.Pending().Stored() < n && time.Now().Before(deadline) {
		time.Sleep(window / 10)
	}
	if got := r.Pending().Stored(); got != n {
		t.Fatalf("%d of %d unacknowledged messages stored %v after their windows began, want all", got, n, 10*window)
	}
	queued, err := st.ReadQueue(context.Background(), router.QueueKey(jid.MustParse("bob@localhost")), 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	bob.mu.Lock()
	defer bob.mu.Unlock()
	if len(queued) != n {
		t.Fatalf("%d messages in bob's queue, want %d", len(queued), n)
	}
	for i, q := range queued {
		m, err := xmlCodec{}.Decode(q.Payload)
		if err != nil {
			t.Fatal(err)
		}
		if m.ID() != bob.sent[i] {
			t.Errorf("queue position %d holds %q, want %q (the order handed out)", i, m.ID(), bob.sent[i])
		}
		if seq := bob.got[i].StoredSeq(); seq != q.Seq {
			t.Errorf("message %q: StoredSeq %d, queue position %d", m.ID(), seq, q.Seq)
		}
	}
}
