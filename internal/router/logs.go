package router

import (
	"context"
	"slices"
	"strings"
	"sync"

	"github.com/parley-im/parley/internal/jid"
	"github.com/parley-im/parley/internal/slicepool"
	"github.com/parley-im/parley/internal/stanza"
	"github.com/parley-im/parley/internal/store"
)

// A log is a service's own durable record of messages (the groups'
// outbox), whose entries RouteLogged hands to a user's live devices with
// their log position (the log's key and the entry's seq) instead of a
// copy in the user's queue: a group post is stored once, not once per
// member (docs/ARCHITECTURE.md, "Groups"). The router keeps, per log and
// user, the positions handed out and not yet settled (acknowledged by a
// device, or written to the user's queue): the log's owner keeps every
// entry at or above the smallest of them (LogLowWater).
//
// A device reports what becomes of its positions: acknowledged
// (LogAcked, no store write), or dropped unacknowledged when its session
// ends (LogReleased). A position none of whose devices holds it any more
// is written into the user's queue, in log order, before any later
// message of the log for that user: a user with such positions gets its
// next messages of the log through its queue too, after them (RouteLogged
// and SettleLog both write under the log's write lock).

// IsLogKey reports whether key is a log's (a service domain) rather than
// a user's queue (a bare JID, which has a local part).
func IsLogKey(key string) bool { return key != "" && strings.IndexByte(key, '@') < 0 }

// logTracker is the router's record of one log's positions handed out.
type logTracker struct {
	key string
	// write is held while copies of the log are stored or handed out, so
	// that a user's copies reach its devices and queue in log order.
	// RouteLogged takes it shared (the chunks of a wave have distinct
	// users), SettleLog and LogToQueue exclusively.
	write sync.RWMutex

	mu      sync.Mutex           // guards the fields below; nothing is called with it held
	users   map[jid.JID]*userLog // by bare JID
	dirty   map[jid.JID]*userLog // users with positions nobody holds, not yet queued
	onDirty func()
	free    []*userLog // emptied records, reused (a live member's record empties at each ack)
	// arrays holds the arrays of the records' entries between a user's
	// acknowledgements (the router's, shared by its logs): a member of a
	// busy group grows hundreds of entries between two.
	arrays *slicepool.Pool[logEntry]
}

// maxFreeUserLogs bounds logTracker.free.
const maxFreeUserLogs = 4096

// userLog is a user's positions of one log, in log order.
type userLog struct {
	to      jid.JID
	entries []logEntry
	// room is how many entries the record had when an ack last emptied
	// it: entries start with room for that many when it is reused.
	room int
	// unheld counts the entries neither held by a device nor in the
	// queue. RouteLogged asks at every wave whether there is one: counting
	// them keeps that answer O(1), where a scan of the entries made each
	// wave cost as much as the member's backlog (a device slow to
	// acknowledge holds thousands).
	unheld int
}

// logEntry is one position handed to a user's devices.
type logEntry struct {
	seq     uint64
	msg     *stanza.Element // as handed: a post (stanza.NewPost), not the user's copy
	holders []Device        // devices that have it and have not acknowledged it
	qseq    uint64          // its position in the user's queue once written there
}

// isUnheld reports whether e is held by no device and not in the queue.
func (e *logEntry) isUnheld() bool { return e.qseq == 0 && len(e.holders) == 0 }

func (u *userLog) find(seq uint64) int {
	for i := range u.entries {
		if u.entries[i].seq == seq {
			return i
		}
	}
	return -1
}

func (u *userLog) remove(i int) {
	if u.entries[i].isUnheld() {
		u.unheld--
	}
	u.entries = slices.Delete(u.entries, i, i+1) // clears the tail: no stale copy kept
}

// log returns the tracker of key, made on first use.
func (r *Router) log(key string) *logTracker {
	r.logsMu.Lock()
	defer r.logsMu.Unlock()
	if r.logs == nil {
		r.logs = make(map[string]*logTracker)
	}
	t, ok := r.logs[key]
	if !ok {
		t = &logTracker{key: key, users: make(map[jid.JID]*userLog), dirty: make(map[jid.JID]*userLog), arrays: &r.logEntries}
		r.logs[key] = t
	}
	return t
}

// OnLogReleased sets what runs (without locks, and must not block) when a
// position of log key is left with no device holding it: the log's owner
// then calls SettleLog.
func (r *Router) OnLogReleased(key string, fn func()) {
	t := r.log(key)
	t.mu.Lock()
	t.onDirty = fn
	t.mu.Unlock()
}

