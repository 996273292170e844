package postgres

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parley-im/parley/internal/store"
)

// enqueueSQL writes one group-commit batch in one statement (one implicit
// transaction, one commit, one WAL flush).
//
// $1/$2 are the batch's distinct keys, sorted, and how many stanzas each
// gets. The first CTE reserves that many seqs per key in queue_seqs,
// locking the rows in key order (so two batches cannot deadlock) until the
// commit: a key's writers therefore commit in seq order, and a stanza
// becomes visible only after every lower seq of its key (store.Queue's
// ordering contract), across connections and Parley nodes alike.
//
// $3/$4/$5 are, per stanza, its key, its offset from the end of its key's
// run in this batch (n for the first, 1 for the last), and its payload:
// its seq is the key's new next_seq minus the offset.
const enqueueSQL = `WITH k AS (
	INSERT INTO queue_seqs AS s (key, next_seq)
	SELECT u.key, u.n + 1 FROM unnest($1::text[], $2::int8[]) AS u(key, n) ORDER BY u.key COLLATE "C"
	ON CONFLICT (key) DO UPDATE SET next_seq = s.next_seq + excluded.next_seq - 1
	RETURNING key, next_seq
), ins AS (
	INSERT INTO queue (key, seq, stored, payload)
	SELECT p.key, k.next_seq - p.off, now(), p.payload
	FROM unnest($3::text[], $4::int8[], $5::bytea[]) AS p(key, off, payload)
	JOIN k ON k.key = p.key COLLATE "C"
)
SELECT key, next_seq FROM k`

// groupCommit batches concurrent Enqueue calls without a goroutine of its
// own: the caller that finds a free flusher slot becomes a leader, takes
// the pending calls (its own first) as a batch, writes it, wakes the
// batch's callers, and hands its slot to the oldest call still pending,
// which leads the next batch. At most flushers batches are in flight. See
// doc.go, "Group commit".
type groupCommit struct {
	s           *Store
	flushers    int
	maxPayloads int
	maxBytes    int
	timeout     time.Duration

	mu       sync.Mutex
	pending  []*enqueueCall // waiting for a batch, oldest first; guarded by mu
	inFlight int            // batches being written (leaders); guarded by mu

	batches atomic.Int64 // batches written, for tests
}

// enqueueCall is one Enqueue call waiting in groupCommit.
type enqueueCall struct {
	key      string
	payloads [][]byte
	size     int // bytes of payloads

	// wake receives exactly one value: false when the call's batch is
	// written (first and err are then set), or true when the call must
	// lead batch (it was taken out of pending, at batch[0]).
	wake chan bool
	// Written by a leader before it sends on wake.
	first uint64
	err   error
	batch []*enqueueCall
}

func (g *groupCommit) init(s *Store, o Options) {
	g.s, g.flushers, g.maxPayloads, g.maxBytes, g.timeout = s, o.EnqueueFlushers, o.MaxBatchPayloads, o.MaxBatchBytes, o.WriteTimeout
}

// enqueue writes payloads to key in some batch and returns the first seq.
// If ctx ends while the call is still pending, it is withdrawn and ctx's
// error returned; once in a batch, the call waits for the batch.
func (g *groupCommit) enqueue(ctx context.Context, key string, payloads [][]byte) (uint64, error) {
	c := &enqueueCall{key: key, payloads: payloads, wake: make(chan bool, 1)}
	for _, p := range payloads {
		c.size += len(p)
	}
	g.mu.Lock()
	g.pending = append(g.pending, c)
	lead := g.inFlight < g.flushers
	if lead {
		g.inFlight++
		c.batch = g.takeLocked()
	}
	g.mu.Unlock()
	if lead {
		if g.lead(c.batch, c) {
			return c.first, c.err
		}
		// Not reached while pending is only non-empty when every slot is
		// taken; kept so that the call cannot be lost if that changes.
	}
	for {
		select {
		case lead = <-c.wake:
		case <-ctx.Done():
			if g.withdraw(c) {
				return 0, ctx.Err()
			}
			lead = <-c.wake
		}
		if !lead || g.lead(c.batch, c) {
			return c.first, c.err
		}
	}
}

