package pebble

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/parley-im/parley/internal/store"
)

// queueState is the in-memory state of one queue, guarded by its shard's mu.
//
// Invariants: every live stanza has head <= seq < next; when count > 0 the
// stanza at head is live; when count == 0, head == next. Every seq below
// head was acked, and the head key on disk says so (it is written in the
// batch that deletes the old head).
type queueState struct {
	head, next uint64
	count      int
}

// sweepEmpty is how many drained queues a shard keeps in memory before it
// forgets them all (their state reloads from disk in two seeks).
const sweepEmpty = 1024

// minRangeDelete is the shortest run of acked stanzas deleted with a range
// tombstone; shorter runs get point tombstones. See doc.go.
const minRangeDelete = 64

// state returns key's queue state, loading it from disk on first use.
// Called with sh.mu held. A drained queue's state is not kept unless keep.
func (s *Store) state(sh *shard, key string, keep bool) (*queueState, error) {
	if st, ok := sh.queues[key]; ok {
		return st, nil
	}
	st, err := s.loadQueue(key)
	if err != nil {
		return nil, err
	}
	if floor, ok := sh.seqFloor[key]; ok && st.next < floor {
		if st.count == 0 {
			st.head = floor
		}
		st.next = floor
	}
	if keep || st.count > 0 {
		sh.queues[key] = st
		if st.count == 0 {
			sh.empty++
		}
	}
	return st, nil
}

// loadQueue reads a queue's state: the head from its head key, then the
// live stanzas from the head on (never the tombstones below the head).
func (s *Store) loadQueue(key string) (st *queueState, err error) {
	st = &queueState{head: 1}
	v, err := s.get(queueHeadKey(key))
	switch {
	case err == nil:
		if st.head, err = decodeUint64(v); err != nil {
			return nil, fmt.Errorf("queue head of %s: %w", key, err)
		}
	case !errors.Is(err, store.ErrNotFound):
		return nil, err
	}
	p := queuePrefix(key)
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: queueKey(p, st.head), UpperBound: prefixEnd(p)})
	if err != nil {
		return nil, fmt.Errorf("pebble store: %w", err)
	}
	defer closeIter(it, &err)
	st.next = st.head
	for ok := it.First(); ok; ok = it.Next() {
		seq, ok := queueSeq(it.Key(), len(p))
		if !ok {
			return nil, fmt.Errorf("%w: queue key %q", errCorrupt, it.Key())
		}
		if st.count == 0 {
			st.head = seq
		}
		st.count++
		st.next = seq + 1
	}
	return st, nil
}

// Enqueue implements store.Queue. Under the key's shard lock it assigns the
// seqs and applies the batch (so commit order is seq order and stanzas
// become visible in order); it waits for the WAL sync after unlocking, so
// concurrent writers share syncs.
func (s *Store) Enqueue(ctx context.Context, key string, payloads ...[]byte) (uint64, error) {
	if err := s.enter(ctx); err != nil {
		return 0, err
	}
	defer s.exit()
	first, b, err := s.enqueueApply(key, payloads)
	if err != nil || b == nil {
		return first, err
	}
	return first, s.finish(b)
}

// EnqueueStart implements store.QueueStarter: Enqueue up to the point where
// the stanzas are visible; wait syncs (sharing the sync with concurrent
// writers, as Enqueue does). The store's gate is not held in between: the
// caller runs hooks that use the store, and a read lock taken again while
// Close waits for the write lock would deadlock. wait enters the gate
// again; after a Close (which flushed the memtable, so the stanzas are
// durable) it returns store.ErrClosed.
func (s *Store) EnqueueStart(ctx context.Context, key string, payloads ...[]byte) (uint64, func() error, error) {
	if err := s.enter(ctx); err != nil {
		return 0, nil, err
	}
	defer s.exit()
	first, b, err := s.enqueueApply(key, payloads)
	if err != nil || b == nil {
		return first, nil, err
	}
	wait, err := s.started(ctx, b)
	return first, wait, err
}

// started returns the wait for b, applied by applyLocked but not synced:
// EnqueueStart's and EnqueueAllStart's. In the comparison sync modes it
// waits for b itself and returns a nil wait.
func (s *Store) started(ctx context.Context, b *pebble.Batch) (func() error, error) {
	if s.mode != syncLogData { // the comparison modes wait on the batch itself
		return nil, s.finish(b)
	}
	_ = b.Close() // applied: the sync needs only a WAL record after it
	db, started := s.db, s.starts.Add(1)
	return func() (err error) {
		if err := s.enter(context.WithoutCancel(ctx)); err != nil {
			return err
		}
		defer s.exit()
		if err := s.failure.err(); err != nil {
			return err
		}
		if s.db != db {
			return writeErr(errReopened)
		}
		if s.syncedStarts.Load() >= started {
			return nil // a sync since this append covered it (a session settles a read's messages at once)
		}
		defer s.recoverFatal(&err)
		return writeErr(s.syncLog())
	}, nil
}

