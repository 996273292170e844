package pebble

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parley-im/parley/internal/store"
)

// TestDurableWritesAreRefusedWhileTheDiskIsNearlyFull: below the floor a
// durable write fails with store.ErrUnavailable (nothing is acknowledged
// that cannot be stored), reads and acks go on, and writes are accepted
// again when space returns. The free space is the real one of the test's
// filesystem, shifted by a fake "used by others" amount.
func TestDurableWritesAreRefusedWhileTheDiskIsNearlyFull(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{MinFreeBytes: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var taken atomic.Uint64 // bytes "others" filled
	s.space.free = func(d string) (uint64, error) {
		f, err := freeBytes(d)
		if t := taken.Load(); t > f {
			return 0, err
		}
		return f - taken.Load(), err
	}
	s.space.log = slog.New(slog.DiscardHandler)
	ctx := context.Background()
	seq, err := s.Enqueue(ctx, "bob@localhost", []byte("before"))
	if err != nil {
		t.Fatal(err)
	}

	taken.Store(1 << 62) // the disk is full
	time.Sleep(checkEvery + 10*time.Millisecond)
	if _, err := s.Enqueue(ctx, "bob@localhost", []byte("refused")); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("enqueue on a full disk: %v, want ErrUnavailable", err)
	}
	got, err := s.ReadQueue(ctx, "bob@localhost", 0, 10)
	if err != nil || len(got) != 1 || string(got[0].Payload) != "before" {
		t.Fatalf("read on a full disk: %v %v", got, err)
	}
	if err := s.AckQueue(ctx, "bob@localhost", seq); err != nil {
		t.Fatalf("ack (a delete) on a full disk: %v", err)
	}

	taken.Store(0) // space returns
	time.Sleep(checkEvery + 10*time.Millisecond)
	if _, err := s.Enqueue(ctx, "bob@localhost", []byte("after")); err != nil {
		t.Fatalf("enqueue after space returned: %v", err)
	}
}
