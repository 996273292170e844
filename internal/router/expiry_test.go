package router_test

import (
	"context"
	"fmt"
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
// handed to devices that never acknowledge them are stored once their ack
// window ends, each user's in the order they were handed out, though no
// sender waits for them (Assigned.Wait is never called: a message a
// feature routed and did not wait for). Two rounds: the second comes
// after the first was stored (the expiry's timer armed again). Before, a
// message was stored only by its sender's wait, with a timer per message:
// these stayed pending for as long as the devices stayed connected.
func TestAPendingMessageIsStoredWhenItsWindowEndsWhoeverWaits(t *testing.T) {
	const window = 50 * time.Millisecond
	st, err := pebble.Open(t.TempDir(), pebble.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	reg := router.NewRegistry()
	devices := map[string]*silentDevice{}
	for _, user := range []string{"bob", "carol"} {
		devices[user] = &silentDevice{benchDevice: benchDevice{full: jid.MustParse(user + "@localhost/phone")}}
		reg.Add(devices[user])
	}
	r := router.New(router.Config{Domain: "localhost", Registry: reg, Queue: st, Codec: xmlCodec{}, Users: allUsers{},
		AckWindow: window, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})

	const perRound = 20
	for round := 1; round <= 2; round++ {
		for i := range perRound {
			to := []string{"bob", "carol"}[i%2]
			ctx, a := router.WithAssigned(context.Background())
			a.Defer = true
			m := stanza.NewElement(stanza.NSClient, "message", "from", "alice@localhost/phone", "to", to+"@localhost",
				"type", "chat", "id", fmt.Sprintf("r%d-%d", round, i))
			body := stanza.NewElement(stanza.NSClient, "body")
			body.Text = "hi"
			m.AddChild(body)
			if serr := r.Route(ctx, m); serr != nil {
				t.Fatal(serr)
			}
			if a.Wait == nil {
				t.Fatalf("message %s was not pending (stored before delivery)", m.ID())
			}
		}
		want := uint64(round * perRound)
		deadline := time.Now().Add(100 * window)
		for r.Pending().Stored() < want && time.Now().Before(deadline) {
			time.Sleep(window / 10)
		}
		if got := r.Pending().Stored(); got != want {
			t.Fatalf("round %d: %d of %d unacknowledged messages stored %v after their windows began, want all",
				round, got, want, 100*window)
		}
	}
	for user, d := range devices {
		queued, err := st.ReadQueue(context.Background(), router.QueueKey(jid.MustParse(user+"@localhost")), 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		d.mu.Lock()
		if len(queued) != len(d.sent) {
			t.Fatalf("%d messages in %s's queue, want the %d handed out", len(queued), user, len(d.sent))
		}
		for i, q := range queued {
			m, err := xmlCodec{}.Decode(q.Payload)
			if err != nil {
				t.Fatal(err)
			}
			if m.ID() != d.sent[i] {
				t.Errorf("%s's queue position %d holds %q, want %q (the order handed out)", user, i, m.ID(), d.sent[i])
			}
			if seq := d.got[i].StoredSeq(); seq != q.Seq {
				t.Errorf("message %q: StoredSeq %d, queue position %d", m.ID(), seq, q.Seq)
			}
		}
		d.mu.Unlock()
	}
}
