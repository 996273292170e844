package router_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/parley-im/parley/internal/jid"
	"github.com/parley-im/parley/internal/router"
	"github.com/parley-im/parley/internal/stanza"
	"github.com/parley-im/parley/internal/store"
	"github.com/parley-im/parley/internal/store/pebble"
)

const logKey = "groups.localhost"

// logDevice records what it is handed, with the key it came with.
type logDevice struct {
	benchDevice
	off     atomic.Bool // not available
	discard bool        // record nothing (benchmarks)
	mu      sync.Mutex
	handed  []string // body@key
}

func (d *logDevice) Available() bool { return !d.off.Load() }
func (d *logDevice) Deliver(m *stanza.Element, key string, _ uint64) bool {
	if d.discard {
		return true
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.handed = append(d.handed, m.Body()+"@"+key)
	return true
}
func (d *logDevice) got() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.handed)
}

func logRouter(t testing.TB, devs ...*logDevice) (*router.Router, store.Store) {
	return logRouterWith(t, nil, devs...)
}

// logRouterWith is logRouter with the route filter filter (nil: none).
func logRouterWith(t testing.TB, filter func(context.Context, *stanza.Element, jid.JID) (bool, *stanza.Error), devs ...*logDevice) (*router.Router, store.Store) {
	st, err := pebble.Open(t.TempDir(), pebble.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	reg := router.NewRegistry()
	for _, d := range devs {
		reg.Add(d)
	}
	return router.New(router.Config{Domain: "localhost", Registry: reg, Queue: st, Codec: xmlCodec{}, Users: allUsers{},
		Filter: filter, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}), st
}

func newLogDevice(full string) *logDevice {
	return &logDevice{benchDevice: benchDevice{full: jid.MustParse(full)}}
}

// routeLogged routes post seq (body "p<seq>") of the log to bob.
func routeLogged(t *testing.T, r *router.Router, seqs ...uint64) {
	t.Helper()
	var msgs []*stanza.Element
	for _, seq := range seqs {
		m := stanza.NewElement(stanza.NSClient, "message", "from", "g@groups.localhost/alice@localhost", "type", "groupchat", "to", "bob@localhost")
		b := stanza.NewElement(stanza.NSClient, "body")
		b.Text = fmt.Sprintf("p%d", seq)
		msgs = append(msgs, m.AddChild(b))
	}
	if serr := r.RouteLogged(context.Background(), logKey, []router.Stored{{To: jid.MustParse("bob@localhost"), Msgs: msgs, Seqs: seqs}}); serr != nil {
		t.Fatal(serr)
	}
}

// queued returns the bodies in bob's queue, in order.
func queued(t *testing.T, st store.Store) []string {
	t.Helper()
	var out []string
	for _, p := range queuedCopies(t, st) {
		m, err := xmlCodec{}.Decode([]byte(p))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, m.Body())
	}
	return out
}

func lowWater(r *router.Router) string {
	seq, ok := r.LogLowWater(logKey)
	if !ok {
		return "none"
	}
	return fmt.Sprint(seq)
}

// A live device is handed log positions, no queue copy; its acks move the
// low-water mark without a store write.
func TestRouteLoggedHandsLivePositionsWithoutAQueueCopy(t *testing.T) {
	phone := newLogDevice("bob@localhost/phone")
	r, st := logRouter(t, phone)
	routeLogged(t, r, 1, 2)
	if got, want := phone.got(), []string{"p1@" + logKey, "p2@" + logKey}; !slices.Equal(got, want) {
		t.Fatalf("handed %q, want %q", got, want)
	}
	if q := queued(t, st); len(q) != 0 {
		t.Fatalf("queue holds %q, want nothing", q)
	}
	if lw := lowWater(r); lw != "1" {
		t.Fatalf("low-water mark %s, want 1", lw)
	}
	r.LogAcked(phone, logKey, []uint64{1})
	if lw := lowWater(r); lw != "2" {
		t.Fatalf("after the ack of 1: low-water mark %s, want 2", lw)
	}
	r.LogAcked(phone, logKey, []uint64{2})
	if lw := lowWater(r); lw != "none" {
		t.Fatalf("after the ack of 2: low-water mark %s, want none", lw)
	}
}

