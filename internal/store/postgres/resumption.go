package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parley-im/parley/internal/store"
)

var _ store.Resumptions = (*Store)(nil)

// putResumptionSQL writes one record (an upsert).
const putResumptionSQL = `INSERT INTO resumptions
	(id, owner, jid, device, in_h, acked, presence, seqs, payloads, expires)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
	ON CONFLICT (id) DO UPDATE SET owner = excluded.owner, jid = excluded.jid,
		device = excluded.device, in_h = excluded.in_h, acked = excluded.acked,
		presence = excluded.presence, seqs = excluded.seqs, payloads = excluded.payloads,
		expires = excluded.expires`

// PutResumptions implements store.Resumptions: one upsert per record, sent
// as one batch (one round trip, one implicit transaction, one commit), in
// id order so that two batches with common ids cannot deadlock (of two
// records with one id, the later is written last).
func (s *Store) PutResumptions(ctx context.Context, rs []store.Resumption) error {
	if len(rs) == 0 {
		return nil
	}
	if err := s.enter(ctx); err != nil {
		return err
	}
	defer s.exit()
	sorted := slices.Clone(rs)
	slices.SortStableFunc(sorted, func(a, b store.Resumption) int { return strings.Compare(a.ID, b.ID) })
	err := s.sendBatch(ctx, func(b *pgx.Batch) {
		for _, r := range sorted {
			seqs := make([]int64, len(r.Unacked))
			payloads := make([][]byte, len(r.Unacked))
			for i, u := range r.Unacked {
				seqs[i], payloads[i] = int64(u.Seq), u.Payload
			}
			b.Queue(putResumptionSQL, r.ID, r.User, r.JID, r.Device, int64(r.InH), int64(r.Acked),
				r.Presence, seqs, payloads, r.Expires)
		}
	})
	return writeErr(ctx, fmt.Sprintf("put %d resumption records", len(rs)), err)
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