// LogLowWater is the smallest position of log key handed to a device and
// neither acknowledged nor in a queue; ok is false when there is none.
func (r *Router) LogLowWater(key string) (seq uint64, ok bool) {
	t := r.log(key)
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, u := range t.users {
		for i := range u.entries {
			if e := &u.entries[i]; e.qseq == 0 {
				if !ok || e.seq < seq {
					seq, ok = e.seq, true
				}
				break
			}
		}
	}
	return seq, ok
}

// LogAcked records that d acknowledged positions of log key: they are
// settled for its user. It returns the queue positions to erase (those
// written to the user's queue meanwhile).
func (r *Router) LogAcked(d Device, key string, seqs []uint64) (queued []uint64) {
	t := r.log(key)
	user := d.JID().Bare()
	t.mu.Lock()
	defer t.mu.Unlock()
	u := t.users[user]
	if u == nil {
		return nil
	}
	return t.settleAcked(user, u, seqs)
}

// LogAckedUnqueued is LogAcked for a caller that must not wait (the
// poller of idle connections, with every parked connection behind it):
// when none of seqs was written to the user's queue it settles them and
// returns true; otherwise, or when the log's lock is held (a fan-out
// handing out positions), it changes nothing and returns false, and the
// caller acknowledges them with LogAcked, whose queue positions it then
// erases.
func (r *Router) LogAckedUnqueued(d Device, key string, seqs []uint64) bool {
	t := r.log(key)
	user := d.JID().Bare()
	if !t.mu.TryLock() {
		return false
	}
	defer t.mu.Unlock()
	u := t.users[user]
	if u == nil {
		return true
	}
	acked := ackedSeqs{seqs: seqs, sorted: slices.IsSorted(seqs)}
	for i := range u.entries {
		if e := &u.entries[i]; e.qseq != 0 && acked.has(e.seq) {
			return false
		}
	}
	t.settleAcked(user, u, seqs)
	return true
}

// settleAcked (t.mu held) removes user's entries at seqs and returns the
// queue positions of those written to the queue meanwhile.
func (t *logTracker) settleAcked(user jid.JID, u *userLog, seqs []uint64) (queued []uint64) {
	had := len(u.entries)
	queued = u.removeAcked(seqs)
	if len(u.entries) == 0 {
		u.room = had
	}
	// The entries left after a peak move to a smaller array, so that a
	// member a few positions behind does not keep the peak's.
	u.entries = t.arrays.DropFront(u.entries, 0)
	t.forgetIfEmpty(user, u)
	return queued
}

// removeAcked removes the entries at seqs in one pass over u's entries
// and returns the queue positions of those written to the queue
// meanwhile. A device acknowledges many positions at once (a write's
// worth, or an <a/> covering several writes), usually the oldest:
// removing them one at a time moved the later entries once per
// position, a cost growing with the square of a member's backlog.
func (u *userLog) removeAcked(seqs []uint64) (queued []uint64) {
	acked := ackedSeqs{seqs: seqs, sorted: slices.IsSorted(seqs)}
	u.entries = slices.DeleteFunc(u.entries, func(e logEntry) bool { // clears the tail: no stale copy kept
		if !acked.has(e.seq) {
			return false
		}
		if e.isUnheld() {
			u.unheld--
		}
		if e.qseq != 0 {
			queued = append(queued, e.qseq)
		}
		return true
	})
	return queued
}

// ackedSeqs answers whether a seq is among seqs, asked of ascending seqs
// in turn (a user's entries, in log order): when seqs ascend too, as a
// device acknowledges, by a merge that looks at each of them once.
type ackedSeqs struct {
	seqs   []uint64
	sorted bool
	next   int // with sorted: seqs[:next] are below every seq asked from now on
}

func (a *ackedSeqs) has(seq uint64) bool {
	if !a.sorted {
		return slices.Contains(a.seqs, seq)
	}
	for a.next < len(a.seqs) && a.seqs[a.next] < seq {
		a.next++
	}
	return a.next < len(a.seqs) && a.seqs[a.next] == seq
}