// A position its device released reaches the queue before the user's later
// posts, which then go through the queue too; a second device keeps a
// position held until it releases it too.
func TestRouteLoggedQueuesReleasedPositionsFirst(t *testing.T) {
	phone, laptop := newLogDevice("bob@localhost/phone"), newLogDevice("bob@localhost/laptop")
	r, st := logRouter(t, phone, laptop)
	woken := 0
	r.OnLogReleased(logKey, func() { woken++ })
	routeLogged(t, r, 1)
	r.LogReleased(phone, logKey, []uint64{1})
	if woken != 0 || lowWater(r) != "1" {
		t.Fatalf("released by one of two devices: woken %d, low-water %s; want 0, 1", woken, lowWater(r))
	}
	r.LogReleased(laptop, logKey, []uint64{1})
	if woken != 1 {
		t.Fatalf("released by both devices: woken %d times, want 1", woken)
	}
	phone.off.Store(true)
	laptop.off.Store(true)
	routeLogged(t, r, 2) // no live device: through the queue, after 1
	if q := queued(t, st); !slices.Equal(q, []string{"p1", "p2"}) {
		t.Fatalf("queue holds %q, want [p1 p2]", q)
	}
	if lw := lowWater(r); lw != "none" {
		t.Fatalf("low-water mark %s, want none (all queued)", lw)
	}
}

// A user with a released position gets its next posts through the queue
// even with a live device: the released one first; the live device is
// handed the released post (it never had it) with its queue position.
func TestRouteLoggedKeepsOrderBehindAReleasedPosition(t *testing.T) {
	phone, laptop := newLogDevice("bob@localhost/phone"), newLogDevice("bob@localhost/laptop")
	laptop.off.Store(true)
	r, st := logRouter(t, phone, laptop)
	routeLogged(t, r, 1) // phone only
	r.LogReleased(phone, logKey, []uint64{1})
	phone.off.Store(true)
	laptop.off.Store(false)
	routeLogged(t, r, 2)
	if q := queued(t, st); !slices.Equal(q, []string{"p1", "p2"}) {
		t.Fatalf("queue holds %q, want [p1 p2]", q)
	}
	if got, want := laptop.got(), []string{"p1@bob@localhost", "p2@bob@localhost"}; !slices.Equal(got, want) {
		t.Fatalf("laptop handed %q, want %q", got, want)
	}
}

// A position written to the queue while its device still held it (the
// device went unavailable, then the next post came) is erased from the
// queue when the device acknowledges it; a handoff's LogToQueue returns
// queue positions.
func TestLogAckedErasesTheQueueCopyOfAHeldPosition(t *testing.T) {
	phone := newLogDevice("bob@localhost/phone")
	r, st := logRouter(t, phone)
	routeLogged(t, r, 1, 2)
	phone.off.Store(true)
	routeLogged(t, r, 3)
	if q := queued(t, st); !slices.Equal(q, []string{"p1", "p2", "p3"}) {
		t.Fatalf("queue holds %q, want [p1 p2 p3]", q)
	}
	if got := phone.got(); len(got) != 2 {
		t.Fatalf("phone handed %q, want p1 and p2 only (it was unavailable for p3)", got)
	}
	erase := r.LogAcked(phone, logKey, []uint64{1})
	if len(erase) != 1 {
		t.Fatalf("ack of a queued position: erase %v, want one queue position", erase)
	}
	qs, err := r.LogToQueue(context.Background(), phone, logKey, []uint64{2})
	if err != nil || len(qs) != 1 || qs[0] != erase[0]+1 {
		t.Fatalf("LogToQueue: %v %v, want [%d]", qs, err, erase[0]+1)
	}
	if lw := lowWater(r); lw != "none" {
		t.Fatalf("low-water mark %s, want none", lw)
	}
}