// takeLocked removes the oldest pending calls that fit in one batch (at
// least one) and returns them. Called with g.mu held and pending non-empty.
func (g *groupCommit) takeLocked() []*enqueueCall {
	n, payloads, bytes := 0, 0, 0
	for _, c := range g.pending {
		if n > 0 && (payloads+len(c.payloads) > g.maxPayloads || bytes+c.size > g.maxBytes) {
			break
		}
		n++
		payloads += len(c.payloads)
		bytes += c.size
	}
	batch := slices.Clone(g.pending[:n])
	rest := copy(g.pending, g.pending[n:])
	clear(g.pending[rest:])
	g.pending = g.pending[:rest]
	return batch
}

// withdraw removes c from pending; false if a leader took it already.
func (g *groupCommit) withdraw(c *enqueueCall) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	i := slices.Index(g.pending, c)
	if i < 0 {
		return false
	}
	g.pending = slices.Delete(g.pending, i, i+1)
	return true
}

// lead writes batch, completes its calls, and passes the flusher slot on.
// It reports whether self was in the batch (and so is complete).
func (g *groupCommit) lead(batch []*enqueueCall, self *enqueueCall) bool {
	g.write(batch)
	in := false
	for _, c := range batch {
		if c == self {
			in = true
		} else {
			c.wake <- false
		}
	}
	g.mu.Lock()
	if len(g.pending) == 0 {
		g.inFlight--
		g.mu.Unlock()
		return in
	}
	next := g.pending[0]
	next.batch = g.takeLocked()
	g.mu.Unlock()
	next.wake <- true
	return in
}

// write runs enqueueSQL for batch and sets each call's first seq, or the
// error for all of them. It uses no caller's context: the batch is
// everyone's; Options.WriteTimeout bounds it.
func (g *groupCommit) write(batch []*enqueueCall) {
	g.batches.Add(1)
	counts := make(map[string]int64, len(batch))
	total := 0
	for _, c := range batch {
		counts[c.key] += int64(len(c.payloads))
		total += len(c.payloads)
	}
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, strings.Compare)
	ns := make([]int64, len(keys))
	for i, k := range keys {
		ns[i] = counts[k]
	}
	// Per stanza: key, offset from the end of the key's run, payload.
	// start[i] is call i's position in its key's run.
	pkeys := make([]string, 0, total)
	offs := make([]int64, 0, total)
	pls := make([][]byte, 0, total)
	placed := make(map[string]int64, len(keys))
	start := make([]int64, len(batch))
	for i, c := range batch {
		start[i] = placed[c.key]
		for _, p := range c.payloads {
			if p == nil {
				p = []byte{} // NULL is not a payload
			}
			pkeys = append(pkeys, c.key)
			offs = append(offs, counts[c.key]-placed[c.key])
			pls = append(pls, p)
			placed[c.key]++
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), g.timeout)
	defer cancel()
	next := make(map[string]int64, len(keys))
	err := retryDeadlock(func() error {
		rows, err := g.s.pool.Query(ctx, enqueueSQL, keys, ns, pkeys, offs, pls)
		if err != nil {
			return err
		}
		clear(next)
		var k string
		var n int64
		_, err = pgx.ForEachRow(rows, []any{&k, &n}, func() error {
			next[k] = n
			return nil
		})
		return err
	})
	if err == nil && len(next) != len(keys) {
		err = fmt.Errorf("batch of %d keys returned %d", len(keys), len(next))
	}
	if err != nil && len(batch) > 1 && isDataError(err) {
		// One call's data was refused: write each call alone, so that
		// only the culprit fails.
		for _, c := range batch {
			g.write([]*enqueueCall{c})
		}
		return
	}
	if err != nil {
		if isDataError(err) {
			err = fmt.Errorf("postgres store: enqueue: %w", err)
		} else {
			// Anything else, even the timeout: the database did not take
			// the batch in time (the callers' contexts are fine).
			err = fmt.Errorf("%w: postgres store: enqueue: %w", store.ErrUnavailable, err)
		}
		for _, c := range batch {
			c.err = err
		}
		return
	}
	for i, c := range batch {
		c.first = uint64(next[c.key] - counts[c.key] + start[i])
	}
}