// LogReleased records that d will not acknowledge positions of log key
// (its session ended): one no device holds any more is written to the
// user's queue by the next SettleLog.
func (r *Router) LogReleased(d Device, key string, seqs []uint64) {
	t := r.log(key)
	user := d.JID().Bare()
	t.mu.Lock()
	u := t.users[user]
	if u == nil {
		t.mu.Unlock()
		return
	}
	dirty := false
	for _, seq := range seqs {
		i := u.find(seq)
		if i < 0 {
			continue
		}
		e := &u.entries[i]
		wasUnheld := e.isUnheld()
		e.holders = withoutDevice(e.holders, d)
		switch {
		case len(e.holders) > 0:
		case e.qseq != 0:
			u.remove(i)
		default:
			if !wasUnheld {
				u.unheld++
			}
			dirty = true
		}
	}
	if dirty {
		t.dirty[user] = u
	}
	t.forgetIfEmpty(user, u)
	wake := t.onDirty
	t.mu.Unlock()
	if dirty && wake != nil {
		wake()
	}
}

func withoutDevice(ds []Device, d Device) []Device {
	for i, x := range ds {
		if x == d {
			return append(ds[:i], ds[i+1:]...)
		}
	}
	return ds
}

// forgetIfEmpty drops u once it has no positions; t.mu held.
func (t *logTracker) forgetIfEmpty(user jid.JID, u *userLog) {
	if len(u.entries) == 0 {
		delete(t.users, user)
		delete(t.dirty, user)
		t.arrays.Put(u.entries)
		u.entries = nil
		if len(t.free) < maxFreeUserLogs {
			t.free = append(t.free, u)
		}
	}
}

// newUserLog returns an empty record for to, a reused one if it can; t.mu
// held.
func (t *logTracker) newUserLog(to jid.JID) *userLog {
	if n := len(t.free); n > 0 {
		u := t.free[n-1]
		t.free[n-1] = nil
		t.free = t.free[:n-1]
		u.to, u.unheld = to, 0
		return u
	}
	return &userLog{to: to}
}

// hold records that targets are handed msgs at log positions seqs; false
// (nothing recorded) when the user has positions nobody holds that are
// not yet queued: its messages then go through its queue, after those.
func (t *logTracker) hold(to jid.JID, msgs []*stanza.Element, seqs []uint64, targets []Device) bool {
	user := to
	t.mu.Lock()
	defer t.mu.Unlock()
	u := t.users[user]
	if u == nil {
		u = t.newUserLog(to)
		t.users[user] = u
	} else if u.unheld > 0 {
		return false
	}
	if u.entries == nil && u.room > 0 {
		u.entries = t.arrays.Make(u.room)
	}
	for j, m := range msgs {
		holders := targets // the registry's copy-on-write slice: one device is never changed in place
		if len(targets) > 1 {
			holders = append([]Device(nil), targets...)
		}
		u.entries = t.arrays.Append(u.entries, logEntry{seq: seqs[j], msg: m, holders: holders})
		if len(holders) == 0 {
			u.unheld++
		}
	}
	return true
}

// pendingCopy is a position of a user's log to be written to its queue.
type pendingCopy struct {
	seq     uint64
	msg     *stanza.Element
	holders []Device // the devices that have it (not handed it again)
}

// unqueued returns the positions of user not yet in its queue, in order.
func (t *logTracker) unqueued(user jid.JID) []pendingCopy {
	t.mu.Lock()
	defer t.mu.Unlock()
	u := t.users[user]
	if u == nil {
		return nil
	}
	var out []pendingCopy
	for i := range u.entries {
		if e := &u.entries[i]; e.qseq == 0 {
			out = append(out, pendingCopy{seq: e.seq, msg: e.msg, holders: append([]Device(nil), e.holders...)})
		}
	}
	return out
}

// queued records where pending copies of user were written (first, then
// on) and returns the queue positions to erase: those whose position was
// acknowledged while they were written.
func (t *logTracker) queued(user jid.JID, ps []pendingCopy, first uint64) (erase []uint64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	u := t.users[user]
	for j, p := range ps {
		i := -1
		if u != nil {
			i = u.find(p.seq)
		}
		if i < 0 {
			erase = append(erase, first+uint64(j))
			continue
		}
		if u.entries[i].isUnheld() {
			u.unheld--
		}
		u.entries[i].qseq = first + uint64(j)
		if len(u.entries[i].holders) == 0 {
			u.remove(i)
		}
	}
	if u != nil {
		delete(t.dirty, user)
		t.forgetIfEmpty(user, u)
	}
	return erase
}

// dirtyUsers returns the users with positions nobody holds.
func (t *logTracker) dirtyUsers() []jid.JID {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]jid.JID, 0, len(t.dirty))
	for _, u := range t.dirty {
		out = append(out, u.to)
	}
	return out
}

