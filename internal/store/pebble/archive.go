package pebble

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/parley-im/parley/internal/store"
)

// The archive (store.Archive) lives under one prefix byte, then a kind
// byte (see doc.go):
//
//	'm' 'a' c(user) ts c(id)           message: with + payload
//	'm' 'w' c(user) c(with) ts c(id)   by peer: empty (its 'a' key has the same suffix)
//	'm' 'i' c(user) c(id)              ts + with (locates an id)
//	'm' 'p' c(user)                    preferences
//
// ts is the time in Unix nanoseconds, big-endian with the sign bit
// flipped, so that keys sort by time, then id.
const (
	prefixArchive = 'm'
	archMessages  = 'a'
	archWith      = 'w'
	archIDs       = 'i'
	archPrefs     = 'p'
)

func archPrefix(kind byte, user string) []byte {
	return appendComponent([]byte{prefixArchive, kind}, user)
}

func archWithPrefix(user, with string) []byte {
	return appendComponent(archPrefix(archWith, user), with)
}

func appendTS(dst []byte, t time.Time) []byte {
	return binary.BigEndian.AppendUint64(dst, uint64(t.UnixNano())^(1<<63))
}

func decodeTS(b []byte) time.Time {
	return time.Unix(0, int64(binary.BigEndian.Uint64(b)^(1<<63))).UTC()
}

// archKey appends ts and c(id) to a copy of prefix.
func archKey(prefix []byte, t time.Time, id string) []byte {
	k := appendTS(slices.Clip(prefix), t)
	return appendComponent(k, id)
}

func encodeArchived(with string, payload []byte) []byte {
	v := appendString([]byte{recordV1}, with)
	return appendBytes(v, payload)
}

// decodeArchived decodes a message key's suffix (after its prefix) and value.
func decodeArchived(suffix, v []byte) (store.ArchivedMessage, error) {
	if len(suffix) < 8 {
		return store.ArchivedMessage{}, fmt.Errorf("%w: archive key", errCorrupt)
	}
	id, rest, ok := decodeComponent(suffix[8:])
	if !ok || len(rest) != 0 {
		return store.ArchivedMessage{}, fmt.Errorf("%w: archive key", errCorrupt)
	}
	r := newReader(v)
	m := store.ArchivedMessage{ID: id, Time: decodeTS(suffix[:8]), With: r.string(), Payload: r.bytes()}
	return m, r.done("archived message")
}

// AppendArchive implements store.Archive: three keys in one unsynced
// batch, under the user's shard lock (ordered with DeleteAccount). It reads
// nothing: a duplicate id is not detected (the contract allows it; under
// load a read per append cost more than the writes).
func (s *Store) AppendArchive(ctx context.Context, user string, m store.ArchivedMessage) error {
	if err := s.enter(ctx); err != nil {
		return err
	}
	defer s.exit()
	v := encodeArchived(m.With, m.Payload)
	b := s.db.NewBatch()
	_ = b.Set(archKey(archPrefix(archMessages, user), m.Time, m.ID), v, nil)
	_ = b.Set(archKey(archWithPrefix(user, m.With), m.Time, m.ID), nil, nil)
	_ = b.Set(appendComponent(archPrefix(archIDs, user), m.ID), appendString(appendTS([]byte{recordV1}, m.Time), m.With), nil)
	sh := s.shard(user)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	return s.applyLocked(b, false)
}

// locate returns the time of the message id in user's archive.
func (s *Store) locate(user, id string) (time.Time, string, error) {
	v, err := s.get(appendComponent(archPrefix(archIDs, user), id))
	if err != nil {
		return time.Time{}, "", fmt.Errorf("archive of %s, id %s: %w", user, id, err)
	}
	if len(v) < 9 || v[0] != recordV1 {
		return time.Time{}, "", fmt.Errorf("%w: archive id record", errCorrupt)
	}
	t := decodeTS(v[1:9])
	r := &reader{b: v[9:]}
	with := r.string()
	return t, with, r.done("archive id record")
}

