package store

import (
	"context"
	"sync"
)

// Gate is the open/closed state every backend needs: operations Enter and
// Exit around their whole duration, Close waits for those in flight and
// makes every later Enter (and Close) fail with ErrClosed. The zero value
// is open.
type Gate struct {
	mu     sync.RWMutex
	closed bool // guarded by mu
}

// Enter starts an operation: it fails if ctx is done or the gate closed.
// Every successful Enter must be followed by Exit.
func (g *Gate) Enter(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	g.mu.RLock()
	if g.closed {
		g.mu.RUnlock()
		return ErrClosed
	}
	return nil
}

// Exit ends an operation started by Enter.
func (g *Gate) Exit() { g.mu.RUnlock() }

// Close waits for the operations in flight, then runs release once, with
// no operation running; later calls return ErrClosed.
func (g *Gate) Close(release func() error) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return ErrClosed
	}
	g.closed = true
	return release()
}

// Exclusive runs fn with no operation in flight, as Close does, but leaves
// the gate open: for a backend that must replace what its operations use
// (the Pebble store reopening its database after a failed write). It
// returns ErrClosed after Close. An operation must not Enter again while
// it is inside the gate: with Exclusive waiting, that would deadlock.
func (g *Gate) Exclusive(fn func() error) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return ErrClosed
	}
	return fn()
}
