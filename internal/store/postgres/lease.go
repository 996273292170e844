package postgres

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parley-im/parley/internal/store"
)

var _ store.Leases = (*Store)(nil)

// leaseLockClass is the first key of the session advisory locks that are
// leases; the second is a hash of the schema's name and the lease's, so
// that stores on different schemas of one database do not share leases.
const leaseLockClass = 0x5061724c // "ParL"

// TryLease takes the named lease as a session advisory lock on a
// connection of its own, taken out of the pool: PostgreSQL holds the lock
// while that connection lives, and frees it when the holding process dies
// or its connection breaks (store.Leases).
func (s *Store) TryLease(ctx context.Context, name string) (store.Lease, bool, error) {
	if err := s.enter(ctx); err != nil {
		return nil, false, err
	}
	defer s.exit()
	pc, err := s.pool.Acquire(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("%w: postgres store: lease %s: %w", store.ErrUnavailable, name, err)
	}
	var ok bool
	err = pc.QueryRow(ctx, `SELECT pg_try_advisory_lock($1, hashtext(current_schema() || '/' || $2))`,
		leaseLockClass, name).Scan(&ok)
	if err != nil || !ok {
		pc.Release()
		if err != nil {
			return nil, false, fmt.Errorf("%w: postgres store: lease %s: %w", store.ErrUnavailable, name, err)
		}
		return nil, false, nil
	}
	return &lease{conn: pc.Hijack()}, true, nil
}

// lease is a held advisory lock: the connection that holds it.
type lease struct {
	mu   sync.Mutex
	conn *pgx.Conn // nil once lost or released
}

// Held checks that the holding connection still works (a round trip): the
// lock lives exactly as long as it does.
func (l *lease) Held(ctx context.Context) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.conn == nil {
		return false
	}
	if err := l.conn.Ping(ctx); err != nil {
		l.closeLocked()
		return false
	}
	return true
}

// Release closes the holding connection, which frees the lock.
func (l *lease) Release() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.closeLocked()
}

func (l *lease) closeLocked() {
	if l.conn == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = l.conn.Close(ctx)
	l.conn = nil
}
