package session

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/parley-im/parley/internal/jid"
	"github.com/parley-im/parley/internal/router"
	"github.com/parley-im/parley/internal/stanza"
	"github.com/parley-im/parley/internal/store/pebble"
)

const testLog = "groups.example.org"

// everyUser is a router.Users for which every account exists.
type everyUser struct{}

func (everyUser) UserExists(context.Context, jid.JID) (bool, error) { return true, nil }

// loggedSession is bob's active session, without stream management,
// registered with a router over a fresh store; its mailbox is marked
// running so that the test runs it (s.run) when it chooses.
func loggedSession(t *testing.T, mailboxSize int) (*Session, *router.Router, *bytes.Buffer) {
	t.Helper()
	st, err := pebble.Open(t.TempDir(), pebble.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	reg := router.NewRegistry()
	r := router.New(router.Config{Domain: "example.org", Registry: reg, Queue: st, Codec: testXMLCodec{}, Users: everyUser{}, Log: logger})
	var wire bytes.Buffer
	cfg := &Config{Domain: "example.org", Queue: st, Codec: testXMLCodec{}, Now: time.Now, MailboxSize: mailboxSize, Logs: r, Log: logger}
	s := New(context.Background(), cfg, nil, jid.MustParse("bob@example.org/phone"), &recordingTransport{w: &wire})
	s.state, s.initialDone = stateActive, true
	s.available.Store(true)
	reg.Add(s)
	s.mbMu.Lock()
	s.mb.running = true
	s.mbMu.Unlock()
	return s, r, &wire
}

// wave is n group posts to bob (bodies p1 to pn) at log positions 1 to n.
func wave(n int) router.Stored {
	w := router.Stored{To: jid.MustParse("bob@example.org")}
	for i := 1; i <= n; i++ {
		m := stanza.NewElement(stanza.NSClient, stanza.KindMessage, "from", "g@groups.example.org/alice@example.org", "type", "groupchat", "to", "bob@example.org").
			AddChild(&stanza.Element{Space: stanza.NSClient, Name: "body", Text: fmt.Sprintf("p%d", i)})
		w.Msgs, w.Seqs = append(w.Msgs, m), append(w.Seqs, uint64(i))
	}
	return w
}

// TestAWaveToALiveMemberIsOneMailboxItem: the fan-out hands a live
// member's device its copies of a wave with one push (DeliverLog), not
// one per copy (each push took the mailbox lock and grew its slice: a
// wave of 64 copies was 64 items); the device writes them in order and
// its write acknowledges every position. Fails before: 64 items.
func TestAWaveToALiveMemberIsOneMailboxItem(t *testing.T) {
	s, r, wire := loggedSession(t, 1024)
	if serr := r.RouteLogged(context.Background(), testLog, []router.Stored{wave(64)}); serr != nil {
		t.Fatal(serr)
	}
	s.mbMu.Lock()
	items := len(s.mb.items)
	s.mbMu.Unlock()
	if items != 1 {
		t.Fatalf("a wave of 64 copies is %d mailbox items, want 1", items)
	}
	s.run()
	out := wire.String()
	last := -1
	for i := 1; i <= 64; i++ {
		at := strings.Index(out, fmt.Sprintf(">p%d<", i))
		if at < last {
			t.Fatalf("p%d missing or out of order in:\n%s", i, out)
		}
		last = at
	}
	if seq, ok := r.LogLowWater(testLog); ok {
		t.Fatalf("after the write: low-water mark %d, want none (every position acknowledged)", seq)
	}
}

// TestMailboxLimitCountsAWavesCopies: a wave's copies count one each
// against the mailbox's limit, as they did as items of their own, so
// that a device not reading is still disconnected after as many
// stanzas; the wave that overflows is refused whole and its positions go
// back to the router.
func TestMailboxLimitCountsAWavesCopies(t *testing.T) {
	s, r, _ := loggedSession(t, 16)
	first := wave(16)
	if !s.DeliverLog(first.Msgs, testLog, first.Seqs) {
		t.Fatal("the first wave was refused")
	}
	if s.Deliver(first.Msgs[0], "", 0) {
		t.Fatal("a stanza after a wave of 16 copies was taken by a mailbox of 16")
	}
	s.mbMu.Lock()
	closed := s.mb.closed
	s.mbMu.Unlock()
	if !closed {
		t.Fatal("the mailbox did not overflow")
	}
	if serr := r.RouteLogged(context.Background(), testLog, []router.Stored{wave(2)}); serr != nil {
		t.Fatal(serr)
	}
	if serr := r.SettleLog(context.Background(), testLog); serr != nil {
		t.Fatal(serr)
	}
	if seq, ok := r.LogLowWater(testLog); ok {
		t.Fatalf("low-water mark %d, want none: the refused wave's positions go to the queue", seq)
	}
}

// postRange is group posts from to to (stanza.NewPost, bodies p<from>
// to p<to>) at log positions from to to, for bob: the fan-out hands a
// member the posts, not copies.
func postRange(from, to int) router.Stored {
	w := router.Stored{To: jid.MustParse("bob@example.org")}
	for i := from; i <= to; i++ {
		m := stanza.NewElement(stanza.NSClient, stanza.KindMessage, "from", "g@groups.example.org/alice@example.org", "type", "groupchat").
			AddChild(&stanza.Element{Space: stanza.NSClient, Name: "body", Text: fmt.Sprintf("p%d", i)})
		own := stanza.NewElement(stanza.NSSID, "stanza-id", "id", fmt.Sprintf("g%d", i), "by", "")
		w.Msgs, w.Seqs = append(w.Msgs, stanza.NewPost(m, own)), append(w.Seqs, uint64(i))
	}
	return w
}

// routePosts hands bob posts from to to (postRange) as the fan-out does.
func routePosts(t *testing.T, r *router.Router, from, to int) {
	t.Helper()
	if serr := r.RouteLogged(context.Background(), testLog, []router.Stored{postRange(from, to)}); serr != nil {
		t.Fatal(serr)
	}
}

// TestAPostIsWrittenAsTheDevicesCopyAndKeptAsThePost: a session handed
// posts writes its device's copy of each (to bob, with a stanza-id by
// bob) and keeps the post, not a copy, until the device acknowledges it.
// Re-sent after a resumption, a post is the same bytes; released
// unacknowledged, it reaches bob's queue as bob's copy.
func TestAPostIsWrittenAsTheDevicesCopyAndKeptAsThePost(t *testing.T) {
	s, r, wire := loggedSession(t, 1024)
	s.sm.enabled = true
	routePosts(t, r, 1, 2)
	s.run()
	// want is bob's copy of post i.
	want := func(i int) string {
		return fmt.Sprintf(`<message from="g@groups.example.org/alice@example.org" type="groupchat" to="bob@example.org">`+
			`<body>p%d</body><stanza-id xmlns="urn:xmpp:sid:0" id="g%d" by="bob@example.org"/></message>`, i, i)
	}
	if got := wire.String(); !strings.HasPrefix(got, want(1)+want(2)+"<r ") {
		t.Fatalf("written:\n%s\nwant bob's copies, then an ack request:\n%s", got, want(1)+want(2))
	}
	s.mu.Lock()
	for i, u := range s.sm.unacked {
		if !stanza.IsPost(u.st) {
			t.Errorf("unacknowledged stanza %d is a copy, not the post: %v", i, u.st)
		}
	}
	again := string(s.appendUnackedLocked(nil, s.tr, &s.sm.unacked[1]))
	s.releaseLogLocked()
	s.mu.Unlock()
	if again != want(2) {
		t.Fatalf("re-sent:\n%s\nwant\n%s", again, want(2))
	}
	if serr := r.SettleLog(context.Background(), testLog); serr != nil {
		t.Fatal(serr)
	}
	queued, err := s.cfg.Queue.ReadQueue(context.Background(), "bob@example.org", 0, 0)
	if err != nil || len(queued) != 2 {
		t.Fatalf("bob's queue: %d stanzas (%v), want 2", len(queued), err)
	}
	for i, q := range queued {
		if got := string(q.Payload); got != want(i+1) {
			t.Fatalf("queued:\n%s\nwant bob's copy\n%s", got, want(i+1))
		}
	}
}

// TestAnAckOfLivePostsIsAbsorbed: a device's ack of group posts it was
// handed live writes nothing to the store, so the poller of parked
// connections settles it (AbsorbKeepAlive) instead of waking a goroutine
// for it: the positions are settled with the router and dropped from the
// unacknowledged list. An ack that covers a position copied into the
// account's queue meanwhile (whose copy must be erased), or positions of
// two logs, is left to the session's goroutine, unchanged.
func TestAnAckOfLivePostsIsAbsorbed(t *testing.T) {
	s, r, _ := loggedSession(t, 1024)
	s.sm.enabled = true
	routePosts(t, r, 1, 3)
	s.run()
	ack := func(h int) *stanza.Element { return stanza.NewElement(stanza.NSSM, "a", "h", fmt.Sprint(h)) }
	lowWater := func() string {
		seq, ok := r.LogLowWater(testLog)
		if !ok {
			return "none"
		}
		return fmt.Sprint(seq)
	}
	if !s.AbsorbKeepAlive(ack(2)) {
		t.Fatal("the ack of two posts handed live was not absorbed")
	}
	if n, lw := len(s.sm.unacked), lowWater(); n != 1 || lw != "3" {
		t.Fatalf("after the ack of 2: %d unacknowledged, low-water mark %s; want 1 and 3", n, lw)
	}

	// Post 4 comes while bob's device is unavailable: it goes to his queue,
	// and post 3, still unacknowledged, is copied there before it.
	s.available.Store(false)
	routePosts(t, r, 4, 4)
	if q, err := s.cfg.Queue.ReadQueue(context.Background(), "bob@example.org", 0, 0); err != nil || len(q) != 2 {
		t.Fatalf("bob's queue: %d stanzas (%v), want posts 3 and 4", len(q), err)
	}
	if s.AbsorbKeepAlive(ack(3)) {
		t.Fatal("absorbed the ack of a post copied into the queue")
	}
	if n := len(s.sm.unacked); n != 1 {
		t.Fatalf("a refused ack changed the unacknowledged list: %d stanzas, want 1", n)
	}
	s.mu.Lock()
	s.processAckLocked(3)
	s.mu.Unlock()
	if q, err := s.cfg.Queue.ReadQueue(context.Background(), "bob@example.org", 0, 0); err != nil || len(q) != 1 {
		t.Fatalf("bob's queue after the goroutine's ack: %d stanzas (%v), want post 4 alone (3's copy erased)", len(q), err)
	}
	s.available.Store(true)

	// Positions of two logs.
	s.mu.Lock()
	s.sendLoggedLocked(stanza.NewElement(stanza.NSClient, stanza.KindMessage, "id", "x"), testLog, 9)
	s.sendLoggedLocked(stanza.NewElement(stanza.NSClient, stanza.KindMessage, "id", "y"), "other.example.org", 1)
	s.mu.Unlock()
	if s.AbsorbKeepAlive(ack(5)) {
		t.Fatal("absorbed an ack of two logs' positions")
	}
	if !s.AbsorbKeepAlive(ack(4)) || len(s.sm.unacked) != 1 {
		t.Fatalf("the ack of one log's position was not absorbed (%d unacknowledged)", len(s.sm.unacked))
	}
}

// TestAnAbsorbedAckLeavesTheSessionAsTheGoroutinesWould: the poller's
// settling of an ack (AbsorbKeepAlive) does what the session's goroutine
// does after one: a post written while the answered <r/> was outstanding
// is asked about later (the asker is scheduled), and the parked device's
// session drops what it reuses while active (its log state), as when its
// connection parked. Without either, a member whose group went quiet kept
// its last posts unacknowledged (the outbox untrimmed, the posts queued
// again when it left), and every parked member kept its log state.
func TestAnAbsorbedAckLeavesTheSessionAsTheGoroutinesWould(t *testing.T) {
	s, r, wire := loggedSession(t, 1024)
	s.sm.enabled = true
	routePosts(t, r, 1, 2)
	s.run()
	if !strings.Contains(wire.String(), "<r ") {
		t.Fatalf("written %q, want an ack request after posts 1 and 2", wire.String())
	}
	wire.Reset()
	routePosts(t, r, 3, 3)
	s.run()
	if strings.Contains(wire.String(), "<r ") || s.sm.askScheduled {
		t.Fatalf("post 3, written while the request was outstanding: %q, asker scheduled %v; want no request yet", wire.String(), s.sm.askScheduled)
	}
	if !s.AbsorbKeepAlive(stanza.NewElement(stanza.NSSM, "a", "h", "2")) {
		t.Fatal("the ack of posts 1 and 2 was not absorbed")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.sm.askScheduled {
		t.Error("post 3 is not asked about after the ack of 1 and 2")
	}
	if s.logs != nil {
		t.Error("the parked device's session kept its log state after the absorbed ack")
	}
	if len(s.sm.unacked) != 1 || s.sm.acked != 2 || s.sm.requested {
		t.Errorf("after the ack: %d unacknowledged, acked %d, request outstanding %v; want 1, 2, false", len(s.sm.unacked), s.sm.acked, s.sm.requested)
	}
}
