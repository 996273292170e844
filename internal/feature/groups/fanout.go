package groups

import (
	"context"
	"crypto/rand"
	"errors"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parley-im/parley/internal/jid"
	"github.com/parley-im/parley/internal/module"
	"github.com/parley-im/parley/internal/stanza"
	"github.com/parley-im/parley/internal/store"
)

// entriesPerRead is how many outbox entries the worker fans out at once
// (a wave): each member's copies of a wave are stored with one write.
const entriesPerRead = 64

// retryAfter is how long the worker waits after a store error.
const retryAfter = time.Second

func newID() string { return strings.ToLower(rand.Text()[:16]) }

// Run fans out the group outbox until ctx is cancelled: what a previous
// run left first, then each new entry. Call it once, after Register.
func (f *Feature) Run(ctx context.Context) {
	defer f.batcher.flushAll()
	// At shutdown the sessions have ended (their unacknowledged posts were
	// released): those go to the members' queues and the outbox is
	// trimmed, so that a restart fans out nothing twice.
	defer f.settle(context.WithoutCancel(ctx))
	for {
		if !f.drain(ctx) {
			select {
			case <-ctx.Done():
				return
			case <-time.After(retryAfter):
			}
			continue
		}
		select {
		case <-ctx.Done():
			return
		case <-f.wake:
		case <-f.trimTimer():
		}
	}
}

// trimAfter is how long the idle worker waits before deleting the outbox
// entries that live devices acknowledged since its last wave (so that a
// crash then fans out again as little as possible).
const trimAfter = 200 * time.Millisecond

// trimTimer fires after trimAfter when fanned-out entries are kept, and
// never otherwise.
func (f *Feature) trimTimer() <-chan time.Time {
	if len(f.kept) == 0 {
		return nil
	}
	return time.After(trimAfter)
}

// Hold stops the worker before its next entry until release is called
// (maintenance, and tests that stop the server with fan-out pending).
func (f *Feature) Hold() (release func()) {
	f.held.Store(true)
	return func() {
		f.held.Store(false)
		f.poke()
	}
}

// Poke wakes the fan-out worker: posts were appended to the shared outbox
// by another node of a cluster.
func (f *Feature) Poke() { f.poke() }

// poke wakes the worker.
func (f *Feature) poke() {
	select {
	case f.wake <- struct{}{}:
	default:
	}
}

// drain fans out every outbox entry; false after an error (the entries
// stay and are fanned out again).
func (f *Feature) drain(ctx context.Context) bool {
	for ctx.Err() == nil && !f.held.Load() {
		if !f.settle(ctx) {
			return false
		}
		entries, err := f.st.ReadQueue(ctx, f.outbox, f.fanned, entriesPerRead)
		if err != nil {
			f.log.Error("reading the group outbox", "err", err)
			return false
		}
		if len(entries) == 0 {
			return true
		}
		// A wave begun is finished even at shutdown (the server waits for
		// Run before closing the store): no member gets it twice.
		if !f.fanOutWave(context.WithoutCancel(ctx), entries) {
			return false
		}
		for _, e := range entries {
			f.kept = append(f.kept, e.Seq)
		}
		f.fanned = entries[len(entries)-1].Seq
	}
	return ctx.Err() == nil
}

// settle writes to their queues the posts that live members' devices
// dropped unacknowledged, then deletes the outbox entries below the
// low-water mark (the smallest position handed to a live device and
// neither acknowledged nor queued), in one write; false on a store error.
func (f *Feature) settle(ctx context.Context) bool {
	if f.logs != nil {
		if serr := f.logs.SettleLog(ctx, f.outbox); serr != nil {
			return false
		}
	}
	if len(f.kept) == 0 {
		return true
	}
	n := len(f.kept)
	if f.logs != nil {
		if mark, ok := f.logs.LogLowWater(f.outbox); ok {
			n, _ = slices.BinarySearch(f.kept, mark)
		}
	}
	if n == 0 {
		return true
	}
	if err := f.st.AckQueue(ctx, f.outbox, f.kept[:n]...); err != nil {
		f.log.Error("acking the group outbox", "err", err)
		return false
	}
	f.kept = append(f.kept[:0], f.kept[n:]...)
	return true
}