// enqueueApply assigns the seqs and applies the batch under the key's shard
// lock. It returns the batch to pass to finish, or nil when there was
// nothing to write.
func (s *Store) enqueueApply(key string, payloads [][]byte) (uint64, *pebble.Batch, error) {
	sh := s.shard(key)
	sh.mu.Lock()
	st, err := s.state(sh, key, true)
	if err != nil {
		sh.mu.Unlock()
		return 0, nil, err
	}
	first := st.next
	if len(payloads) == 0 {
		sh.mu.Unlock()
		return first, nil, nil
	}
	p := queuePrefix(key)
	size := 0
	for _, pl := range payloads {
		size += len(p) + 8 + 10 + len(pl) + 16
	}
	b := s.db.NewBatchWithSize(size)
	var stamp [binary.MaxVarintLen64]byte
	ns := binary.PutVarint(stamp[:], time.Now().UnixNano())
	for i, pl := range payloads {
		// Encoded in place in the batch (decodeQueued's format).
		k := queueKey(p, first+uint64(i))
		op := b.SetDeferred(len(k), ns+len(pl))
		copy(op.Key, k)
		copy(op.Value[copy(op.Value, stamp[:ns]):], pl)
		_ = op.Finish()
	}
	if err := s.applyLocked(b, true); err != nil {
		sh.mu.Unlock()
		return 0, nil, err
	}
	s.queueWrites.Add(1)
	if st.count == 0 {
		sh.empty--
		st.head = first
	}
	st.next += uint64(len(payloads))
	st.count += len(payloads)
	sh.mu.Unlock()
	return first, b, nil
}

// EnqueueAll implements store.BatchQueue: Enqueue for many keys with one
// batch and one WAL sync. It holds the shard locks of all the keys (taken
// in shard order, so two calls cannot deadlock) while it assigns the seqs
// and applies the batch, and waits for the sync after unlocking.
func (s *Store) EnqueueAll(ctx context.Context, bs []store.QueueBatch) error {
	if err := s.enter(ctx); err != nil {
		return err
	}
	defer s.exit()
	b, err := s.enqueueAllApply(bs)
	if err != nil || b == nil {
		return err
	}
	return s.finish(b)
}

// EnqueueAllStart implements store.BatchQueueStarter: EnqueueAll up to
// the point where the stanzas are visible, with EnqueueStart's wait.
func (s *Store) EnqueueAllStart(ctx context.Context, bs []store.QueueBatch) (func() error, error) {
	if err := s.enter(ctx); err != nil {
		return nil, err
	}
	defer s.exit()
	b, err := s.enqueueAllApply(bs)
	if err != nil || b == nil {
		return nil, err
	}
	return s.started(ctx, b)
}

// enqueueAllApply assigns the seqs of bs and applies them in one batch
// under the shard locks of their keys. It returns the batch to pass to
// finish, or nil when there was nothing to write.
func (s *Store) enqueueAllApply(bs []store.QueueBatch) (*pebble.Batch, error) {
	unlock := s.lockShards(len(bs), func(i int) string { return bs[i].Key })
	defer unlock()
	states := make([]*queueState, len(bs))
	next := make(map[*queueState]uint64, len(bs)) // seqs assigned so far, applied after the batch
	size := 0
	for i := range bs {
		st, err := s.state(s.shard(bs[i].Key), bs[i].Key, true)
		if err != nil {
			return nil, err
		}
		states[i] = st
		if _, ok := next[st]; !ok {
			next[st] = st.next
		}
		bs[i].First = next[st]
		next[st] += uint64(len(bs[i].Payloads))
		for _, pl := range bs[i].Payloads {
			size += len(bs[i].Key) + 8 + 10 + len(pl) + 24
		}
	}
	if size == 0 {
		return nil, nil
	}
	b := s.db.NewBatchWithSize(size)
	var stamp [binary.MaxVarintLen64]byte
	ns := binary.PutVarint(stamp[:], time.Now().UnixNano())
	for _, qb := range bs {
		p := queuePrefix(qb.Key)
		for i, pl := range qb.Payloads {
			// Encoded in place in the batch (decodeQueued's format).
			k := queueKey(p, qb.First+uint64(i))
			op := b.SetDeferred(len(k), ns+len(pl))
			copy(op.Key, k)
			copy(op.Value[copy(op.Value, stamp[:ns]):], pl)
			_ = op.Finish()
		}
	}
	if err := s.applyLocked(b, true); err != nil {
		return nil, err
	}
	s.queueWrites.Add(1)
	for i, qb := range bs {
		st := states[i]
		if len(qb.Payloads) == 0 {
			continue
		}
		if st.count == 0 {
			s.shard(qb.Key).empty--
			st.head = qb.First
		}
		st.next = qb.First + uint64(len(qb.Payloads))
		st.count += len(qb.Payloads)
	}
	return b, nil
}

