package pebble

import (
	"context"
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble/v2"

	"github.com/parley-im/parley/internal/store"
)

// GetRoster implements store.Roster. The version and the items are read by
// one iterator, so they are consistent with each other.
func (s *Store) GetRoster(ctx context.Context, owner string) (items []store.RosterItem, ver uint64, err error) {
	if err := s.enter(ctx); err != nil {
		return nil, 0, err
	}
	defer s.exit()
	p := rosterPrefix(owner)
	it, err := s.db.NewIterWithContext(ctx, &pebble.IterOptions{LowerBound: p, UpperBound: prefixEnd(p)})
	if err != nil {
		return nil, 0, fmt.Errorf("pebble store: %w", err)
	}
	defer closeIter(it, &err)
	for ok := it.First(); ok; ok = it.Next() {
		k := it.Key()
		if len(k) == len(p) { // the version key
			if ver, err = decodeUint64(it.Value()); err != nil {
				return nil, 0, fmt.Errorf("roster version of %s: %w", owner, err)
			}
			continue
		}
		contact, _, ok := decodeComponent(k[len(p):])
		if !ok {
			return nil, 0, fmt.Errorf("%w: roster key %q", errCorrupt, k)
		}
		item, err := decodeRosterItem(contact, it.Value())
		if err != nil {
			return nil, 0, err
		}
		items = append(items, item)
	}
	return items, ver, nil
}

// GetRosterItem implements store.Roster.
func (s *Store) GetRosterItem(ctx context.Context, owner, contact string) (store.RosterItem, error) {
	if err := s.enter(ctx); err != nil {
		return store.RosterItem{}, err
	}
	defer s.exit()
	v, err := s.get(rosterItemKey(owner, contact))
	if err != nil {
		return store.RosterItem{}, fmt.Errorf("roster item %s of %s: %w", contact, owner, err)
	}
	return decodeRosterItem(contact, v)
}

// PutRosterItem implements store.Roster.
func (s *Store) PutRosterItem(ctx context.Context, owner string, item store.RosterItem) (uint64, error) {
	if err := s.enter(ctx); err != nil {
		return 0, err
	}
	defer s.exit()
	return s.changeRoster(owner, item.JID, encodeRosterItem(item))
}

// DeleteRosterItem implements store.Roster.
func (s *Store) DeleteRosterItem(ctx context.Context, owner, contact string) (uint64, error) {
	if err := s.enter(ctx); err != nil {
		return 0, err
	}
	defer s.exit()
	return s.changeRoster(owner, contact, nil)
}

// changeRoster sets (value != nil) or deletes an item and increments the
// owner's version in the same batch, under the owner's shard lock.
func (s *Store) changeRoster(owner, contact string, value []byte) (uint64, error) {
	ik, vk := rosterItemKey(owner, contact), rosterPrefix(owner)
	sh := s.shard(owner)
	sh.mu.Lock()
	if value == nil {
		if _, err := s.get(ik); err != nil {
			sh.mu.Unlock()
			return 0, fmt.Errorf("roster item %s of %s: %w", contact, owner, err)
		}
	}
	var ver uint64
	v, err := s.get(vk)
	if err == nil {
		ver, err = decodeUint64(v)
	}
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		sh.mu.Unlock()
		return 0, fmt.Errorf("roster version of %s: %w", owner, err)
	}
	ver++
	b := s.db.NewBatch()
	if value == nil {
		_ = b.Delete(ik, nil)
	} else {
		_ = b.Set(ik, value, nil)
	}
	_ = b.Set(vk, encodeUint64(ver), nil)
	err = s.applyLocked(b, true)
	sh.mu.Unlock()
	if err != nil {
		return 0, err
	}
	return ver, s.finish(b)
}