// wave is the posts of some outbox entries, by recipient, in entry order.
// A recipient gets the posts themselves (stanza.NewPost), not copies: the
// router and the member's sessions make or encode its copy where they
// need one (docs/ARCHITECTURE.md, "Groups").
type wave struct {
	index      map[string]int    // recipient -> its place in recipients
	recipients []recipientPosts  // in first-seen order
	room       []*stanza.Element // room for the first posts of recipients to come
	seqRoom    []uint64          // the same for their outbox positions
}

// recipientPosts are one recipient's posts of a wave.
type recipientPosts struct {
	member string
	posts  []*stanza.Element // posts (stanza.NewPost)
	seqs   []uint64          // the outbox positions of the posts
}

func newWave() *wave { return &wave{index: make(map[string]int)} }

// maxKeptRecipients bounds the wave the worker keeps between waves: one
// that reached more recipients (several large groups' posts at once) is
// let go.
const maxKeptRecipients = 4096

// nextWave returns the worker's wave, emptied: its index and recipients
// keep their room (a wave to 1,024 members grew both again each time,
// about 230 bytes a member), while the arrays the recipients' slices
// were cut from are never reused, nor what is left of them (a wave's
// room for a late recipient can be large, and would hold its posts):
// the sessions hold both room's posts and seqRoom's outbox positions
// (the recipients' slices are their mailbox items, DeliverLog).
func (f *Feature) nextWave() *wave {
	w := f.wave
	if w == nil || cap(w.recipients) > maxKeptRecipients {
		w = newWave()
		f.wave = w
	}
	clear(w.index)
	clear(w.recipients)
	w.recipients = w.recipients[:0]
	w.room, w.seqRoom = nil, nil
	return w
}

// add appends p, the post at outbox position seq, to member's posts.
// left is how many recipients of p, member included, are still to be
// added, and posts how many posts of p's group the wave has from p on, p
// included: a recipient's first post comes with room for that many,
// made for all of p's recipients at once. A wave then costs no allocation
// per member, whatever its number of posts: each member's list grew, by
// doubling, from room for one (two allocations a member for a wave of
// two posts, ten for 32).
func (w *wave) add(member string, p *stanza.Element, seq uint64, left, posts int) {
	i, ok := w.index[member]
	if !ok {
		posts = max(posts, 1)
		if len(w.room) < posts {
			w.room = make([]*stanza.Element, max(left, 1)*posts)
			w.seqRoom = make([]uint64, max(left, 1)*posts)
		}
		i = len(w.recipients)
		w.index[member] = i
		w.recipients = append(w.recipients, recipientPosts{member: member, posts: w.room[:0:posts], seqs: w.seqRoom[:0:posts]})
		w.room, w.seqRoom = w.room[posts:], w.seqRoom[posts:]
	}
	r := &w.recipients[i]
	r.posts = append(r.posts, p)
	r.seqs = append(r.seqs, seq)
}

// fanOutWave delivers outbox entries to their groups' members; false if
// they must be tried again.
func (f *Feature) fanOutWave(ctx context.Context, entries []store.QueuedStanza) bool {
	w := f.nextWave()
	posts := f.decodeWave(entries)
	left := map[string]int{} // by group id: its posts not yet added
	for _, p := range posts {
		left[p.group]++
	}
	members := map[string][]store.GroupMember{} // by group id, read once per wave
	for _, wp := range posts {
		e, m, id := wp.entry, wp.msg, wp.group
		ms, ok := f.membersOnce(ctx, members, id)
		if !ok || !f.recordSender(ctx, id, m) {
			return false
		}
		f.archivePost(ctx, id, m, e.Stored)
		p := memberPost(m)
		rs := recipients(m, ms, e.Stored)
		for i, to := range rs {
			w.add(to, p, e.Seq, len(rs)-i, left[id])
		}
		left[id]--
	}
	return f.deliverAll(ctx, w)
}

// membersOnce returns group id's members, read from the store the first
// time a wave asks (and kept in read); false on a store error. A group
// that is gone has none.
func (f *Feature) membersOnce(ctx context.Context, read map[string][]store.GroupMember, id string) ([]store.GroupMember, bool) {
	if ms, ok := read[id]; ok {
		return ms, true
	}
	ms, err := f.st.GroupMembers(ctx, id)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		f.log.Error("reading group members", "group", id, "err", err)
		return nil, false
	}
	read[id] = ms
	return ms, true
}

