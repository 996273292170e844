package pebble

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/parley-im/parley/internal/store"
)

// A failed write. Pebble cannot tell what reached the disk when a WAL write
// or sync fails, so it treats that as fatal (pebbleLogger.Fatalf), and the
// error sticks to its WAL: every later write fails too. Instead of ending
// the process, the store then:
//
//   - refuses every write with store.ErrUnavailable, so the router answers
//     resource-constraint (wait) and nothing is acknowledged that was not
//     synced: a write counts only once its sync returned;
//   - keeps serving reads from the same database (Pebble reads do not touch
//     the WAL);
//   - checks every Options.ReopenEvery whether the disk takes a synced write
//     again (and has the free space floor), and then reopens the database:
//     what was applied but never synced is gone, which is why nothing of it
//     was acknowledged. While a queue lives in memory its next seq survives
//     the reopen (seqFloor), so that a seq a session still holds for a
//     delivered stanza is never given to another stanza.
//
// A failure Pebble reports from its own background work (a flush or
// compaction that cannot update its manifest) still ends the process; the
// next start recovers from the WAL, as after a crash.

// fatalPanic is the value pebbleLogger.Fatalf panics with.
type fatalPanic string

// errReopened fails a sync wait for a write applied to the database a
// reopen replaced: that write was never synced.
var errReopened = errors.New("pebble store: the store was reopened after a failed write; this write was not stored")

// failure is the failed-write state of a store. The zero value (after
// init) is a store whose writes work.
type failure struct {
	failed atomic.Bool

	mu         sync.Mutex
	cause      error         // guarded by mu; nil while writes work
	recovering bool          // guarded by mu: a recovery goroutine runs
	done       chan struct{} // closed by stop
	stopOnce   sync.Once
	wg         sync.WaitGroup
}

func (f *failure) init() { f.done = make(chan struct{}) }

// err returns the error every write gets while the store is failed, nil
// otherwise.
func (f *failure) err() error {
	if !f.failed.Load() {
		return nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.cause == nil {
		return nil
	}
	return fmt.Errorf("%w: the store's disk failed a write (%v); refusing writes until it works again", store.ErrUnavailable, f.cause)
}

// WriteError implements store.WriteHealth.
func (s *Store) WriteError() error { return s.failure.err() }

// stop ends the recovery goroutine, if any, and waits for it.
func (f *failure) stop() {
	f.stopOnce.Do(func() { close(f.done) })
	f.wg.Wait()
}

// recoverFatal, deferred around a call into Pebble's write path, turns the
// panic of pebbleLogger.Fatalf into a failed store and *err. Other panics
// go on.
func (s *Store) recoverFatal(err *error) {
	r := recover()
	if r == nil {
		return
	}
	msg, ok := r.(fatalPanic)
	if !ok {
		panic(r)
	}
	*err = s.fail(errors.New(string(msg)))
}

// fail marks the store failed and starts its recovery.
func (s *Store) fail(cause error) error {
	f := &s.failure
	f.mu.Lock()
	if f.cause == nil {
		f.cause = cause
		f.failed.Store(true)
		s.log.Error("the store's disk failed a write: refusing new messages, serving reads; reopening once the disk takes writes again",
			"err", cause, "check_every", s.opts.ReopenEvery)
	}
	if !f.recovering {
		f.recovering = true
		f.wg.Add(1)
		go s.recoverWrites()
	}
	f.mu.Unlock()
	return s.failure.err()
}

// recoverWrites probes the disk every ReopenEvery and reopens the database
// once a probe succeeds.
func (s *Store) recoverWrites() {
	f := &s.failure
	defer f.wg.Done()
	t := time.NewTicker(s.opts.ReopenEvery)
	defer t.Stop()
	for {
		select {
		case <-f.done:
			return
		case <-t.C:
		}
		if err := s.probeDisk(); err != nil {
			s.log.Debug("the store's disk still fails writes", "err", err)
			continue
		}
		if err := s.reopen(); err != nil {
			s.log.Warn("reopening the store after a failed write", "err", err)
			continue
		}
		f.mu.Lock()
		f.cause, f.recovering = nil, false
		f.failed.Store(false)
		f.mu.Unlock()
		s.log.Info("the store's disk takes writes again: store reopened, accepting new messages")
		return
	}
}

// probeDisk writes, syncs and removes a small file next to the database,
// through the store's file system, and checks the free space floor.
func (s *Store) probeDisk() error {
	if s.space != nil && s.space.minFree > 0 {
		if free, err := s.space.free(s.dir); err == nil && free < s.space.minFree {
			return fmt.Errorf("%d bytes free, below the floor of %d", free, s.space.minFree)
		}
	}
	fs := s.opts.FS
	if fs == nil {
		fs = vfs.Default
	}
	name := fs.PathJoin(s.dir, "write-probe")
	file, err := fs.Create(name, vfs.WriteCategoryUnspecified)
	if err != nil {
		return err
	}
	_, err = file.Write(make([]byte, 4096))
	if err == nil {
		err = file.Sync()
	}
	err = errors.Join(err, file.Close(), fs.Remove(name))
	return err
}

// reopen replaces the database with a fresh one on the same directory,
// with no operation in flight. If the full open fails it opens the
// directory read-only, so that reads go on while writes stay refused; if
// even that fails there is nothing left to serve from, and the process
// ends as Pebble would have.
func (s *Store) reopen() error {
	return s.gate.Exclusive(func() error {
		floors := s.queueNexts()
		_ = s.db.Close() // its error is the failure already reported
		db, err := s.openDB()
		if err != nil {
			ro := s.opts
			roDB, roErr := openReadOnly(s.dir, ro)
			if roErr != nil {
				panic(fmt.Sprintf("pebble store: cannot reopen %s after a failed write: %v; read-only: %v", s.dir, err, roErr))
			}
			s.db = roDB
			return err
		}
		s.db = db
		s.resetShards()
		for i := range s.shards {
			s.shards[i].seqFloor = floors[i]
		}
		return nil
	})
}

// openReadOnly opens the database without writing anything.
func openReadOnly(dir string, opts Options) (*pebble.DB, error) {
	po := &pebble.Options{Logger: pebbleLogger{opts.Logger}, FS: opts.FS, ReadOnly: true}
	return pebble.Open(dir, po)
}

// queueNexts returns, per shard, the next seq of every queue held in
// memory, merged with the floors already kept.
func (s *Store) queueNexts() [numShards]map[string]uint64 {
	var out [numShards]map[string]uint64
	for i := range s.shards {
		sh := &s.shards[i]
		m := sh.seqFloor
		if m == nil {
			m = make(map[string]uint64, len(sh.queues))
		}
		for key, st := range sh.queues {
			if st.next > m[key] {
				m[key] = st.next
			}
		}
		out[i] = m
	}
	return out
}
