package pebble

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/parley-im/parley/internal/store"
)

// syncCountingFS counts the syncs of WAL files and makes each take
// syncDelay, as a slow disk would, so that writers pile up behind a sync
// as they do under load.
type syncCountingFS struct {
	vfs.FS
	syncs     atomic.Int64
	syncDelay time.Duration
}

func (fs *syncCountingFS) wrap(name string, f vfs.File, err error) (vfs.File, error) {
	if err != nil || !strings.HasSuffix(name, ".log") {
		return f, err
	}
	return &syncCountingFile{File: f, fs: fs}, nil
}

func (fs *syncCountingFS) Create(name string, c vfs.DiskWriteCategory) (vfs.File, error) {
	f, err := fs.FS.Create(name, c)
	return fs.wrap(name, f, err)
}

func (fs *syncCountingFS) ReuseForWrite(oldname, newname string, c vfs.DiskWriteCategory) (vfs.File, error) {
	f, err := fs.FS.ReuseForWrite(oldname, newname, c)
	return fs.wrap(newname, f, err)
}

type syncCountingFile struct {
	vfs.File
	fs *syncCountingFS
}

func (f *syncCountingFile) synced() {
	f.fs.syncs.Add(1)
	time.Sleep(f.fs.syncDelay)
}

func (f *syncCountingFile) Sync() error { f.synced(); return f.File.Sync() }

func (f *syncCountingFile) SyncData() error { f.synced(); return f.File.SyncData() }

func (f *syncCountingFile) SyncTo(n int64) (bool, error) { f.synced(); return f.File.SyncTo(n) }

func openCounting(t *testing.T, delay time.Duration) (*Store, *syncCountingFS, string) {
	t.Helper()
	fs := &syncCountingFS{FS: vfs.Default, syncDelay: delay}
	dir := filepath.Join(t.TempDir(), "db")
	s, err := open(dir, Options{FS: fs}, syncLogData)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil && !errors.Is(err, store.ErrClosed) {
			t.Error(err)
		}
	})
	return s, fs, dir
}

