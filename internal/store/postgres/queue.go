package postgres

import (
	"context"
	"math"
	"slices"
	"time"

	"github.com/parley-im/parley/internal/store"
)

// headSQL is the queue's head: every seq below it was acknowledged. A
// queue without a head row starts at 1.
const headSQL = `coalesce((SELECT head FROM queue_heads WHERE key = $1), 1)`

// readQueueSQL reads from max(after+1, head) on, so the index scan starts
// past every acknowledged stanza and never visits their dead entries.
// LIMIT NULL is no limit.
const readQueueSQL = `SELECT seq, stored, payload FROM queue
WHERE key = $1 AND seq > greatest($2::int8, ` + headSQL + ` - 1)
ORDER BY seq LIMIT $3`

const queueLenSQL = `SELECT count(*) FROM queue WHERE key = $1 AND seq >= ` + headSQL

const nextSeqSQL = `SELECT coalesce((SELECT next_seq FROM queue_seqs WHERE key = $1), 1)`

// ackSQL deletes the acknowledged stanzas and advances the head, in one
// statement with an asynchronous commit. The new head is the first stanza
// at or above the old head that this statement did not delete (it sees
// the rows as they were before the delete), or, if there is none, one past
// the highest deleted seq. Why that is never too high (which would hide
// stanzas): seqs of a key are assigned in commit order (enqueueSQL), so a
// stanza not yet visible here has a seq above every deleted one, which
// were all committed. A concurrent ack can only make the head too low
// (harmless: reads filter by seq), and greatest() keeps it from moving
// back.
//
// $3 and $4 are the lowest and highest of the seqs $2: the range bounds the
// index scan. Without them PostgreSQL was seen (generic plan, a key whose
// few live rows sat above 20,000 acked ones) to scan the index on key
// alone, visiting every dead entry of the key, and filter seq = ANY on the
// heap: a single ack took 1 ms and 900 buffers instead of 0.1 ms.
const ackSQL = `WITH ` + asyncCommit + `, d AS (
	DELETE FROM queue USING async
	WHERE key = $1 AND seq >= $3 AND seq <= $4 AND seq = ANY($2::int8[])
	RETURNING seq
), cur AS (
	SELECT ` + headSQL + ` AS head
), nh AS MATERIALIZED (
	SELECT coalesce(
		(SELECT q.seq FROM queue q WHERE q.key = $1 AND q.seq >= (SELECT head FROM cur)
			AND q.seq NOT IN (SELECT seq FROM d) ORDER BY q.seq LIMIT 1),
		(SELECT max(seq) + 1 FROM d)) AS head
)
INSERT INTO queue_heads AS h (key, head)
SELECT $1, nh.head FROM nh, cur WHERE nh.head > cur.head
ON CONFLICT (key) DO UPDATE SET head = greatest(h.head, excluded.head)`

// Enqueue implements store.Queue. Concurrent calls are written together,
// one statement and one commit per batch (commit.go); the call returns
// once its batch's commit is flushed. Enqueue with no payloads returns the
// seq the next stanza would get and writes nothing.
func (s *Store) Enqueue(ctx context.Context, key string, payloads ...[]byte) (uint64, error) {
	if err := s.enter(ctx); err != nil {
		return 0, err
	}
	defer s.exit()
	if len(payloads) == 0 {
		var next int64
		if err := s.pool.QueryRow(ctx, nextSeqSQL, key).Scan(&next); err != nil {
			return 0, readErr("queue "+key, err)
		}
		return uint64(next), nil
	}
	return s.gc.enqueue(ctx, key, payloads)
}

// ReadQueue implements store.Queue. A limit <= 0 means no limit.
func (s *Store) ReadQueue(ctx context.Context, key string, after uint64, limit int) ([]store.QueuedStanza, error) {
	if err := s.enter(ctx); err != nil {
		return nil, err
	}
	defer s.exit()
	if after >= math.MaxInt64 { // no seq is that high
		return nil, nil
	}
	var lim *int64
	if limit > 0 {
		l := int64(limit)
		lim = &l
	}
	rows, err := s.pool.Query(ctx, readQueueSQL, key, int64(after), lim)
	if err != nil {
		return nil, readErr("read queue "+key, err)
	}
	defer rows.Close()
	var out []store.QueuedStanza
	for rows.Next() {
		var seq int64
		var stored time.Time
		var payload []byte
		if err := rows.Scan(&seq, &stored, &payload); err != nil {
			return nil, readErr("read queue "+key, err)
		}
		out = append(out, store.QueuedStanza{Seq: uint64(seq), Stored: stored.UTC(), Payload: payload})
	}
	if err := rows.Err(); err != nil {
		return nil, readErr("read queue "+key, err)
	}
	return out, nil
}

// QueueLen implements store.Queue: it counts the live stanzas from the
// head on (an index range scan over them only).
func (s *Store) QueueLen(ctx context.Context, key string) (int, error) {
	if err := s.enter(ctx); err != nil {
		return 0, err
	}
	defer s.exit()
	var n int64
	if err := s.pool.QueryRow(ctx, queueLenSQL, key).Scan(&n); err != nil {
		return 0, readErr("queue length of "+key, err)
	}
	return int(n), nil
}

// AckQueue implements store.Queue: one statement, committed without
// waiting for the WAL flush (a lost ack is a redelivery).
func (s *Store) AckQueue(ctx context.Context, key string, seqs ...uint64) error {
	if err := s.enter(ctx); err != nil {
		return err
	}
	defer s.exit()
	ids := make([]int64, 0, len(seqs))
	for _, q := range seqs {
		if q > 0 && q < math.MaxInt64 {
			ids = append(ids, int64(q))
		}
	}
	if len(ids) == 0 {
		return nil
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	err := retryDeadlock(func() error {
		_, err := s.pool.Exec(ctx, ackSQL, key, ids, ids[0], ids[len(ids)-1])
		return err
	})
	return writeErr(ctx, "ack queue "+key, err)
}