// lockShards locks the shards of n keys (key(i) is the i-th) in shard
// order, each once, and returns the function that unlocks them.
func (s *Store) lockShards(n int, key func(i int) string) (unlock func()) {
	var held [numShards]bool
	for i := range n {
		held[s.shardIndex(key(i))] = true
	}
	for i := range held {
		if held[i] {
			s.shards[i].mu.Lock()
		}
	}
	return func() {
		for i := range held {
			if held[i] {
				s.shards[i].mu.Unlock()
			}
		}
	}
}

// ReadQueue implements store.Queue. It iterates from the head, never over
// acked stanzas. A limit <= 0 means no limit.
func (s *Store) ReadQueue(ctx context.Context, key string, after uint64, limit int) (out []store.QueuedStanza, err error) {
	if err := s.enter(ctx); err != nil {
		return nil, err
	}
	defer s.exit()
	sh := s.shard(key)
	sh.mu.Lock()
	st, err := s.state(sh, key, false)
	var head, next uint64
	var count int
	if err == nil {
		head, next, count = st.head, st.next, st.count
	}
	sh.mu.Unlock()
	if err != nil {
		return nil, err
	}
	start := max(head, after+1)
	if count == 0 || start >= next || after == ^uint64(0) {
		return nil, nil
	}
	p := queuePrefix(key)
	it, err := s.db.NewIterWithContext(ctx, &pebble.IterOptions{LowerBound: queueKey(p, start), UpperBound: prefixEnd(p)})
	if err != nil {
		return nil, fmt.Errorf("pebble store: %w", err)
	}
	defer closeIter(it, &err)
	n := count
	if limit > 0 {
		n = min(n, limit)
	}
	out = make([]store.QueuedStanza, 0, min(n, 256))
	for ok := it.First(); ok && (limit <= 0 || len(out) < limit); ok = it.Next() {
		seq, ok := queueSeq(it.Key(), len(p))
		if !ok {
			return nil, fmt.Errorf("%w: queue key %q", errCorrupt, it.Key())
		}
		q, err := decodeQueued(seq, it.Value())
		if err != nil {
			return nil, err
		}
		out = append(out, q)
	}
	return out, nil
}

// QueueLen implements store.Queue, from the in-memory count.
func (s *Store) QueueLen(ctx context.Context, key string) (int, error) {
	if err := s.enter(ctx); err != nil {
		return 0, err
	}
	defer s.exit()
	sh := s.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	st, err := s.state(sh, key, false)
	if err != nil {
		return 0, err
	}
	return st.count, nil
}

// AckQueue implements store.Queue. Under the key's shard lock it finds which
// of seqs are live (all of them in a dense queue, the usual case of acks in
// order; otherwise by iterating from the lowest one), deletes them (a range
// tombstone per run of consecutive live acked stanzas, a point tombstone
// for a lone one), and advances the head past them: later reads and loads
// start at the head and never see the tombstones. Not synced.
func (s *Store) AckQueue(ctx context.Context, key string, seqs ...uint64) error {
	if err := s.enter(ctx); err != nil {
		return err
	}
	defer s.exit()
	if len(seqs) == 0 {
		return nil
	}
	sh := s.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	st, err := s.state(sh, key, false)
	if err != nil || st.count == 0 {
		return err
	}
	seqs = slices.Clone(seqs)
	slices.Sort(seqs)
	seqs = slices.Compact(seqs)
	lo, _ := slices.BinarySearch(seqs, st.head)
	hi, _ := slices.BinarySearch(seqs, st.next)
	if seqs = seqs[lo:hi]; len(seqs) == 0 {
		return nil
	}
	b := s.db.NewBatch()
	var deleted int
	var newHead uint64
	if st.dense() {
		deleted, newHead = deleteDense(b, queuePrefix(key), st, seqs)
	} else {
		deleted, newHead, err = s.deleteAcked(b, key, st, seqs)
	}
	if err != nil || deleted == 0 {
		_ = b.Close()
		return err
	}
	if newHead != st.head {
		_ = b.Set(queueHeadKey(key), encodeUint64(newHead), nil)
	}
	if err := s.applyLocked(b, false); err != nil {
		return err
	}
	st.head = newHead
	st.count -= deleted
	if st.count == 0 {
		if sh.empty++; sh.empty > sweepEmpty {
			sh.sweep()
		}
	}
	return nil
}