// archiveRange returns the key range q selects in user's archive: the
// peer index when q.With is set, the time-ordered messages otherwise.
// Every key in it is prefix + ts + c(id).
func (s *Store) archiveRange(user string, q store.ArchiveQuery) (prefix, lo, hi []byte, err error) {
	prefix = archPrefix(archMessages, user)
	if q.With != "" {
		prefix = archWithPrefix(user, q.With)
	}
	lo, hi = prefix, prefixEnd(prefix)
	raise := func(k []byte) {
		if bytes.Compare(k, lo) > 0 {
			lo = k
		}
	}
	lower := func(k []byte) {
		if bytes.Compare(k, hi) < 0 {
			hi = k
		}
	}
	if !q.Start.IsZero() {
		raise(appendTS(slices.Clip(prefix), q.Start))
	}
	if !q.End.IsZero() {
		lower(appendTS(slices.Clip(prefix), q.End.Add(time.Nanosecond)))
	}
	if q.AfterID != "" {
		t, _, err := s.locate(user, q.AfterID)
		if err != nil {
			return nil, nil, nil, err
		}
		raise(append(archKey(prefix, t, q.AfterID), 0)) // the first key after it
	}
	if q.BeforeID != "" {
		t, _, err := s.locate(user, q.BeforeID)
		if err != nil {
			return nil, nil, nil, err
		}
		lower(archKey(prefix, t, q.BeforeID))
	}
	return prefix, lo, hi, nil
}

// QueryArchive implements store.Archive with one iterator over the
// selected range: it reads at most Max+1 records.
func (s *Store) QueryArchive(ctx context.Context, user string, q store.ArchiveQuery) (page []store.ArchivedMessage, complete bool, err error) {
	if err := s.enter(ctx); err != nil {
		return nil, false, err
	}
	defer s.exit()
	prefix, lo, hi, err := s.archiveRange(user, q)
	if err != nil {
		return nil, false, err
	}
	if bytes.Compare(lo, hi) >= 0 {
		return nil, true, nil
	}
	it, err := s.db.NewIterWithContext(ctx, &pebble.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		return nil, false, fmt.Errorf("pebble store: %w", err)
	}
	defer closeIter(it, &err)
	first, step := it.First, it.Next
	if q.Backward {
		first, step = it.Last, it.Prev
	}
	for ok := first(); ok && (q.Max <= 0 || len(page) <= q.Max); ok = step() {
		m, err := s.archivedAt(it, user, prefix, q.With != "")
		if err != nil {
			return nil, false, err
		}
		page = append(page, m)
	}
	complete = q.Max <= 0 || len(page) <= q.Max
	if !complete {
		page = page[:q.Max]
	}
	if q.Backward {
		slices.Reverse(page)
	}
	return page, complete, nil
}

// archivedAt decodes the message at it: its value, or, on the peer index
// (byPeer), the message key with the same suffix (one point read: peer
// entries carry no copy, so that an append writes the payload once).
func (s *Store) archivedAt(it *pebble.Iterator, user string, prefix []byte, byPeer bool) (store.ArchivedMessage, error) {
	suffix := it.Key()[len(prefix):]
	if byPeer {
		v, err := s.get(append(archPrefix(archMessages, user), suffix...))
		if err != nil {
			return store.ArchivedMessage{}, fmt.Errorf("archive of %s: peer index entry without its message: %w", user, err)
		}
		return decodeArchived(suffix, v)
	}
	v, err := it.ValueAndErr()
	if err != nil {
		return store.ArchivedMessage{}, fmt.Errorf("pebble store: %w", err)
	}
	return decodeArchived(suffix, v)
}

// CountArchive implements store.Archive by walking the range's keys.
func (s *Store) CountArchive(ctx context.Context, user string, q store.ArchiveQuery) (n int, err error) {
	if err := s.enter(ctx); err != nil {
		return 0, err
	}
	defer s.exit()
	_, lo, hi, err := s.archiveRange(user, q)
	if err != nil || bytes.Compare(lo, hi) >= 0 {
		return 0, err
	}
	it, err := s.db.NewIterWithContext(ctx, &pebble.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		return 0, fmt.Errorf("pebble store: %w", err)
	}
	defer closeIter(it, &err)
	for ok := it.First(); ok; ok = it.Next() {
		n++
	}
	return n, nil
}

