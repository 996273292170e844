package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parley-im/parley/internal/store"
)

var _ store.Resumptions = (*Store)(nil)

// putResumptionsSQL writes a batch of records in one statement. $1 to $8
// are the records' columns, one element per record; each record's
// unacknowledged stanzas are the n ($10) elements of $11 (seqs) and $12
// (payloads) after its offset first ($9). Rows are written in id order,
// so that two batches with common ids cannot deadlock.
const putResumptionsSQL = `INSERT INTO resumptions
	(id, owner, jid, device, in_h, acked, presence, seqs, payloads, expires)
	SELECT r.id, r.owner, r.jid, r.device, r.in_h, r.acked, r.presence,
		COALESCE(($11::int8[])[r.first + 1 : r.first + r.n], '{}'),
		COALESCE(($12::bytea[])[r.first + 1 : r.first + r.n], '{}'),
		r.expires
	FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int8[], $6::int8[], $7::bytea[],
		$8::timestamptz[], $9::int4[], $10::int4[])
		AS r(id, owner, jid, device, in_h, acked, presence, expires, first, n)
	ORDER BY r.id COLLATE "C"
	ON CONFLICT (id) DO UPDATE SET owner = excluded.owner, jid = excluded.jid,
		device = excluded.device, in_h = excluded.in_h, acked = excluded.acked,
		presence = excluded.presence, seqs = excluded.seqs, payloads = excluded.payloads,
		expires = excluded.expires`

// resumptionColumns are a batch of records as putResumptionsSQL's arguments.
type resumptionColumns struct {
	ids, owners, jids, devices []string
	inH, acked                 []int64
	presences                  [][]byte
	expires                    []time.Time
	first, n                   []int32
	seqs                       []int64
	payloads                   [][]byte
}

func (c *resumptionColumns) add(r store.Resumption) {
	c.ids, c.owners, c.jids, c.devices = append(c.ids, r.ID), append(c.owners, r.User), append(c.jids, r.JID), append(c.devices, r.Device)
	c.inH, c.acked = append(c.inH, int64(r.InH)), append(c.acked, int64(r.Acked))
	c.presences, c.expires = append(c.presences, r.Presence), append(c.expires, r.Expires)
	c.first, c.n = append(c.first, int32(len(c.seqs))), append(c.n, int32(len(r.Unacked)))
	for _, u := range r.Unacked {
		c.seqs, c.payloads = append(c.seqs, int64(u.Seq)), append(c.payloads, u.Payload)
	}
}

// PutResumptions implements store.Resumptions: one statement (one
// implicit transaction, one commit) for the batch. A statement cannot
// upsert one row twice: of two records with one id, only the later is
// sent.
func (s *Store) PutResumptions(ctx context.Context, rs []store.Resumption) error {
	if len(rs) == 0 {
		return nil
	}
	if err := s.enter(ctx); err != nil {
		return err
	}
	defer s.exit()
	last := make(map[string]int, len(rs))
	for i, r := range rs {
		last[r.ID] = i
	}
	c := resumptionColumns{seqs: []int64{}, payloads: [][]byte{}}
	for i, r := range rs {
		if last[r.ID] == i {
			c.add(r)
		}
	}
	_, err := s.pool.Exec(ctx, putResumptionsSQL, c.ids, c.owners, c.jids, c.devices, c.inH, c.acked,
		c.presences, c.expires, c.first, c.n, c.seqs, c.payloads)
	return writeErr(ctx, fmt.Sprintf("put %d resumption records", len(c.ids)), err)
}

// TakeResumption implements store.Resumptions: one DELETE ... RETURNING,
// which PostgreSQL runs atomically (one of concurrent takes deletes the row).
func (s *Store) TakeResumption(ctx context.Context, id, user, device string, now time.Time) (store.Resumption, error) {
	if err := s.enter(ctx); err != nil {
		return store.Resumption{}, err
	}
	defer s.exit()
	r := store.Resumption{ID: id, User: user, Device: device}
	var inH, acked int64
	var seqs []int64
	var payloads [][]byte
	err := s.pool.QueryRow(ctx, `DELETE FROM resumptions
		WHERE id = $1 AND owner = $2 AND device = $3 AND expires > $4
		RETURNING jid, in_h, acked, presence, seqs, payloads, expires`,
		id, user, device, now).Scan(&r.JID, &inH, &acked, &r.Presence, &seqs, &payloads, &r.Expires)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Resumption{}, fmt.Errorf("%w: resumption %s", store.ErrNotFound, id)
	}
	if err != nil {
		return store.Resumption{}, writeErr(ctx, "take resumption of "+user, err)
	}
	if len(seqs) != len(payloads) {
		return store.Resumption{}, fmt.Errorf("postgres store: resumption %s: %d seqs for %d payloads", id, len(seqs), len(payloads))
	}
	r.InH, r.Acked = uint32(inH), uint32(acked)
	for i := range seqs {
		r.Unacked = append(r.Unacked, store.ResumedStanza{Seq: uint64(seqs[i]), Payload: payloads[i]})
	}
	r.Expires = r.Expires.UTC()
	return r, nil
}

// DeleteExpiredResumptions implements store.Resumptions: one delete, from
// the expiry index.
func (s *Store) DeleteExpiredResumptions(ctx context.Context, now time.Time) (int, error) {
	if err := s.enter(ctx); err != nil {
		return 0, err
	}
	defer s.exit()
	tag, err := s.pool.Exec(ctx, `DELETE FROM resumptions WHERE expires <= $1`, now)
	if err != nil {
		return 0, writeErr(ctx, "delete expired resumptions", err)
	}
	return int(tag.RowsAffected()), nil
}
