package pebble

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/parley-im/parley/internal/store"
)

// Linked devices:
//
//	'd' c(user) c(id) -> name, created, last seen, token hash
//
// Keys sort by id, so one iterator lists a user's devices in the
// contract's order.
const prefixDevice = 'd'

func devicePrefix(user string) []byte { return userKey(prefixDevice, user) }

func deviceKey(user, id string) []byte { return appendComponent(devicePrefix(user), id) }

func encodeDevice(d store.Device) []byte {
	b := appendString([]byte{recordV1}, d.Name)
	b = appendTime(b, d.Created)
	b = appendTime(b, d.LastSeen)
	return appendBytes(b, d.TokenHash)
}

func decodeDevice(id string, v []byte) (store.Device, error) {
	r := newReader(v)
	d := store.Device{ID: id, Name: r.string(), Created: r.time(), LastSeen: r.time(), TokenHash: r.bytes()}
	return d, r.done("device " + id)
}

// AddDevice implements store.Devices: the account check, the count and
// the insert happen under the user's shard lock (DeleteAccount holds every
// shard lock), then one durable batch.
func (s *Store) AddDevice(ctx context.Context, user string, d store.Device, limit int) error {
	if err := s.enter(ctx); err != nil {
		return err
	}
	defer s.exit()
	sh := s.shard(user)
	sh.mu.Lock()
	if err := s.checkNewDevice(ctx, user, d.ID, limit); err != nil {
		sh.mu.Unlock()
		return err
	}
	b := s.db.NewBatch()
	_ = b.Set(deviceKey(user, d.ID), encodeDevice(d), nil)
	err := s.applyLocked(b, true)
	sh.mu.Unlock()
	if err != nil {
		return err
	}
	return s.finish(b)
}

// checkNewDevice checks, under the user's shard lock, that the account
// exists, the id is free and the limit not reached.
func (s *Store) checkNewDevice(ctx context.Context, user, id string, limit int) error {
	if _, err := s.get(accountKey(user)); err != nil {
		return fmt.Errorf("account %s: %w", user, err)
	}
	switch _, err := s.get(deviceKey(user, id)); {
	case err == nil:
		return fmt.Errorf("device %s of %s: %w", id, user, store.ErrExists)
	case !errors.Is(err, store.ErrNotFound):
		return err
	}
	if limit <= 0 {
		return nil
	}
	p := devicePrefix(user)
	n, err := s.countKeys(ctx, p, prefixEnd(p))
	if err != nil {
		return err
	}
	if n >= limit {
		return fmt.Errorf("%d devices of %s: %w", n, user, store.ErrLimit)
	}
	return nil
}

// GetDevice implements store.Devices.
func (s *Store) GetDevice(ctx context.Context, user, id string) (store.Device, error) {
	if err := s.enter(ctx); err != nil {
		return store.Device{}, err
	}
	defer s.exit()
	v, err := s.get(deviceKey(user, id))
	if err != nil {
		return store.Device{}, fmt.Errorf("device %s of %s: %w", id, user, err)
	}
	return decodeDevice(id, v)
}

// ListDevices implements store.Devices with one iterator.
func (s *Store) ListDevices(ctx context.Context, user string) (out []store.Device, err error) {
	if err := s.enter(ctx); err != nil {
		return nil, err
	}
	defer s.exit()
	p := devicePrefix(user)
	it, err := s.db.NewIterWithContext(ctx, &pebble.IterOptions{LowerBound: p, UpperBound: prefixEnd(p)})
	if err != nil {
		return nil, fmt.Errorf("pebble store: %w", err)
	}
	defer closeIter(it, &err)
	out = []store.Device{}
	for ok := it.First(); ok; ok = it.Next() {
		id, rest, ok := decodeComponent(it.Key()[len(p):])
		if !ok || len(rest) != 0 {
			return nil, fmt.Errorf("%w: device key %q", errCorrupt, it.Key())
		}
		v, err := it.ValueAndErr()
		if err != nil {
			return nil, fmt.Errorf("pebble store: %w", err)
		}
		d, err := decodeDevice(id, v)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

// TouchDevice implements store.Devices: a read-modify-write under the
// user's shard lock, not synced.
func (s *Store) TouchDevice(ctx context.Context, user, id string, t time.Time) error {
	if err := s.enter(ctx); err != nil {
		return err
	}
	defer s.exit()
	sh := s.shard(user)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	k := deviceKey(user, id)
	v, err := s.get(k)
	if err != nil {
		return fmt.Errorf("device %s of %s: %w", id, user, err)
	}
	d, err := decodeDevice(id, v)
	if err != nil {
		return err
	}
	d.LastSeen = t
	b := s.db.NewBatch()
	_ = b.Set(k, encodeDevice(d), nil)
	return s.applyLocked(b, false)
}

// RevokeDevice implements store.Devices: one durable delete under the
// user's shard lock.
func (s *Store) RevokeDevice(ctx context.Context, user, id string) error {
	if err := s.enter(ctx); err != nil {
		return err
	}
	defer s.exit()
	sh := s.shard(user)
	sh.mu.Lock()
	k := deviceKey(user, id)
	if _, err := s.get(k); err != nil {
		sh.mu.Unlock()
		return fmt.Errorf("device %s of %s: %w", id, user, err)
	}
	b := s.db.NewBatch()
	_ = b.Delete(k, nil)
	err := s.applyLocked(b, true)
	sh.mu.Unlock()
	if err != nil {
		return err
	}
	return s.finish(b)
}

var _ store.Devices = (*Store)(nil)