// wavePost is an outbox entry of a wave, decoded, with its group's id.
type wavePost struct {
	entry store.QueuedStanza
	msg   *stanza.Element
	group string
}

// decodeWave decodes a wave's entries, in order; an undecodable one is
// logged and left out.
func (f *Feature) decodeWave(entries []store.QueuedStanza) []wavePost {
	out := make([]wavePost, 0, len(entries))
	for _, e := range entries {
		m, err := f.codec.Decode(e.Payload)
		if err != nil {
			f.log.Error("undecodable group outbox entry dropped", "seq", e.Seq, "err", err)
			continue
		}
		from, err := m.From()
		if err != nil {
			continue
		}
		out = append(out, wavePost{entry: e, msg: m, group: from.Local()})
	}
	return out
}

// recordSender records who posted m (for receipts); false on a store
// error.
func (f *Feature) recordSender(ctx context.Context, group string, m *stanza.Element) bool {
	s := m.Child(NS, "sender")
	if s == nil || m.ID() == "" {
		return true
	}
	if err := f.st.RecordGroupMessage(ctx, group, m.ID(), s.Attr("jid")); err != nil {
		f.log.Error("recording a group message", "group", group, "err", err)
		return false
	}
	f.ids.put(group, groupStanzaID(m), m.ID())
	return true
}

// memberPost is the post of m whose copies the members get: m addressed
// to the member, with a stanza-id by the member's account equal to the
// group's (so that a copy delivered twice after a crash is recognized).
func memberPost(m *stanza.Element) *stanza.Element {
	return stanza.NewPost(m, stanza.NewElement(stanza.NSSID, "stanza-id", "id", groupStanzaID(m), "by", ""))
}

// recipients are the members who joined before the entry was stored, plus
// the subject of a removal or leave event (who learns of it too).
func recipients(m *stanza.Element, members []store.GroupMember, stored time.Time) []string {
	out := make([]string, 0, len(members)+1)
	for _, mem := range members {
		if !mem.Joined.After(stored) {
			out = append(out, mem.JID)
		}
	}
	if ev := m.Child(NS, "event"); ev != nil && (ev.Attr("type") == "removed" || ev.Attr("type") == "left") {
		out = append(out, ev.Attr("jid"))
	}
	return out
}

// maxChunkCopies bounds the copies of one DeliverStored call (one durable
// write), so that a wave of many posts to a large group is not one huge
// batch.
const maxChunkCopies = 8192

// deliverAll delivers each recipient's posts, in chunks of up to
// opts.Batch recipients (and maxChunkCopies copies), each stored with one
// durable write when the store can, by a goroutine of its own (the
// chunks run concurrently, so that their writes share syncs); false if
// the store failed for one of them.
func (f *Feature) deliverAll(ctx context.Context, w *wave) bool {
	var failed atomic.Bool
	var wg sync.WaitGroup
	// chunk is the part of an array made for the wave after the chunks
	// already handed off (each handed off without room beyond its end).
	chunk := make([]module.StoredDelivery, 0, len(w.recipients))
	n := 0 // copies in chunk
	flush := func() {
		if len(chunk) == 0 {
			return
		}
		ds := chunk[:len(chunk):len(chunk)]
		wg.Go(func() {
			if serr := f.deliverChunk(ctx, ds); serr != nil && serr.Condition == stanza.InternalServerError {
				failed.Store(true)
			}
		})
		chunk, n = chunk[len(chunk):], 0
	}
	for _, r := range w.recipients {
		to, err := jid.Parse(r.member)
		if err != nil {
			continue
		}
		if len(chunk) >= f.opts.Batch || (n > 0 && n+len(r.posts) > maxChunkCopies) {
			flush()
		}
		chunk = append(chunk, module.StoredDelivery{To: to, Msgs: r.posts, Seqs: r.seqs})
		n += len(r.posts)
	}
	flush()
	wg.Wait()
	return !failed.Load()
}

// deliverChunk delivers a chunk of a wave: to live members' devices with
// their outbox positions when the host can (no queue copy), otherwise
// through the members' queues.
func (f *Feature) deliverChunk(ctx context.Context, ds []module.StoredDelivery) *stanza.Error {
	if f.logs != nil {
		return f.logs.DeliverLogged(ctx, f.outbox, ds)
	}
	return f.deliver.DeliverStored(ctx, ds)
}

// newToken returns a random invite token (128 bits, base32).
func newToken() string { return rand.Text() }
