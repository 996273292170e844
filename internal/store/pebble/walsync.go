package pebble

import (
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// walMinSyncInterval is the least time between two syncs of the
// write-ahead log (Pebble's WALMinSyncInterval): a durable write that
// comes sooner after a sync waits for the rest of it, and shares the next
// sync with whatever arrives meanwhile. At a moderate rate (2,500 one-to-
// one messages/s, 1,000 devices) each read of a device's messages waited
// for a sync of its own: ~800 fdatasyncs/s, each one a blocking system
// call that held the server's CPU; see docs/benchmarks.md, "The WAL
// sync". The cost is at most this much more delay before a message's
// "sent" tick; its delivery never waits for the sync.
const walMinSyncInterval = time.Millisecond

// walCategory is the category Pebble creates its write-ahead log files
// with (vfs.DiskWriteCategory).
const walCategory vfs.DiskWriteCategory = "pebble-wal"

// walSyncCountingFS counts the syncs of the write-ahead log's files
// (Store.WALSyncs); every other file passes through untouched.
type walSyncCountingFS struct {
	vfs.FS
	syncs *atomic.Uint64
}

func (fs walSyncCountingFS) Create(name string, category vfs.DiskWriteCategory) (vfs.File, error) {
	f, err := fs.FS.Create(name, category)
	return fs.wrap(f, category), err
}

func (fs walSyncCountingFS) ReuseForWrite(oldname, newname string, category vfs.DiskWriteCategory) (vfs.File, error) {
	f, err := fs.FS.ReuseForWrite(oldname, newname, category)
	return fs.wrap(f, category), err
}

// Unwrap is the file system under the counting.
func (fs walSyncCountingFS) Unwrap() vfs.FS { return fs.FS }

// wrap counts the syncs of f when it is a write-ahead log file.
func (fs walSyncCountingFS) wrap(f vfs.File, category vfs.DiskWriteCategory) vfs.File {
	if f == nil || category != walCategory {
		return f
	}
	return walFile{File: f, syncs: fs.syncs}
}

// walFile counts its syncs; Pebble's log writer calls Sync.
type walFile struct {
	vfs.File
	syncs *atomic.Uint64
}

func (f walFile) Sync() error {
	f.syncs.Add(1)
	return f.File.Sync()
}

func (f walFile) SyncData() error {
	f.syncs.Add(1)
	return f.File.SyncData()
}

func (f walFile) SyncTo(length int64) (bool, error) {
	f.syncs.Add(1)
	return f.File.SyncTo(length)
}
