package pebble

import (
	"context"
	"encoding/binary"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
	"github.com/parley-im/parley/internal/store"
)

// Push registrations (XEP-0357):
//
//	'n' c(user) c(service) c(node) -> created time, publish-option fields
//
// Keys sort by service then node, so one iterator lists a user's
// registrations in the contract's order and one range covers a service.
const prefixPush = 'n'

func pushPrefix(user string) []byte { return userKey(prefixPush, user) }

func pushServicePrefix(user, service string) []byte {
	return appendComponent(pushPrefix(user), service)
}

func pushKey(user, service, node string) []byte {
	return appendComponent(pushServicePrefix(user, service), node)
}

func encodePush(r store.PushRegistration) []byte {
	b := appendTime([]byte{recordV1}, r.Created)
	b = binary.AppendUvarint(b, uint64(len(r.Options)))
	for _, f := range r.Options {
		b = appendString(b, f.Var)
		b = binary.AppendUvarint(b, uint64(len(f.Values)))
		for _, v := range f.Values {
			b = appendString(b, v)
		}
	}
	return b
}

func decodePush(service, node string, v []byte) (store.PushRegistration, error) {
	r := newReader(v)
	reg := store.PushRegistration{Service: service, Node: node, Created: r.time()}
	n := r.uvarint()
	for i := uint64(0); i < n && r.err == nil; i++ {
		f := store.PushField{Var: r.string()}
		nv := r.uvarint()
		for j := uint64(0); j < nv && r.err == nil; j++ {
			f.Values = append(f.Values, r.string())
		}
		reg.Options = append(reg.Options, f)
	}
	return reg, r.done("push registration " + service + " " + node)
}

// AddPushRegistration implements store.Push: one durable set under the
// user's shard lock.
func (s *Store) AddPushRegistration(ctx context.Context, user string, r store.PushRegistration) error {
	return s.changeBlocklist(ctx, user, func(b *pebble.Batch) {
		_ = b.Set(pushKey(user, r.Service, r.Node), encodePush(r), nil)
	})
}

// RemovePushRegistrations implements store.Push: it counts the keys to
// remove and deletes them in one durable batch, under the user's shard lock.
func (s *Store) RemovePushRegistrations(ctx context.Context, user, service, node string) (int, error) {
	if err := s.enter(ctx); err != nil {
		return 0, err
	}
	defer s.exit()
	lo := pushServicePrefix(user, service)
	if node != "" {
		lo = pushKey(user, service, node)
	}
	hi := prefixEnd(lo)
	sh := s.shard(user)
	sh.mu.Lock()
	n, err := s.countKeys(ctx, lo, hi)
	if err != nil || n == 0 {
		sh.mu.Unlock()
		return 0, err
	}
	b := s.db.NewBatch()
	_ = b.DeleteRange(lo, hi, nil)
	err = s.applyLocked(b, true)
	sh.mu.Unlock()
	if err != nil {
		return 0, err
	}
	return n, s.finish(b)
}

// countKeys counts the keys in [lo, hi).
func (s *Store) countKeys(ctx context.Context, lo, hi []byte) (n int, err error) {
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

// PushRegistrations implements store.Push with one iterator.
func (s *Store) PushRegistrations(ctx context.Context, user string) (out []store.PushRegistration, err error) {
	if err := s.enter(ctx); err != nil {
		return nil, err
	}
	defer s.exit()
	p := pushPrefix(user)
	it, err := s.db.NewIterWithContext(ctx, &pebble.IterOptions{LowerBound: p, UpperBound: prefixEnd(p)})
	if err != nil {
		return nil, fmt.Errorf("pebble store: %w", err)
	}
	defer closeIter(it, &err)
	out = []store.PushRegistration{}
	for ok := it.First(); ok; ok = it.Next() {
		service, rest, ok1 := decodeComponent(it.Key()[len(p):])
		node, rest, ok2 := decodeComponent(rest)
		if !ok1 || !ok2 || len(rest) != 0 {
			return nil, fmt.Errorf("%w: push key %q", errCorrupt, it.Key())
		}
		v, err := it.ValueAndErr()
		if err != nil {
			return nil, fmt.Errorf("pebble store: %w", err)
		}
		reg, err := decodePush(service, node, v)
		if err != nil {
			return nil, err
		}
		out = append(out, reg)
	}
	return out, nil
}

var _ store.Push = (*Store)(nil)
