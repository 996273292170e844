package pebble

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/cockroachdb/pebble/v2/vfs/errorfs"

	"github.com/parley-im/parley/internal/store"
)

// failingDisk is a real directory whose writes and syncs fail while on,
// as a disk with I/O errors (or one that filled up) does.
type failingDisk struct {
	toggle errorfs.Toggle
	fs     *errorfs.FS
}

func newFailingDisk() *failingDisk {
	d := &failingDisk{}
	d.toggle = errorfs.Toggle{Injector: errorfs.InjectorFunc(func(op errorfs.Op) error {
		if op.Kind.ReadOrWrite() == errorfs.OpIsWrite {
			return fmt.Errorf("%w: injected I/O error on %s", errorfs.ErrInjected, op.Path)
		}
		return nil
	})}
	d.fs = errorfs.Wrap(vfs.Default, &d.toggle)
	return d
}

func openOnFailingDisk(t *testing.T, dir string, d *failingDisk) *Store {
	t.Helper()
	s, err := Open(dir, Options{FS: d.fs, ReopenEvery: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// waitFor polls cond until it holds or 10 s have passed.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("still not %s after 10 s", what)
		}
	}
}

func queueBodies(t *testing.T, s *Store, key string) []string {
	t.Helper()
	qs, err := s.ReadQueue(context.Background(), key, 0, 0)
	if err != nil {
		t.Fatalf("reading the queue: %v", err)
	}
	var out []string
	for _, q := range qs {
		out = append(out, fmt.Sprintf("%d:%s", q.Seq, q.Payload))
	}
	return out
}

// TestFailedSyncRefusesWritesServesReadsAndReopens: when the disk fails a
// write, every write is refused with store.ErrUnavailable (the process does
// not end, as Pebble alone would make it), reads go on, and once the disk
// works again the store reopens by itself, keeps what was synced, and
// never hands out a seq it handed out before.
func TestFailedSyncRefusesWritesServesReadsAndReopens(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	disk := newFailingDisk()
	s := openOnFailingDisk(t, dir, disk)
	for i := 1; i <= 3; i++ {
		if _, err := s.Enqueue(ctx, "bob", []byte(fmt.Sprintf("synced %d", i))); err != nil {
			t.Fatal(err)
		}
	}
	disk.toggle.On()
	// Applied (visible, its seq handed out) but never written: the WAL
	// write fails behind it and its sync reports it.
	carolSeq, wait, err := s.EnqueueStart(ctx, "carol", []byte("applied, never synced"))
	if err != nil {
		t.Fatal(err)
	}
	if err := wait(); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("a sync wait on a failing disk: %v, want store.ErrUnavailable", err)
	}
	lastSeq, err := s.Enqueue(ctx, "bob", []byte("refused"))
	if !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("enqueue on a failing disk: %v, want store.ErrUnavailable", err)
	}
	if _, err := s.Enqueue(ctx, "bob", []byte("refused again")); !errors.Is(err, store.ErrUnavailable) || !strings.Contains(err.Error(), "refusing writes") {
		t.Fatalf("the next write: %v, want the store's refusal", err)
	}
	if got := queueBodies(t, s, "bob"); len(got) < 3 || got[0] != "1:synced 1" || got[2] != "3:synced 3" {
		t.Fatalf("reads while failed: %q", got)
	}
	handedOut, _ := s.Enqueue(ctx, "bob") // the seq the next stanza would get
	lastSeq = max(lastSeq, handedOut)

	disk.toggle.Off()
	var seq uint64
	waitFor(t, "accepting writes again", func() bool {
		seq, err = s.Enqueue(ctx, "bob", []byte("after"))
		return err == nil
	})
	if seq < lastSeq || seq <= 3 {
		t.Fatalf("the first write after the reopen got seq %d; seqs up to %d were handed out before", seq, lastSeq)
	}
	if next, err := s.Enqueue(ctx, "carol", []byte("after")); err != nil || next <= carolSeq {
		t.Fatalf("carol's first write after the reopen got seq %d (%v); seq %d was handed out before", next, err, carolSeq)
	}
	got := queueBodies(t, s, "bob")
	if len(got) != 4 || got[0] != "1:synced 1" || got[2] != "3:synced 3" || got[3] != fmt.Sprintf("%d:after", seq) {
		t.Fatalf("after the reopen: %q", got)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openOnFailingDisk(t, dir, disk)
	defer s.Close()
	if again := queueBodies(t, s, "bob"); strings.Join(again, ",") != strings.Join(got, ",") {
		t.Fatalf("after a restart: %q, want %q", again, got)
	}
}

// TestFailedWriteIsAnErrorNotACrash: the first write to meet the failing
// disk, through Enqueue's own sync, gets store.ErrUnavailable.
func TestFailedWriteIsAnErrorNotACrash(t *testing.T) {
	disk := newFailingDisk()
	s := openOnFailingDisk(t, t.TempDir(), disk)
	defer s.Close()
	disk.toggle.On()
	if _, err := s.Enqueue(context.Background(), "bob", []byte("x")); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("enqueue on a failing disk: %v, want store.ErrUnavailable", err)
	}
	disk.toggle.Off()
}