// logRouterFiltered is logRouter with a route filter that stops the
// messages whose body is in blocked.
func logRouterFiltered(t *testing.T, blocked []string, devs ...*logDevice) *router.Router {
	r, _ := logRouterWith(t, func(_ context.Context, m *stanza.Element, _ jid.JID) (bool, *stanza.Error) {
		return !slices.Contains(blocked, m.Body()), nil
	}, devs...)
	return r
}

// A message the route filter stops is neither handed nor tracked; the
// others keep their log positions.
func TestRouteLoggedHandsOnlyWhatTheFilterLetsThrough(t *testing.T) {
	phone := newLogDevice("bob@localhost/phone")
	r := logRouterFiltered(t, []string{"p2", "p4"}, phone)
	routeLogged(t, r, 1, 2, 3, 4, 5)
	if got, want := phone.got(), []string{"p1@" + logKey, "p3@" + logKey, "p5@" + logKey}; !slices.Equal(got, want) {
		t.Fatalf("handed %q, want %q", got, want)
	}
	r.LogAcked(phone, logKey, []uint64{1, 3})
	if lw := lowWater(r); lw != "5" {
		t.Fatalf("after the acks of 1 and 3: low-water mark %s, want 5", lw)
	}
}

// A route filter that lets every message through costs RouteLogged no
// allocation per member of a wave (it used to copy each member's
// messages and positions: two per member).
func TestRouteLoggedWithAPassingFilterAllocatesNothingMore(t *testing.T) {
	const members = 64
	devs := make([]*logDevice, members)
	for i := range devs {
		devs[i] = newLogDevice(fmt.Sprintf("m%02d@localhost/phone", i))
	}
	plain, _ := logRouter(t, devs...)
	filtered := logRouterFiltered(t, nil, devs...)
	m := stanza.NewElement(stanza.NSClient, "message", "from", "g@groups.localhost/alice@localhost", "type", "groupchat")
	all := make([]router.Stored, members)
	msgs, seqs := []*stanza.Element{m, m}, []uint64{1, 2}
	for i, d := range devs {
		all[i] = router.Stored{To: d.full.Bare(), Msgs: msgs, Seqs: seqs}
	}
	wave := func(r *router.Router) func() {
		return func() {
			if serr := r.RouteLogged(context.Background(), logKey, all); serr != nil {
				t.Fatal(serr)
			}
			for _, d := range devs {
				r.LogAcked(d, logKey, seqs)
				d.mu.Lock()
				d.handed = d.handed[:0]
				d.mu.Unlock()
			}
		}
	}
	base := testing.AllocsPerRun(20, wave(plain))
	got := testing.AllocsPerRun(20, wave(filtered))
	// The members' records grow in pooled arrays (slicepool), which a
	// collection, or the race detector at random, may drop: a few
	// allocations more either way. A filter that copied each member's
	// messages would add one or more per member.
	t.Logf("a wave to %d members: %.0f allocations with a filter, %.0f without", members, got, base)
	if got >= base+members/4 {
		t.Fatalf("a wave to %d members allocates %.0f times with a filter, %.0f without", members, got, base)
	}
}

