package pebble

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/parley-im/parley/internal/store"
)

// Resumption records (XEP-0198 state of a handed-off session):
//
//	's' c(id) -> user, jid, device, in h, acked, expires, presence,
//	             then each unacknowledged stanza as seq + payload
//
// Records are few (sessions handed off within the resume timeout) and
// short-lived; the expiry sweep walks them all.
const prefixResumption = 's'

func resumptionKey(id string) []byte { return userKey(prefixResumption, id) }

func encodeResumption(r store.Resumption) []byte {
	b := appendString([]byte{recordV1}, r.User)
	b = appendString(b, r.JID)
	b = appendString(b, r.Device)
	b = binary.AppendUvarint(b, uint64(r.InH))
	b = binary.AppendUvarint(b, uint64(r.Acked))
	b = appendTime(b, r.Expires)
	b = appendBytes(b, r.Presence)
	b = binary.AppendUvarint(b, uint64(len(r.Unacked)))
	for _, u := range r.Unacked {
		b = binary.AppendUvarint(b, u.Seq)
		b = appendBytes(b, u.Payload)
	}
	return b
}

func decodeResumption(id string, v []byte) (store.Resumption, error) {
	r := newReader(v)
	res := store.Resumption{ID: id, User: r.string(), JID: r.string(), Device: r.string()}
	res.InH, res.Acked = uint32(r.uvarint()), uint32(r.uvarint())
	res.Expires = r.time()
	res.Presence = r.bytes()
	n := r.uvarint()
	if n > uint64(len(r.b)) { // each entry takes at least two bytes
		r.fail()
	}
	for i := uint64(0); i < n && r.err == nil; i++ {
		res.Unacked = append(res.Unacked, store.ResumedStanza{Seq: r.uvarint(), Payload: r.bytes()})
	}
	return res, r.done("resumption " + id)
}

// PutResumptions implements store.Resumptions: one batch, applied under
// the shard locks of its ids (TakeResumption and the expiry sweep read and
// delete a record under its lock), and one sync.
func (s *Store) PutResumptions(ctx context.Context, rs []store.Resumption) error {
	if len(rs) == 0 {
		return nil
	}
	if err := s.enter(ctx); err != nil {
		return err
	}
	defer s.exit()
	b := s.db.NewBatch()
	for _, r := range rs {
		_ = b.Set(resumptionKey(r.ID), encodeResumption(r), nil)
	}
	unlock := s.lockShards(len(rs), func(i int) string { return rs[i].ID })
	err := s.applyLocked(b, true)
	unlock()
	if err != nil {
		return err
	}
	return s.finish(b)
}

// TakeResumption implements store.Resumptions: the read and the durable
// delete happen under the id's shard lock, so one take wins.
func (s *Store) TakeResumption(ctx context.Context, id, user, device string, now time.Time) (store.Resumption, error) {
	if err := s.enter(ctx); err != nil {
		return store.Resumption{}, err
	}
	defer s.exit()
	k := resumptionKey(id)
	sh := s.shard(id)
	sh.mu.Lock()
	v, err := s.get(k)
	if err != nil {
		sh.mu.Unlock()
		return store.Resumption{}, err
	}
	r, err := decodeResumption(id, v)
	switch {
	case err != nil:
		sh.mu.Unlock()
		return store.Resumption{}, err
	case r.User != user || r.Device != device || !now.Before(r.Expires):
		sh.mu.Unlock()
		return store.Resumption{}, fmt.Errorf("%w: resumption %s", store.ErrNotFound, id)
	}
	b := s.db.NewBatch()
	_ = b.Delete(k, nil)
	err = s.applyLocked(b, true)
	sh.mu.Unlock()
	if err != nil {
		return store.Resumption{}, err
	}
	return r, s.finish(b)
}

// DeleteExpiredResumptions implements store.Resumptions: it walks every
// record and deletes the expired ones, each under its shard lock.
func (s *Store) DeleteExpiredResumptions(ctx context.Context, now time.Time) (n int, err error) {
	if err := s.enter(ctx); err != nil {
		return 0, err
	}
	defer s.exit()
	expired, err := s.expiredResumptions(ctx, now)
	if err != nil {
		return 0, err
	}
	for _, id := range expired {
		sh := s.shard(id)
		sh.mu.Lock()
		v, err := s.get(resumptionKey(id))
		if err != nil {
			sh.mu.Unlock()
			if errors.Is(err, store.ErrNotFound) {
				continue // taken meanwhile
			}
			return n, err
		}
		if r, derr := decodeResumption(id, v); derr == nil && now.Before(r.Expires) {
			sh.mu.Unlock()
			continue // replaced meanwhile by a fresh record
		}
		b := s.db.NewBatch()
		_ = b.Delete(resumptionKey(id), nil)
		err = s.applyLocked(b, false)
		sh.mu.Unlock()
		if err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// expiredResumptions lists the ids of the records expired at now
// (unreadable records count as expired).
func (s *Store) expiredResumptions(ctx context.Context, now time.Time) (ids []string, err error) {
	p := []byte{prefixResumption}
	it, err := s.db.NewIterWithContext(ctx, &pebble.IterOptions{LowerBound: p, UpperBound: prefixEnd(p)})
	if err != nil {
		return nil, fmt.Errorf("pebble store: %w", err)
	}
	defer closeIter(it, &err)
	for ok := it.First(); ok; ok = it.Next() {
		id, _, ok := decodeComponent(it.Key()[1:])
		if !ok {
			return nil, fmt.Errorf("%w: resumption key %q", errCorrupt, it.Key())
		}
		v, err := it.ValueAndErr()
		if err != nil {
			return nil, fmt.Errorf("pebble store: %w", err)
		}
		if r, derr := decodeResumption(id, v); derr != nil || !now.Before(r.Expires) {
			ids = append(ids, id)
		}
	}
	return ids, nil
}

var _ store.Resumptions = (*Store)(nil)
