package pebble

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/bloom"
	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/parley-im/parley/internal/store"
)

// Options configure Open. The zero value is a durable store with logs
// discarded.
type Options struct {
	// InMemory keeps everything in memory (vfs.NewMem); dir is then only a
	// name. For tests: nothing survives Close.
	InMemory bool
	// Logger receives Pebble's messages (informational ones at Debug
	// level). Nil discards them.
	Logger *slog.Logger
	// MinFreeBytes refuses durable writes (store.ErrUnavailable) while the
	// store's filesystem has less free space than this; 0 never refuses.
	MinFreeBytes uint64
	// FS is the file system under the store; nil means the operating
	// system's. Tests put a fault-injecting or slow one here.
	FS vfs.FS
	// ReopenEvery is how often a store whose write failed checks whether
	// its disk works again (failure.go); 0 means 2 seconds.
	ReopenEvery time.Duration
	// WALMinSyncInterval is the least time between two syncs of the
	// write-ahead log (walMinSyncInterval says why); 0 means 1 ms, a
	// negative value none (every durable write syncs at once).
	WALMinSyncInterval time.Duration
}

// numShards is the number of lock shards for per-key state. Operations on
// keys in different shards never wait for each other.
const numShards = 256

// Store is the Pebble backend: every store contract in one LSM. See doc.go
// for the key layout and the concurrency rules.
type Store struct {
	db    *pebble.DB // replaced only by reopen, with no operation in flight
	dir   string
	opts  Options
	log   *slog.Logger
	seed  maphash.Seed
	mode  syncMode
	space *spaceGuard // nil for an in-memory store

	// gate is held by every operation for its whole duration; Close waits
	// for them.
	gate store.Gate

	shards [numShards]shard
	leases leases

	failure failure // a failed write, and the recovery from it (failure.go)

	// durableWaits counts the waits for a WAL sync (DurableWaits).
	durableWaits atomic.Uint64
	// walSyncs counts the syncs of the write-ahead log (WALSyncs).
	walSyncs atomic.Uint64
	// queueWrites counts the batches that appended to queues (QueueWrites).
	queueWrites atomic.Uint64
	// starts numbers the appends EnqueueStart made visible (after each is
	// applied); syncedStarts is the highest number a WAL sync returned
	// for: a sync started after those appends were applied, so it covers
	// them (on the same database: a reopen, which would lose them, takes
	// the gate exclusively, so no sync straddles it).
	starts, syncedStarts atomic.Uint64
}

// DurableWaits is how many times a writer waited for the WAL to be synced
// up to its write (each wait shares its sync with concurrent ones): the
// messages stored per wait show how well durable writes are batched.
func (s *Store) DurableWaits() uint64 { return s.durableWaits.Load() }

// WALSyncs is how many times the write-ahead log was synced to disk
// (fdatasync): with DurableWaits, how many waits each sync served.
func (s *Store) WALSyncs() uint64 { return s.walSyncs.Load() }

// QueueWrites is how many Pebble batches appended to offline queues (each
// is one commit, whatever its number of stanzas): the stanzas per write
// show how well appends are batched.
func (s *Store) QueueWrites() uint64 { return s.queueWrites.Load() }

// shard serializes the writers of the keys that hash to it, and holds the
// in-memory state of their queues.
type shard struct {
	mu     sync.Mutex
	queues map[string]*queueState // guarded by mu
	empty  int                    // queues with count 0 still in the map; guarded by mu
	// accounts holds accounts of this shard known to exist (AccountExists);
	// DeleteAccount removes its own under every shard's lock. Guarded by mu.
	accounts map[string]struct{}
	// seqFloor holds, for queues that were in memory when the store was
	// reopened after a failed write, the next seq they had then: a seq
	// handed out before the reopen is never handed out again (failure.go).
	// Guarded by mu.
	seqFloor map[string]uint64
}

var _ store.Store = (*Store)(nil)

// Open opens (creating if needed) the store in dir.
func Open(dir string, opts Options) (*Store, error) {
	return open(dir, opts, syncLogData)
}