// A device acknowledging a long backlog at once (a member whose writes
// fell behind, then an <a/> covering them all) settles it in one pass
// over the user's positions: removing each acknowledged position on its
// own moved every later one, so that acking n positions cost n²/2 moves
// (for the 131,072 here about 4·10⁸ KB copied, which took minutes where
// this takes milliseconds). Acks out of order or repeated still settle
// exactly the positions named.
func TestLogAckedSettlesALongBacklogInOnePass(t *testing.T) {
	const n = 1 << 17
	phone := newLogDevice("bob@localhost/phone")
	r, _ := logRouter(t, phone)
	m := stanza.NewElement(stanza.NSClient, "message", "from", "g@groups.localhost/alice@localhost", "type", "groupchat")
	msgs, seqs := make([]*stanza.Element, n), make([]uint64, n)
	for i := range msgs {
		msgs[i], seqs[i] = m, uint64(i+1)
	}
	if serr := r.RouteLogged(context.Background(), logKey, []router.Stored{{To: jid.MustParse("bob@localhost"), Msgs: msgs, Seqs: seqs}}); serr != nil {
		t.Fatal(serr)
	}
	r.LogAcked(phone, logKey, seqs[:n-3])
	if lw := lowWater(r); lw != fmt.Sprint(n-2) {
		t.Fatalf("after the acks of 1 to %d: low-water mark %s, want %d", n-3, lw, n-2)
	}
	r.LogAcked(phone, logKey, []uint64{n, n - 2, n})
	if lw := lowWater(r); lw != fmt.Sprint(n-1) {
		t.Fatalf("after the acks of %d and %d: low-water mark %s, want %d", n, n-2, lw, n-1)
	}
	r.LogAcked(phone, logKey, []uint64{n - 1})
	if lw := lowWater(r); lw != "none" {
		t.Fatalf("after every ack: low-water mark %s, want none", lw)
	}
}

// BenchmarkRouteLoggedToAMemberWithABacklog: one wave of one post to a
// member whose device holds backlog positions it has not acknowledged (a
// device slow to acknowledge, or a busy group between two acks). Each
// wave asks whether one of the member's positions is held by nobody: a
// count, not a scan of the backlog, so the cost does not grow with it.
//
//	go test ./internal/router -run '^$' -bench RouteLoggedToAMemberWithABacklog -benchtime 20000x
func BenchmarkRouteLoggedToAMemberWithABacklog(b *testing.B) {
	for _, backlog := range []int{0, 1000, 4000} {
		b.Run(fmt.Sprintf("backlog=%d", backlog), func(b *testing.B) {
			phone := newLogDevice("bob@localhost/phone")
			phone.discard = true
			r, _ := logRouter(b, phone)
			bob := jid.MustParse("bob@localhost")
			m := stanza.NewElement(stanza.NSClient, "message", "from", "g@groups.localhost/alice@localhost", "type", "groupchat")
			if backlog > 0 {
				msgs, seqs := make([]*stanza.Element, backlog), make([]uint64, backlog)
				for i := range msgs {
					msgs[i], seqs[i] = m, uint64(i+1)
				}
				if serr := r.RouteLogged(context.Background(), logKey, []router.Stored{{To: bob, Msgs: msgs, Seqs: seqs}}); serr != nil {
					b.Fatal(serr)
				}
			}
			wave := []router.Stored{{To: bob, Msgs: []*stanza.Element{m}, Seqs: []uint64{0}}}
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				wave[0].Seqs[0] = uint64(backlog + 1 + i)
				if serr := r.RouteLogged(context.Background(), logKey, wave); serr != nil {
					b.Fatal(serr)
				}
			}
		})
	}
}

// postsFor are posts (stanza.NewPost) of the log with bodies p<seq>, as
// the groups' fan-out hands them: each user's copy is made from one.
func postsFor(seqs ...uint64) []*stanza.Element {
	var out []*stanza.Element
	for _, seq := range seqs {
		m := stanza.NewElement(stanza.NSClient, "message", "from", "g@groups.localhost/alice@localhost", "type", "groupchat")
		b := stanza.NewElement(stanza.NSClient, "body")
		b.Text = fmt.Sprintf("p%d", seq)
		own := stanza.NewElement(stanza.NSSID, "stanza-id", "id", fmt.Sprint("g", seq), "by", "")
		out = append(out, stanza.NewPost(m.AddChild(b), own))
	}
	return out
}