// DeleteArchiveBefore implements store.Archive. It visits users in key
// order: for each, it reads the messages older than cutoff (the start of
// the user's range), deletes them with one range tombstone and their index
// entries with point tombstones, then seeks to the next user; so a sweep
// costs one seek per user plus the deleted messages.
func (s *Store) DeleteArchiveBefore(ctx context.Context, cutoff time.Time, limit int) (n int, err error) {
	if err := s.enter(ctx); err != nil {
		return 0, err
	}
	defer s.exit()
	root := []byte{prefixArchive, archMessages}
	it, err := s.db.NewIterWithContext(ctx, &pebble.IterOptions{LowerBound: root, UpperBound: prefixEnd(root)})
	if err != nil {
		return 0, fmt.Errorf("pebble store: %w", err)
	}
	defer closeIter(it, &err)
	for ok := it.First(); ok && (limit <= 0 || n < limit); {
		user, _, valid := decodeComponent(it.Key()[len(root):])
		if !valid {
			return n, fmt.Errorf("%w: archive key %q", errCorrupt, it.Key())
		}
		remaining := 0
		if limit > 0 {
			remaining = limit - n
		}
		d, err := s.deleteUserBefore(it, user, cutoff, remaining)
		n += d
		if err != nil {
			return n, err
		}
		ok = it.SeekGE(prefixEnd(archPrefix(archMessages, user)))
	}
	return n, nil
}

// deleteUserBefore deletes up to max (<= 0: all) of user's messages older
// than cutoff; it is positioned on the user's first message.
func (s *Store) deleteUserBefore(it *pebble.Iterator, user string, cutoff time.Time, max int) (int, error) {
	up := archPrefix(archMessages, user)
	cut := appendTS(slices.Clip(up), cutoff)
	b := s.db.NewBatch()
	var last []byte
	d := 0
	for ok := true; ok && bytes.HasPrefix(it.Key(), up) && bytes.Compare(it.Key(), cut) < 0 && (max <= 0 || d < max); ok = it.Next() {
		v, err := it.ValueAndErr()
		if err != nil {
			_ = b.Close()
			return 0, fmt.Errorf("pebble store: %w", err)
		}
		m, err := decodeArchived(it.Key()[len(up):], v)
		if err != nil {
			_ = b.Close()
			return 0, err
		}
		_ = b.Delete(appendComponent(archPrefix(archIDs, user), m.ID), nil)
		_ = b.Delete(archKey(archWithPrefix(user, m.With), m.Time, m.ID), nil)
		last = append(last[:0], it.Key()...)
		d++
	}
	if d == 0 {
		_ = b.Close()
		return 0, nil
	}
	_ = b.DeleteRange(up, append(last, 0), nil)
	sh := s.shard(user)
	sh.mu.Lock()
	err := s.applyLocked(b, false)
	sh.mu.Unlock()
	if err != nil {
		return 0, err
	}
	return d, nil
}

// deleteArchiveOf adds to b the deletion of user's archive and
// preferences (DeleteAccount).
func deleteArchiveOf(b *pebble.Batch, user string) {
	for _, kind := range []byte{archMessages, archWith, archIDs} {
		p := archPrefix(kind, user)
		_ = b.DeleteRange(p, prefixEnd(p), nil)
	}
	_ = b.Delete(archPrefix(archPrefs, user), nil)
}

// GetArchivePrefs implements store.Archive.
func (s *Store) GetArchivePrefs(ctx context.Context, user string) (store.ArchivePrefs, error) {
	if err := s.enter(ctx); err != nil {
		return store.ArchivePrefs{}, err
	}
	defer s.exit()
	v, err := s.get(archPrefix(archPrefs, user))
	if errors.Is(err, store.ErrNotFound) {
		return store.ArchivePrefs{}, nil
	}
	if err != nil {
		return store.ArchivePrefs{}, err
	}
	r := newReader(v)
	p := store.ArchivePrefs{Default: r.string(), Always: r.strings(), Never: r.strings()}
	return p, r.done("archive preferences")
}

// SetArchivePrefs implements store.Archive (durable).
func (s *Store) SetArchivePrefs(ctx context.Context, user string, p store.ArchivePrefs) error {
	if err := s.enter(ctx); err != nil {
		return err
	}
	defer s.exit()
	v := appendString([]byte{recordV1}, p.Default)
	for _, l := range [][]string{p.Always, p.Never} {
		v = binary.AppendUvarint(v, uint64(len(l)))
		for _, j := range l {
			v = appendString(v, j)
		}
	}
	b := s.db.NewBatch()
	_ = b.Set(archPrefix(archPrefs, user), v, nil)
	return s.commitDurable(user, b)
}

// strings reads a count and that many strings.
func (r *reader) strings() []string {
	n := r.uvarint()
	if n > uint64(len(r.b)) {
		r.fail()
		return nil
	}
	var out []string
	for range n {
		out = append(out, r.string())
	}
	return out
}

var _ store.Archive = (*Store)(nil)
