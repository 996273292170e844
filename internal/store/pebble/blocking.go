package pebble

import (
	"context"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
)

// GetBlocklist implements store.Blocking: one iterator over the user's
// block keys, which sort by JID.
func (s *Store) GetBlocklist(ctx context.Context, user string) (out []string, err error) {
	if err := s.enter(ctx); err != nil {
		return nil, err
	}
	defer s.exit()
	p := blockPrefix(user)
	it, err := s.db.NewIterWithContext(ctx, &pebble.IterOptions{LowerBound: p, UpperBound: prefixEnd(p)})
	if err != nil {
		return nil, fmt.Errorf("pebble store: %w", err)
	}
	defer closeIter(it, &err)
	out = []string{}
	for ok := it.First(); ok; ok = it.Next() {
		j, _, ok := decodeComponent(it.Key()[len(p):])
		if !ok {
			return nil, fmt.Errorf("%w: block key %q", errCorrupt, it.Key())
		}
		out = append(out, j)
	}
	return out, nil
}

// AddToBlocklist implements store.Blocking.
func (s *Store) AddToBlocklist(ctx context.Context, user string, jids []string) error {
	return s.changeBlocklist(ctx, user, func(b *pebble.Batch) {
		for _, j := range jids {
			_ = b.Set(blockKey(user, j), nil, nil)
		}
	})
}

// RemoveFromBlocklist implements store.Blocking.
func (s *Store) RemoveFromBlocklist(ctx context.Context, user string, jids []string) error {
	return s.changeBlocklist(ctx, user, func(b *pebble.Batch) {
		for _, j := range jids {
			_ = b.Delete(blockKey(user, j), nil)
		}
	})
}

// ClearBlocklist implements store.Blocking with one range delete.
func (s *Store) ClearBlocklist(ctx context.Context, user string) error {
	return s.changeBlocklist(ctx, user, func(b *pebble.Batch) {
		p := blockPrefix(user)
		_ = b.DeleteRange(p, prefixEnd(p), nil)
	})
}

// changeBlocklist applies the batch fill builds, durably, under the user's
// shard lock (so that it is ordered with DeleteAccount and other changes).
func (s *Store) changeBlocklist(ctx context.Context, user string, fill func(*pebble.Batch)) error {
	if err := s.enter(ctx); err != nil {
		return err
	}
	defer s.exit()
	b := s.db.NewBatch()
	fill(b)
	if b.Empty() {
		_ = b.Close()
		return nil
	}
	return s.commitDurable(user, b)
}
