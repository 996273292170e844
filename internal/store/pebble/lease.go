package pebble

import (
	"context"
	"sync"

	"github.com/parley-im/parley/internal/store"
)

var _ store.Leases = (*Store)(nil)

// leases are held in memory: a Pebble store is opened by one process at a
// time (its directory is locked), so that process's leases are all there
// are.
type leases struct {
	mu   sync.Mutex
	held map[string]*lease
}

type lease struct {
	set  *leases
	name string
}

// TryLease takes the named lease unless this process holds it already
// (store.Leases).
func (s *Store) TryLease(ctx context.Context, name string) (store.Lease, bool, error) {
	if err := s.gate.Enter(ctx); err != nil {
		return nil, false, err
	}
	defer s.gate.Exit()
	ls := &s.leases
	ls.mu.Lock()
	defer ls.mu.Unlock()
	if ls.held[name] != nil {
		return nil, false, nil
	}
	if ls.held == nil {
		ls.held = make(map[string]*lease)
	}
	l := &lease{set: ls, name: name}
	ls.held[name] = l
	return l, true, nil
}

func (l *lease) Held(context.Context) bool {
	l.set.mu.Lock()
	defer l.set.mu.Unlock()
	return l.set.held[l.name] == l
}

func (l *lease) Release() {
	l.set.mu.Lock()
	defer l.set.mu.Unlock()
	if l.set.held[l.name] == l {
		delete(l.set.held, l.name)
	}
}