// RouteLogged is RouteStoredAll for the entries of log key (each user's
// Seqs are its messages' positions): a user whose devices that take
// messages are all local is handed its messages with their log positions,
// without a queue copy (the router tracks them until a device
// acknowledges them); the others get theirs through their queues as with
// RouteStoredAll, after any earlier positions of theirs that no device
// holds any more.
func (r *Router) RouteLogged(ctx context.Context, key string, all []Stored) *stanza.Error {
	t := r.log(key)
	t.write.RLock()
	defer t.write.RUnlock()
	var queued []queuedUser
	enc := payloadEncoder{codec: r.cfg.Codec}
	for i := range all {
		u := &all[i]
		u.To = u.To.Bare()
		kept, seqs := r.filterLogged(ctx, *u)
		if len(kept) == 0 {
			continue
		}
		targets := r.availableNonNegative(u.To)
		if len(targets) > 0 && allLocal(targets) && t.hold(u.To, kept, seqs, targets) {
			r.handLogged(ctx, key, u.To, kept, seqs, targets)
			continue
		}
		queued = append(queued, t.queuedUser(u.To, kept, &enc))
	}
	return r.storeQueued(ctx, t, queued)
}

// filterLogged returns the messages of u the filter lets through, with
// their log positions: u's own slices when it lets all of them through
// (the usual case: no allocation per member of a wave), new ones from the
// first it stops.
func (r *Router) filterLogged(ctx context.Context, u Stored) ([]*stanza.Element, []uint64) {
	if r.cfg.Filter == nil {
		return u.Msgs, u.Seqs
	}
	for j, m := range u.Msgs {
		if ok, _ := r.cfg.Filter(ctx, m, u.To); !ok {
			return r.filterLoggedFrom(ctx, u, j)
		}
	}
	return u.Msgs, u.Seqs
}

// filterLoggedFrom is filterLogged once the filter stopped u's message
// first: the ones before it passed.
func (r *Router) filterLoggedFrom(ctx context.Context, u Stored, first int) ([]*stanza.Element, []uint64) {
	kept := append(make([]*stanza.Element, 0, len(u.Msgs)-1), u.Msgs[:first]...)
	seqs := append(make([]uint64, 0, len(u.Msgs)-1), u.Seqs[:first]...)
	for j := first + 1; j < len(u.Msgs); j++ {
		if ok, _ := r.cfg.Filter(ctx, u.Msgs[j], u.To); ok {
			kept = append(kept, u.Msgs[j])
			seqs = append(seqs, u.Seqs[j])
		}
	}
	return kept, seqs
}

func allLocal(ds []Device) bool {
	for _, d := range ds {
		if IsRemote(d) {
			return false
		}
	}
	return true
}

// handLogged hands msgs to targets with their log positions (held
// already), all of them at once to a LogBatchDevice; a device that
// refuses one releases it.
func (r *Router) handLogged(ctx context.Context, key string, to jid.JID, msgs []*stanza.Element, seqs []uint64, targets []Device) {
	for _, d := range targets {
		if b, ok := d.(LogBatchDevice); ok {
			if !b.DeliverLog(msgs, key, seqs) {
				r.LogReleased(d, key, seqs)
			}
			continue
		}
		for j, m := range msgs {
			if !d.Deliver(m, key, seqs[j]) {
				r.LogReleased(d, key, seqs[j:j+1])
			}
		}
	}
	r.deliveredAll(ctx, msgs, to, targets)
}

// queuedUser is a user whose log copies go through its queue: the
// earlier positions not yet there (pending) first, then its new messages.
type queuedUser struct {
	to      jid.JID
	pending []pendingCopy
	msgs    []*stanza.Element
	batch   store.QueueBatch
}

// queuedUser makes to's copies of the posts among its pending positions
// and msgs (stanza.NewPost): what goes to its queue is its own copy.
func (t *logTracker) queuedUser(to jid.JID, msgs []*stanza.Element, enc *payloadEncoder) queuedUser {
	q := queuedUser{to: to, pending: t.unqueued(to), msgs: copiesFor(to, msgs)}
	for i := range q.pending {
		q.pending[i].msg = stanza.For(q.pending[i].msg, to.String())
	}
	q.batch.Key = QueueKey(to)
	q.batch.Payloads = make([][]byte, 0, len(q.pending)+len(msgs))
	for _, p := range q.pending {
		q.batch.Payloads = append(q.batch.Payloads, enc.encode(p.msg))
	}
	for _, m := range q.msgs {
		q.batch.Payloads = append(q.batch.Payloads, enc.encode(m))
	}
	return q
}