// TestConcurrentEnqueuesShareSyncs checks group commit: durable enqueues
// from many writers at once, through Enqueue and through EnqueueStart and
// its wait, are covered by far fewer WAL syncs than there are enqueues.
func TestConcurrentEnqueuesShareSyncs(t *testing.T) {
	s, fs, _ := openCounting(t, 2*time.Millisecond)
	ctx := context.Background()
	const writers, each = 64, 20
	before := fs.syncs.Load()
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			key := fmt.Sprintf("user%d@example.org", w)
			for range each {
				if w%2 == 0 {
					if _, err := s.Enqueue(ctx, key, []byte("payload")); err != nil {
						errs <- err
						return
					}
					continue
				}
				_, wait, err := s.EnqueueStart(ctx, key, []byte("payload"))
				if err == nil {
					err = wait()
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	syncs := fs.syncs.Load() - before
	t.Logf("%d durable enqueues, %d WAL syncs", writers*each, syncs)
	if syncs == 0 || syncs > writers*each/4 {
		t.Fatalf("%d WAL syncs for %d concurrent durable enqueues: want at least one and at most a quarter", syncs, writers*each)
	}
	for w := range writers {
		if n, err := s.QueueLen(ctx, fmt.Sprintf("user%d@example.org", w)); err != nil || n != each {
			t.Fatalf("queue %d holds %d (%v), want %d", w, n, err, each)
		}
	}
}

// TestEnqueueStart checks that a started enqueue is visible (read, acked)
// before its wait, that its wait syncs the WAL, and that a Close before the
// wait neither waits for it nor loses the stanza (wait then says the store
// is closed).
func TestEnqueueStart(t *testing.T) {
	s, fs, dir := openCounting(t, 0)
	ctx := context.Background()
	const key = "juliet@example.org"
	first, wait, err := s.EnqueueStart(ctx, key, []byte("one"), []byte("two"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.ReadQueue(ctx, key, 0, 0)
	if err != nil || len(got) != 2 || got[0].Seq != first || string(got[1].Payload) != "two" {
		t.Fatalf("before wait: read %v, %v; want both stanzas from seq %d", got, err, first)
	}
	if err := s.AckQueue(ctx, key, first); err != nil {
		t.Fatal(err)
	}
	syncs := fs.syncs.Load()
	if err := wait(); err != nil {
		t.Fatal(err)
	}
	if fs.syncs.Load() == syncs {
		t.Fatal("wait returned without a WAL sync")
	}
	if n, err := s.QueueLen(ctx, key); err != nil || n != 1 {
		t.Fatalf("queue holds %d (%v) after acking one of two, want 1", n, err)
	}

	_, wait, err = s.EnqueueStart(ctx, key, []byte("three"))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil { // must not wait for wait
		t.Fatal(err)
	}
	if err := wait(); !errors.Is(err, store.ErrClosed) {
		t.Fatalf("wait after Close: %v, want store.ErrClosed", err)
	}
	re, err := open(dir, Options{}, syncLogData)
	if err != nil {
		t.Fatal(err)
	}
	defer re.Close()
	got, err = re.ReadQueue(ctx, key, 0, 0)
	if err != nil || len(got) != 2 || string(got[1].Payload) != "three" {
		t.Fatalf("after Close and reopen: %v, %v; want two and three", got, err)
	}
}

// TestWaitsOfCoveredStartsShareOneSync checks what a session settling a
// read's messages relies on: after several EnqueueStart calls, calling
// their waits in turn syncs the WAL once (the first wait's sync covers
// every append applied before it; the later waits see that and return),
// and a crash right after keeps every one of them, in every queue.
func TestWaitsOfCoveredStartsShareOneSync(t *testing.T) {
	fs := vfs.NewCrashableMem()
	s, err := open("db", Options{FS: fs}, syncLogData)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var waits []func() error
	for i := range 10 {
		key := fmt.Sprintf("user%d@example.org", i%3)
		_, wait, err := s.EnqueueStart(ctx, key, []byte(fmt.Sprintf("m%d", i)))
		if err != nil {
			t.Fatal(err)
		}
		waits = append(waits, wait)
	}
	before := s.DurableWaits()
	for _, wait := range waits {
		if err := wait(); err != nil {
			t.Fatal(err)
		}
	}
	if n := s.DurableWaits() - before; n != 1 {
		t.Fatalf("%d WAL syncs waited for by 10 waits called in turn, want 1", n)
	}
	crashed := fs.CrashClone(vfs.CrashCloneCfg{}) // exactly what was synced
	_ = s.Close()
	re, err := open("db", Options{FS: crashed}, syncLogData)
	if err != nil {
		t.Fatal(err)
	}
	defer re.Close()
	total := 0
	for k := range 3 {
		n, err := re.QueueLen(ctx, fmt.Sprintf("user%d@example.org", k))
		if err != nil {
			t.Fatal(err)
		}
		total += n
	}
	if total != 10 {
		t.Fatalf("after a crash %d of the 10 appends whose waits returned are left, want all", total)
	}
}

// TestEnqueueAllStart: one batch appends to several queues with one
// queue write, visible at once and in order; its wait, after an
// EnqueueStart whose wait synced since, returns without a sync of its
// own; and a crash after the wait returned keeps every stanza.
func TestEnqueueAllStart(t *testing.T) {
	fs := vfs.NewCrashableMem()
	s, err := open("db", Options{FS: fs}, syncLogData)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	bs := []store.QueueBatch{
		{Key: "bob@example.org", Payloads: [][]byte{[]byte("b1"), []byte("b2")}},
		{Key: "carol@example.org", Payloads: [][]byte{[]byte("c1")}},
		{Key: "bob@example.org", Payloads: [][]byte{[]byte("b3")}},
	}
	writes := s.QueueWrites()
	wait, err := s.EnqueueAllStart(ctx, bs)
	if err != nil || wait == nil {
		t.Fatalf("EnqueueAllStart: wait %v, err %v", wait != nil, err)
	}
	if n := s.QueueWrites() - writes; n != 1 {
		t.Fatalf("%d queue writes for one EnqueueAllStart, want 1", n)
	}
	if bs[0].First != 1 || bs[1].First != 1 || bs[2].First != 3 {
		t.Fatalf("firsts %d %d %d, want 1 1 3", bs[0].First, bs[1].First, bs[2].First)
	}
	q, err := s.ReadQueue(ctx, "bob@example.org", 0, 0)
	if err != nil || len(q) != 3 || string(q[2].Payload) != "b3" {
		t.Fatalf("bob's queue before the wait: %v %v, want b1 b2 b3", q, err)
	}
	_, later, err := s.EnqueueStart(ctx, "dave@example.org", []byte("d1"))
	if err != nil {
		t.Fatal(err)
	}
	if err := later(); err != nil {
		t.Fatal(err)
	}
	syncs := s.DurableWaits()
	if err := wait(); err != nil {
		t.Fatal(err)
	}
	if n := s.DurableWaits() - syncs; n != 0 {
		t.Fatalf("the covered wait synced %d times, want 0", n)
	}
	crashed := fs.CrashClone(vfs.CrashCloneCfg{})
	_ = s.Close()
	re, err := open("db", Options{FS: crashed}, syncLogData)
	if err != nil {
		t.Fatal(err)
	}
	defer re.Close()
	for key, want := range map[string]int{"bob@example.org": 3, "carol@example.org": 1, "dave@example.org": 1} {
		if n, err := re.QueueLen(ctx, key); err != nil || n != want {
			t.Fatalf("after a crash %s holds %d (%v), want %d", key, n, err, want)
		}
	}
}