// queuedCopies returns the payloads in bob's queue, in order.
func queuedCopies(t *testing.T, st store.Store) []string {
	t.Helper()
	qs, err := st.ReadQueue(context.Background(), "bob@localhost", 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, q := range qs {
		out = append(out, string(q.Payload))
	}
	return out
}

// bobsCopy is bob's copy of post seq, encoded.
func bobsCopy(seq uint64) string {
	return fmt.Sprintf(`<message from="g@groups.localhost/alice@localhost" type="groupchat" to="bob@localhost">`+
		`<body>p%d</body><stanza-id xmlns="urn:xmpp:sid:0" id="g%d" by="bob@localhost"/></message>`, seq, seq)
}

// A live device is handed the posts themselves (its session encodes its
// copy), and the router's record keeps them; whatever reaches the user's
// queue is the user's copy: a post its device released, a post for a
// user with no live device, and one routed through RouteStoredAll.
func TestPostsReachTheQueueAsTheUsersCopies(t *testing.T) {
	phone := newLogDevice("bob@localhost/phone")
	var handed []*stanza.Element
	r, st := logRouterWith(t, func(_ context.Context, m *stanza.Element, _ jid.JID) (bool, *stanza.Error) {
		handed = append(handed, m)
		return true, nil
	}, phone)
	bob := jid.MustParse("bob@localhost")
	live := postsFor(1)
	if serr := r.RouteLogged(context.Background(), logKey, []router.Stored{{To: bob, Msgs: live, Seqs: []uint64{1}}}); serr != nil {
		t.Fatal(serr)
	}
	if len(handed) != 1 || handed[0] != live[0] {
		t.Fatalf("the filter saw %v, want the post itself", handed)
	}
	r.LogReleased(phone, logKey, []uint64{1})
	if serr := r.SettleLog(context.Background(), logKey); serr != nil {
		t.Fatal(serr)
	}
	phone.off.Store(true)
	if serr := r.RouteLogged(context.Background(), logKey, []router.Stored{{To: bob, Msgs: postsFor(2), Seqs: []uint64{2}}}); serr != nil {
		t.Fatal(serr)
	}
	if serr := r.RouteStoredAll(context.Background(), []router.Stored{{To: bob, Msgs: postsFor(3)}}); serr != nil {
		t.Fatal(serr)
	}
	want := []string{bobsCopy(1), bobsCopy(2), bobsCopy(3)}
	if got := queuedCopies(t, st); !slices.Equal(got, want) {
		t.Fatalf("bob's queue:\n%q\nwant his copies:\n%q", got, want)
	}
}

// LogAckedUnqueued settles the positions a live device was handed (no
// queue copy to erase), and leaves alone, unsettled, an ack that covers a
// position copied into the queue meanwhile: LogAcked then returns its
// queue position, as it would have without the refused call.
func TestLogAckedUnqueuedRefusesAPositionCopiedIntoTheQueue(t *testing.T) {
	phone := newLogDevice("bob@localhost/phone")
	r, st := logRouter(t, phone)
	routeLogged(t, r, 1, 2)
	if !r.LogAckedUnqueued(phone, logKey, []uint64{1}) {
		t.Fatal("the ack of a position handed live was refused")
	}
	if lw := lowWater(r); lw != "2" {
		t.Fatalf("low-water mark %s after acking 1, want 2", lw)
	}
	phone.off.Store(true)
	routeLogged(t, r, 3) // position 2, still held, is copied into the queue before 3
	if q := queued(t, st); !slices.Equal(q, []string{"p2", "p3"}) {
		t.Fatalf("queue holds %q, want [p2 p3]", q)
	}
	if r.LogAckedUnqueued(phone, logKey, []uint64{2}) {
		t.Fatal("settled the ack of a position copied into the queue")
	}
	if erase := r.LogAcked(phone, logKey, []uint64{2}); len(erase) != 1 {
		t.Fatalf("LogAcked after the refusal: erase %v, want position 2's queue copy", erase)
	}
	if !r.LogAckedUnqueued(phone, logKey, []uint64{2}) {
		t.Fatal("an ack of a settled position was refused")
	}
}
