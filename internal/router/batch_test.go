package router_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"

	"github.com/parley-im/parley/internal/jid"
	"github.com/parley-im/parley/internal/router"
	"github.com/parley-im/parley/internal/stanza"
	"github.com/parley-im/parley/internal/store"
	"github.com/parley-im/parley/internal/store/pebble"
)

// recordingDevice is an available device that keeps what it is handed.
type recordingDevice struct {
	benchDevice
	got  []string // bodies, in the order handed
	seqs []uint64
}

func (d *recordingDevice) Deliver(st *stanza.Element, _ string, seq uint64) bool {
	d.got = append(d.got, st.ChildText(stanza.NSClient, "body"))
	d.seqs = append(d.seqs, seq)
	return true
}

func batchRouter(t *testing.T) (*router.Router, *router.Registry, *pebble.Store) {
	t.Helper()
	st, err := pebble.Open(t.TempDir(), pebble.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	reg := router.NewRegistry()
	r := router.New(router.Config{Domain: "localhost", Registry: reg, Queue: st, Codec: xmlCodec{}, Users: allUsers{},
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	return r, reg, st
}

func chatTo(to, body string) *stanza.Element {
	m := stanza.NewElement(stanza.NSClient, stanza.KindMessage, "to", to, "from", "alice@localhost/phone", "type", "chat")
	if body != "" {
		b := stanza.NewElement(stanza.NSClient, "body")
		b.Text = body
		m.AddChild(b)
	}
	return m
}

// routeBatched routes m as a session does, with Defer and b, and returns
// the wait its session would call.
func routeBatched(t *testing.T, r *router.Router, b *router.Batch, m *stanza.Element) router.Settlement {
	t.Helper()
	ctx, a := router.WithAssignedTo(context.Background(), &router.Assigned{Defer: true, Batch: b})
	if err := r.Route(ctx, m); err != nil {
		t.Fatalf("route: %v", err)
	}
	if a.StanzaID == "" {
		t.Fatalf("no stanza-id assigned to %v", m)
	}
	if a.Wait == nil {
		t.Fatalf("no settlement for %v", m)
	}
	return a.Wait
}

// Messages of one read to users with no device online are stored by one
// write at Commit, in order, each recipient's in its own queue; none is
// visible before Commit, and their waits fail (never acknowledged) until
// Commit ran.
func TestBatchStoresAReadsMessagesWithOneWrite(t *testing.T) {
	r, _, st := batchRouter(t)
	b := r.NewBatch()
	var waits []router.Settlement
	for i := range 10 {
		to := []string{"bob@localhost", "carol@localhost"}[i%2]
		waits = append(waits, routeBatched(t, r, b, chatTo(to, fmt.Sprint(i))))
	}
	if n, _ := st.QueueLen(context.Background(), "bob@localhost"); n != 0 || b.Len() != 10 {
		t.Fatalf("before Commit: bob's queue holds %d, the batch %d; want 0 and 10", n, b.Len())
	}
	if waits[0].Settle() == nil {
		t.Fatal("a batched message's wait returned nil before Commit: it would be acknowledged unstored")
	}
	before := st.QueueWrites()
	b.Commit(context.Background())
	if w := st.QueueWrites() - before; w != 1 {
		t.Fatalf("%d queue writes for one read's 10 messages, want 1", w)
	}
	for _, w := range waits {
		if err := w.Settle(); err != nil {
			t.Fatalf("wait after Commit: %v", err)
		}
	}
	for _, c := range []struct {
		key  string
		want []string
	}{{"bob@localhost", []string{"0", "2", "4", "6", "8"}}, {"carol@localhost", []string{"1", "3", "5", "7", "9"}}} {
		q, err := st.ReadQueue(context.Background(), c.key, 0, 0)
		if err != nil || len(q) != len(c.want) {
			t.Fatalf("%s's queue: %d stanzas (%v), want %d", c.key, len(q), err, len(c.want))
		}
		for i, qs := range q {
			m, err := xmlCodec{}.Decode(qs.Payload)
			if err != nil || m.ChildText(stanza.NSClient, "body") != c.want[i] {
				t.Fatalf("%s's queue[%d] = %v (%v), want body %s", c.key, i, m, err, c.want[i])
			}
		}
	}
}

// A device that comes online between a message's batching and Commit is
// handed it by Commit, with its queue seq (its drain read the queue
// without it); a later message to it in the same read joins the batch
// (so it cannot overtake the batched one), and a message that is not
// stored (a chat state) commits the batch before it is handed over.
func TestBatchKeepsOrderWhenTheRecipientComesOnline(t *testing.T) {
	r, reg, st := batchRouter(t)
	b := r.NewBatch()
	routeBatched(t, r, b, chatTo("bob@localhost", "first"))
	bob := &recordingDevice{benchDevice: benchDevice{full: jid.MustParse("bob@localhost/phone")}}
	reg.Add(bob)
	routeBatched(t, r, b, chatTo("bob@localhost", "second"))
	if len(bob.got) != 0 || b.Len() != 2 {
		t.Fatalf("bob was handed %v and the batch holds %d before Commit; want nothing and 2", bob.got, b.Len())
	}
	state := chatTo("bob@localhost", "")
	state.AddChild(stanza.NewElement(stanza.NSChatStates, "composing"))
	ctx, _ := router.WithAssignedTo(context.Background(), &router.Assigned{Defer: true, Batch: b})
	if err := r.Route(ctx, state); err != nil {
		t.Fatal(err)
	}
	if want := []string{"first", "second", ""}; fmt.Sprint(bob.got) != fmt.Sprint(want) {
		t.Fatalf("bob was handed %q, want %q (the batched ones first)", bob.got, want)
	}
	q, err := st.ReadQueue(context.Background(), "bob@localhost", 0, 0)
	if err != nil || len(q) != 2 || q[0].Seq != bob.seqs[0] || q[1].Seq != bob.seqs[1] || bob.seqs[2] != 0 {
		t.Fatalf("queue %v (%v), handed seqs %v: want the two stored with the seqs bob got", q, err, bob.seqs)
	}
	// Bob is online now: the next read's message to him is not batched.
	routeBatched(t, r, b, chatTo("bob@localhost", "third"))
	if b.Len() != 0 || len(bob.got) != 4 {
		t.Fatalf("a message to an online user: batch %d, bob handed %q; want 0 and the message", b.Len(), bob.got)
	}
}

// A message to a full JID that is not connected goes to all of the user's
// available devices (RFC 6121 8.5.3.2.1, as Route does unbatched): batched
// for an offline user, it still does when that resource and another one
// come online before Commit; one to a connected resource, batched behind
// an earlier message to the same user, goes to that device alone.
func TestBatchKeepsRoutesChoiceOfDevices(t *testing.T) {
	r, reg, _ := batchRouter(t)
	b := r.NewBatch()
	routeBatched(t, r, b, chatTo("bob@localhost/laptop", "to the laptop, offline"))
	laptop := &recordingDevice{benchDevice: benchDevice{full: jid.MustParse("bob@localhost/laptop")}}
	phone := &recordingDevice{benchDevice: benchDevice{full: jid.MustParse("bob@localhost/phone")}}
	reg.Add(laptop)
	reg.Add(phone)
	routeBatched(t, r, b, chatTo("bob@localhost/phone", "to the phone, online"))
	b.Commit(context.Background())
	if fmt.Sprint(laptop.got) != "[to the laptop, offline]" || fmt.Sprint(phone.got) != "[to the laptop, offline to the phone, online]" {
		t.Fatalf("laptop got %q, phone got %q: want the first on both, the second on the phone only", laptop.got, phone.got)
	}
}

// encodeOnly is xmlCodec without AppendEncoded: each payload its own
// allocation.
type encodeOnly struct{ xmlCodec }

func (encodeOnly) AppendEncoded() {} // hides xmlCodec's: not a router.AppendCodec

// A read's batched messages are encoded into the batch's one buffer, which
// the next read reuses (the queue copies payloads into its write): with an
// AppendCodec a message costs at least one allocation fewer than with a
// codec that returns a new slice each time, and every read's messages are
// stored as they were, in order.
func TestBatchEncodesReadsIntoOneReusedBuffer(t *testing.T) {
	const perRead = 10
	allocsPerMessage := func(r *router.Router, st queueReader) float64 {
		b := r.NewBatch()
		sent := 0
		read := func() {
			for range perRead {
				routeBatched(t, r, b, chatTo("bob@localhost", fmt.Sprint(sent)))
				sent++
			}
			b.Commit(context.Background())
		}
		read() // the batch's arrays and buffer grow here
		n := testing.AllocsPerRun(20, read) / perRead
		q, err := st.ReadQueue(context.Background(), "bob@localhost", 0, 0)
		if err != nil || len(q) != sent {
			t.Fatalf("bob's queue: %d stanzas (%v), want %d", len(q), err, sent)
		}
		for i, qs := range q {
			m, err := xmlCodec{}.Decode(qs.Payload)
			if err != nil || m.ChildText(stanza.NSClient, "body") != fmt.Sprint(i) {
				t.Fatalf("bob's queue[%d] = %s (%v), want body %d", i, qs.Payload, err, i)
			}
		}
		return n
	}
	r, _, st := batchRouter(t)
	shared := allocsPerMessage(r, st)
	st2, err := pebble.Open(t.TempDir(), pebble.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st2.Close() })
	plain := allocsPerMessage(router.New(router.Config{Domain: "localhost", Registry: router.NewRegistry(), Queue: st2,
		Codec: encodeOnly{}, Users: allUsers{}, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}), st2)
	if shared > plain-1 {
		t.Fatalf("%.1f allocations per batched message with an AppendCodec, %.1f without: want at least 1 fewer", shared, plain)
	}
}

type queueReader interface {
	ReadQueue(ctx context.Context, key string, after uint64, limit int) ([]store.QueuedStanza, error)
}