func open(dir string, opts Options, mode syncMode) (*Store, error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
		opts.Logger = log
	}
	if opts.InMemory {
		opts.FS = vfs.NewMem()
	}
	if opts.ReopenEvery == 0 {
		opts.ReopenEvery = 2 * time.Second
	}
	if opts.WALMinSyncInterval == 0 {
		opts.WALMinSyncInterval = walMinSyncInterval
	}
	s := &Store{dir: dir, opts: opts, log: log, seed: maphash.MakeSeed(), mode: mode}
	db, err := s.openDB()
	if err != nil {
		return nil, err
	}
	s.db = db
	if !opts.InMemory {
		s.space = &spaceGuard{dir: dir, minFree: opts.MinFreeBytes, log: log, free: freeBytes}
	}
	s.resetShards()
	s.failure.init()
	return s, nil
}

// openDB opens the Pebble database under the store.
func (s *Store) openDB() (*pebble.DB, error) {
	dir, opts := s.dir, s.opts
	fs := opts.FS
	if fs == nil {
		fs = vfs.Default
	}
	po := &pebble.Options{
		Logger:             pebbleLogger{opts.Logger},
		FormatMajorVersion: pebble.FormatNewest,
		MemTableSize:       64 << 20,
		CacheSize:          64 << 20,
		FS:                 walSyncCountingFS{FS: fs, syncs: &s.walSyncs},
	}
	if d := opts.WALMinSyncInterval; d > 0 {
		po.WALMinSyncInterval = func() time.Duration { return d }
	}
	// Bloom filters on every level: most point lookups on the hot path are
	// for keys that do not exist (a fresh archive id, a user without
	// preferences); without filters each one reads a data block from every
	// level. pprof showed 30% of the server's CPU there under load.
	for i := range po.Levels {
		po.Levels[i].FilterPolicy = bloom.FilterPolicy(10)
	}
	db, err := pebble.Open(dir, po)
	if err != nil {
		return nil, fmt.Errorf("pebble store: open %s: %w", dir, err)
	}
	return db, nil
}

// resetShards empties the shards' in-memory state (queue states, known
// accounts), which then reloads from disk on first use.
func (s *Store) resetShards() {
	for i := range s.shards {
		s.shards[i].queues = make(map[string]*queueState)
		s.shards[i].empty = 0
		s.shards[i].accounts = make(map[string]struct{})
	}
}

// Close flushes the memtable and closes the database. Later calls, of Close
// too, return store.ErrClosed. It waits for operations in flight.
func (s *Store) Close() error {
	s.failure.stop()
	return s.gate.Close(func() error {
		if err := s.failure.err(); err != nil { // nothing more can reach the disk
			_ = s.db.Close()
			return fmt.Errorf("pebble store: close after a failed write: %w", err)
		}
		ferr := s.db.Flush()
		if err := errors.Join(ferr, s.db.Close()); err != nil {
			return fmt.Errorf("pebble store: close: %w", err)
		}
		return nil
	})
}

// Checkpoint writes a consistent copy of the store to dir, which must not
// exist, on the store's file system (for an in-memory store, in memory).
// It hard-links immutable files where it can and may run while the store
// is in use: the basis of online backups.
func (s *Store) Checkpoint(dir string) error {
	if err := s.enter(context.Background()); err != nil {
		return err
	}
	defer s.exit()
	if err := s.failure.err(); err != nil {
		return err // a checkpoint flushes the WAL, which is what failed
	}
	if err := s.checkpoint(dir); err != nil {
		return fmt.Errorf("pebble store: checkpoint %s: %w", dir, err)
	}
	return nil
}

// checkpoint runs Pebble's checkpoint, whose WAL flush may fail like a
// write.
func (s *Store) checkpoint(dir string) (err error) {
	defer s.recoverFatal(&err)
	return s.db.Checkpoint(dir, pebble.WithFlushedWAL())
}

// enter starts an operation (store.Gate.Enter); exit ends it.
func (s *Store) enter(ctx context.Context) error { return s.gate.Enter(ctx) }

func (s *Store) exit() { s.gate.Exit() }

// shard returns the shard of key.
func (s *Store) shard(key string) *shard { return &s.shards[s.shardIndex(key)] }

// shardIndex is the index of key's shard.
func (s *Store) shardIndex(key string) uint64 { return maphash.String(s.seed, key) % numShards }

// lockAll locks every shard, in order, for operations that touch keys in
// many shards (DeleteAccount).
func (s *Store) lockAll() {
	for i := range s.shards {
		s.shards[i].mu.Lock()
	}
}

func (s *Store) unlockAll() {
	for i := range s.shards {
		s.shards[i].mu.Unlock()
	}
}