// copiesFor returns msgs with each post replaced by to's copy of it, in a
// new slice when there is one (msgs may be the caller's).
func copiesFor(to jid.JID, msgs []*stanza.Element) []*stanza.Element {
	if !slices.ContainsFunc(msgs, stanza.IsPost) {
		return msgs
	}
	out := make([]*stanza.Element, len(msgs))
	for i, m := range msgs {
		out[i] = stanza.For(m, to.String())
	}
	return out
}

// storeQueued writes the users' copies to their queues (one durable write
// when the store can), records where the pending ones went, and hands
// them to the users' available devices: the pending ones only to those
// that do not have them.
func (r *Router) storeQueued(ctx context.Context, t *logTracker, qs []queuedUser) *stanza.Error {
	if len(qs) == 0 {
		return nil
	}
	bs := make([]store.QueueBatch, len(qs))
	for i := range qs {
		bs[i] = qs[i].batch
	}
	if err := r.enqueueAll(ctx, bs); err != nil {
		r.cfg.Log.Error("offline queue write failed", "err", err)
		return stanza.NewError(stanza.InternalServerError, "")
	}
	for i := range qs {
		q := &qs[i]
		first := bs[i].First
		if erase := t.queued(q.to, q.pending, first); len(erase) > 0 {
			if err := r.cfg.Queue.AckQueue(ctx, q.batch.Key, erase...); err != nil {
				r.cfg.Log.Warn("erasing acknowledged group copies", "user", q.batch.Key, "err", err)
			}
		}
		targets := r.availableNonNegative(q.to)
		handed := make([]*stanza.Element, 0, len(q.pending)+len(q.msgs))
		for j, p := range q.pending {
			for _, d := range targets {
				if !containsDevice(p.holders, d) {
					d.Deliver(p.msg, q.batch.Key, first+uint64(j))
				}
			}
			handed = append(handed, p.msg)
		}
		first += uint64(len(q.pending))
		for j, m := range q.msgs {
			for _, d := range targets {
				d.Deliver(m, q.batch.Key, first+uint64(j))
			}
		}
		r.deliveredAll(ctx, append(handed, q.msgs...), q.to, targets)
	}
	return nil
}

func containsDevice(ds []Device, d Device) bool {
	for _, x := range ds {
		if x == d {
			return true
		}
	}
	return false
}

// SettleLog writes into their users' queues the positions of log key no
// device holds any more (in log order, with the users' later positions
// not yet queued) and hands them to the users' available devices.
func (r *Router) SettleLog(ctx context.Context, key string) *stanza.Error {
	t := r.log(key)
	t.write.Lock()
	defer t.write.Unlock()
	return r.settleUsers(ctx, t, t.dirtyUsers())
}

func (r *Router) settleUsers(ctx context.Context, t *logTracker, users []jid.JID) *stanza.Error {
	var qs []queuedUser
	enc := payloadEncoder{codec: r.cfg.Codec}
	for _, to := range users {
		if q := t.queuedUser(to, nil, &enc); len(q.pending) > 0 {
			qs = append(qs, q)
		}
	}
	return r.storeQueued(ctx, t, qs)
}

// LogToQueue writes d's user's positions of log key not yet queued into
// its queue (as SettleLog does) and returns where seqs, positions d holds,
// went: a session handed off keeps queue positions only (its resumption
// record holds those). d no longer holds them. A position acknowledged by
// another device meanwhile maps to 0.
func (r *Router) LogToQueue(ctx context.Context, d Device, key string, seqs []uint64) ([]uint64, error) {
	t := r.log(key)
	t.write.Lock()
	defer t.write.Unlock()
	to := d.JID().Bare()
	if serr := r.settleUsers(ctx, t, []jid.JID{to}); serr != nil {
		return nil, serr
	}
	out := make([]uint64, len(seqs))
	user := to
	t.mu.Lock()
	defer t.mu.Unlock()
	u := t.users[user]
	if u == nil {
		return out, nil
	}
	for k, seq := range seqs {
		i := u.find(seq)
		if i < 0 {
			continue
		}
		e := &u.entries[i]
		out[k] = e.qseq
		e.holders = withoutDevice(e.holders, d)
		if len(e.holders) == 0 {
			u.remove(i)
		}
	}
	t.forgetIfEmpty(user, u)
	return out, nil
}
