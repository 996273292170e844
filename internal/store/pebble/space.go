package pebble

import (
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/parley-im/parley/internal/store"
)

// spaceGuard refuses durable writes while the store's filesystem has less
// free space than a floor: Pebble treats a failed WAL write as fatal, so
// Parley stops accepting new messages (the router answers
// resource-constraint, "wait") before the disk is full, keeps serving
// reads and deletes (which free space), and accepts again when space
// returns. The free space is read at most every checkEvery.
type spaceGuard struct {
	dir     string
	minFree uint64 // bytes; 0 disables the guard
	log     *slog.Logger
	free    func(dir string) (uint64, error)

	lastCheck atomic.Int64 // unix nanoseconds
	low       atomic.Bool
}

const checkEvery = 250 * time.Millisecond

// check returns store.ErrUnavailable while free space is below the floor.
func (g *spaceGuard) check() error {
	if g == nil || g.minFree == 0 || g.free == nil {
		return nil
	}
	now := time.Now().UnixNano()
	if last := g.lastCheck.Load(); now-last >= int64(checkEvery) && g.lastCheck.CompareAndSwap(last, now) {
		g.refresh()
	}
	if g.low.Load() {
		return fmt.Errorf("%w: less than %d MiB free on the store's disk", store.ErrUnavailable, g.minFree>>20)
	}
	return nil
}

func (g *spaceGuard) refresh() {
	free, err := g.free(g.dir)
	if err != nil {
		return // unknown: keep the last verdict
	}
	low := free < g.minFree
	if g.low.Swap(low) != low {
		if low {
			g.log.Warn("disk nearly full: refusing new messages until space returns", "free_bytes", free, "floor_bytes", g.minFree)
		} else {
			g.log.Info("disk space is back: accepting new messages", "free_bytes", free)
		}
	}
}