// syncMode is how a durable write becomes durable. Open uses syncLogData
// (doc.go, "Group commit"); the others exist for TestCompareSyncModes.
type syncMode int

const (
	// syncLogData: the batch commits with NoSync inside the key's lock
	// (memtable, visible, in seq order), then an empty synced WAL record
	// (DB.LogData) written after unlocking syncs the WAL up to it.
	syncLogData syncMode = iota
	// syncNoWait: the batch enters the commit pipeline with Sync inside
	// the lock (DB.ApplyNoSyncWait returns once it is visible) and the
	// caller waits for the sync after unlocking (Batch.SyncWait).
	syncNoWait
	// syncInLock: the batch commits with pebble.Sync inside the lock.
	syncInLock
)

// applyLocked applies b while the caller holds the lock that orders it. A
// durable batch must then be passed to finish after unlocking; a
// non-durable one is closed here.
func (s *Store) applyLocked(b *pebble.Batch, durable bool) (err error) {
	if err := s.failure.err(); err != nil {
		_ = b.Close()
		return err
	}
	if durable {
		if err := s.space.check(); err != nil {
			_ = b.Close()
			return err
		}
	}
	defer s.recoverFatal(&err)
	switch {
	case !durable:
		err = b.Commit(pebble.NoSync)
		_ = b.Close()
	case s.mode == syncNoWait:
		err = s.db.ApplyNoSyncWait(b, pebble.Sync)
	case s.mode == syncInLock:
		err = b.Commit(pebble.Sync)
	default:
		err = b.Commit(pebble.NoSync)
	}
	return writeErr(err)
}

// commitDurable applies b durably under the shard lock of key, then waits
// for its sync (finish).
func (s *Store) commitDurable(key string, b *pebble.Batch) error {
	sh := s.shard(key)
	sh.mu.Lock()
	err := s.applyLocked(b, true)
	sh.mu.Unlock()
	if err != nil {
		return err
	}
	return s.finish(b)
}

// finish waits until b, applied by applyLocked, is durable, and closes it.
func (s *Store) finish(b *pebble.Batch) (err error) {
	defer func() { _ = b.Close() }()
	if err := s.failure.err(); err != nil {
		return err
	}
	defer s.recoverFatal(&err)
	switch s.mode {
	case syncNoWait:
		err = b.SyncWait()
	case syncLogData:
		err = s.syncLog()
	}
	return writeErr(err)
}

// syncLog waits until the WAL is synced up to this point: an empty
// synced record, committed after everything applied before it, so after
// every append EnqueueStart numbered so far (syncedStarts).
func (s *Store) syncLog() error {
	s.durableWaits.Add(1)
	upTo := s.starts.Load()
	if err := s.db.LogData(nil, pebble.Sync); err != nil {
		return err
	}
	for {
		cur := s.syncedStarts.Load()
		if cur >= upTo || s.syncedStarts.CompareAndSwap(cur, upTo) {
			return nil
		}
	}
}

// writeErr marks a failed write as store.ErrUnavailable.
func writeErr(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%w: %w", store.ErrUnavailable, err)
}

// get returns a copy of the value of k, or store.ErrNotFound.
func (s *Store) get(k []byte) ([]byte, error) {
	v, closer, err := s.db.Get(k)
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("pebble store: get: %w", err)
	}
	out := append([]byte(nil), v...)
	return out, closer.Close()
}

// closeIter closes it, keeping the first error.
func closeIter(it io.Closer, err *error) {
	if cerr := it.Close(); cerr != nil && *err == nil {
		*err = fmt.Errorf("pebble store: iterator: %w", cerr)
	}
}

// pebbleLogger adapts slog to Pebble's logger.
type pebbleLogger struct{ l *slog.Logger }

func (p pebbleLogger) Infof(format string, args ...any) {
	p.l.Debug(fmt.Sprintf(format, args...), "component", "pebble")
}

func (p pebbleLogger) Errorf(format string, args ...any) {
	p.l.Error(fmt.Sprintf(format, args...), "component", "pebble")
}

// Fatalf is called on unrecoverable corruption and on a failed commit (a
// WAL write or sync that failed); Pebble expects it not to return. The
// panic is recovered on the store's write paths (recoverFatal), where it
// means the write failed; anywhere else it ends the process.
func (p pebbleLogger) Fatalf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	p.l.Error(msg, "component", "pebble", "fatal", true)
	panic(fatalPanic("pebble store: fatal: " + msg))
}
