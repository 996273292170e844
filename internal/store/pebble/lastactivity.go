package pebble

import (
	"context"
	"fmt"

	"github.com/parley-im/parley/internal/store"
)

// PutLastSeen implements store.LastActivity: one unsynced batch.
func (s *Store) PutLastSeen(ctx context.Context, records map[string]store.LastSeen) error {
	if err := s.enter(ctx); err != nil {
		return err
	}
	defer s.exit()
	if len(records) == 0 {
		return nil
	}
	b := s.db.NewBatch()
	for jid, ls := range records {
		_ = b.Set(lastSeenKey(jid), encodeLastSeen(ls), nil)
	}
	return s.applyLocked(b, false)
}

// GetLastSeen implements store.LastActivity.
func (s *Store) GetLastSeen(ctx context.Context, jid string) (store.LastSeen, error) {
	if err := s.enter(ctx); err != nil {
		return store.LastSeen{}, err
	}
	defer s.exit()
	v, err := s.get(lastSeenKey(jid))
	if err != nil {
		return store.LastSeen{}, fmt.Errorf("last seen of %s: %w", jid, err)
	}
	return decodeLastSeen(jid, v)
}