// dense reports whether every seq in [head, next) is live (no stanza
// after the head was acked out of order): then AckQueue knows which acked
// seqs are live without reading the queue.
func (st *queueState) dense() bool { return uint64(st.count) == st.next-st.head }

// deleteDense is deleteAcked for a dense queue (every seq in [st.head,
// st.next) live), without an iterator: each Pebble iterator re-fragments
// the memtable's range tombstones, which made the ack of a delivered
// stanza cost more than its synced enqueue.
func deleteDense(b *pebble.Batch, p []byte, st *queueState, seqs []uint64) (deleted int, newHead uint64) {
	newHead = st.head
	for i := 0; i < len(seqs); {
		j := i + 1
		for j < len(seqs) && seqs[j] == seqs[j-1]+1 {
			j++
		}
		deleteRun(b, p, seqs[i], seqs[j-1])
		if seqs[i] == st.head {
			newHead = seqs[j-1] + 1 // live, or st.next
		}
		i = j
	}
	return len(seqs), newHead
}

// deleteRun adds to b the deletion of the live stanzas [from, to]: one
// range tombstone for a long run, point tombstones otherwise.
func deleteRun(b *pebble.Batch, p []byte, from, to uint64) {
	if to-from+1 >= minRangeDelete {
		_ = b.DeleteRange(queueKey(p, from), queueKey(p, to+1), nil)
		return
	}
	for q := from; q <= to; q++ {
		_ = b.Delete(queueKey(p, q), nil)
	}
}

// deleteAcked adds to b the deletions of the live stanzas among seqs
// (sorted, distinct, within [st.head, st.next)) and returns how many there
// are and the head after them.
func (s *Store) deleteAcked(b *pebble.Batch, key string, st *queueState, seqs []uint64) (deleted int, newHead uint64, err error) {
	p := queuePrefix(key)
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: queueKey(p, seqs[0]), UpperBound: queueKey(p, st.next)})
	if err != nil {
		return 0, 0, fmt.Errorf("pebble store: %w", err)
	}
	defer closeIter(it, &err)
	headAcked := seqs[0] == st.head // the head is live (count > 0)
	newHead = st.head
	last := seqs[len(seqs)-1]
	var runStart, runEnd uint64 // current run of acked live stanzas [runStart, runEnd]
	inRun := false
	flush := func() {
		if inRun {
			deleteRun(b, p, runStart, runEnd)
			inRun = false
		}
	}
	i := 0
	for ok := it.First(); ok; ok = it.Next() {
		seq, ok := queueSeq(it.Key(), len(p))
		if !ok {
			return 0, 0, fmt.Errorf("%w: queue key %q", errCorrupt, it.Key())
		}
		for i < len(seqs) && seqs[i] < seq {
			i++
		}
		if i < len(seqs) && seqs[i] == seq { // live and acked
			deleted++
			if inRun && runEnd+1 == seq {
				runEnd = seq
			} else {
				flush()
				runStart, runEnd, inRun = seq, seq, true
			}
			continue
		}
		// Live and kept: it ends the run, and is the new head if the
		// stanzas before it were all acked.
		flush()
		if headAcked && newHead == st.head {
			newHead = seq
		}
		if seq > last && (!headAcked || newHead != st.head) {
			break
		}
	}
	flush()
	if headAcked && newHead == st.head {
		newHead = st.next // everything from the head on was acked
	}
	return deleted, newHead, nil
}

// sweep forgets the state of drained queues. Called with sh.mu held.
func (sh *shard) sweep() {
	for key, st := range sh.queues {
		if st.count == 0 {
			delete(sh.queues, key)
		}
	}
	sh.empty = 0
}

var (
	_ store.QueueStarter      = (*Store)(nil)
	_ store.BatchQueueStarter = (*Store)(nil)
)
