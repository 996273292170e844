package pebble

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/parley-im/parley/internal/store"
)

func TestCheckpoint(t *testing.T) {
	ctx := context.Background()
	s := openT(t, filepath.Join(t.TempDir(), "db"), syncLogData)
	a := store.Account{JID: "alice@example.org", Created: time.Unix(1700000000, 0).UTC()}
	if err := s.CreateAccount(ctx, a); err != nil {
		t.Fatal(err)
	}
	seq, err := s.Enqueue(ctx, "alice@example.org#phone", []byte("one"), []byte("two"))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.AckQueue(ctx, "alice@example.org#phone", seq); err != nil {
		t.Fatal(err)
	}
	cp := filepath.Join(t.TempDir(), "checkpoint")
	if err := s.Checkpoint(cp); err != nil {
		t.Fatal(err)
	}
	if err := s.Checkpoint(cp); err == nil {
		t.Error("Checkpoint into an existing directory succeeded")
	}
	// Later writes are not in the checkpoint.
	if err := s.CreateAccount(ctx, store.Account{JID: "bob@example.org"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Enqueue(ctx, "alice@example.org#phone", []byte("three")); err != nil {
		t.Fatal(err)
	}

	c := openT(t, cp, syncLogData)
	got, err := c.ListAccounts(ctx, "")
	if err != nil || !slices.Equal(got, []string{"alice@example.org"}) {
		t.Fatalf("checkpoint accounts = %q, %v", got, err)
	}
	q, err := c.ReadQueue(ctx, "alice@example.org#phone", 0, 10)
	if err != nil || len(q) != 1 || q[0].Seq != seq+1 || !bytes.Equal(q[0].Payload, []byte("two")) {
		t.Fatalf("checkpoint queue = %+v, %v", q, err)
	}
	if next, err := c.Enqueue(ctx, "alice@example.org#phone", []byte("x")); err != nil || next != seq+2 {
		t.Fatalf("Enqueue on the checkpoint = %d, %v; want %d", next, err, seq+2)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Checkpoint(filepath.Join(t.TempDir(), "late")); !errors.Is(err, store.ErrClosed) {
		t.Errorf("Checkpoint after Close: %v, want ErrClosed", err)
	}
}
