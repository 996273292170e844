package blobtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/parley-im/parley/internal/media/blob"
)

// Run runs the suite. open returns an empty store for one test.
func Run(t *testing.T, open func(t *testing.T) blob.Store) {
	tests := []struct {
		name string
		fn   func(*testing.T, blob.Store)
	}{
		{"PutThenOpen", testPutOpen},
		{"Ranges", testRanges},
		{"Missing", testMissing},
		{"ShortOrLongReaderStoresNothing", testSizeMismatch},
		{"ReplaceIsAtomic", testReplace},
		{"Delete", testDelete},
		{"List", testList},
		{"InvalidKeys", testInvalidKeys},
		{"ConcurrentPuts", testConcurrent},
		{"Empty", testEmpty},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open(t)) })
	}
}

func random(t *testing.T, n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

func put(t *testing.T, s blob.Store, key string, data []byte) {
	t.Helper()
	if err := s.Put(context.Background(), key, bytes.NewReader(data), int64(len(data))); err != nil {
		t.Fatalf("Put %s: %v", key, err)
	}
}

func read(t *testing.T, s blob.Store, key string, off, n int64) []byte {
	t.Helper()
	rc, err := s.Open(context.Background(), key, off, n)
	if err != nil {
		t.Fatalf("Open %s [%d,+%d): %v", key, off, n, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("reading %s: %v", key, err)
	}
	return b
}

func testPutOpen(t *testing.T, s blob.Store) {
	data := random(t, 3<<20+17)
	put(t, s, "blobs/ab/abcdef", data)
	if got := read(t, s, "blobs/ab/abcdef", 0, -1); !bytes.Equal(got, data) {
		t.Fatalf("read back %d bytes, want the %d written", len(got), len(data))
	}
	info, err := s.Stat(context.Background(), "blobs/ab/abcdef")
	if err != nil || info.Size != int64(len(data)) || info.Key != "blobs/ab/abcdef" || info.Modified.IsZero() {
		t.Fatalf("Stat = %+v, %v; want size %d", info, err, len(data))
	}
}

func testRanges(t *testing.T, s blob.Store) {
	data := random(t, 100000)
	put(t, s, "r", data)
	for _, r := range [][2]int64{{0, 1}, {5, 10}, {99999, 1}, {50000, -1}, {0, 100000}, {1234, 0}} {
		want := data[r[0]:]
		if r[1] >= 0 {
			want = data[r[0] : r[0]+r[1]]
		}
		if got := read(t, s, "r", r[0], r[1]); !bytes.Equal(got, want) {
			t.Errorf("range %v: got %d bytes, want %d", r, len(got), len(want))
		}
	}
}

func testMissing(t *testing.T, s blob.Store) {
	ctx := context.Background()
	if _, err := s.Stat(ctx, "nope"); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("Stat of a missing key: %v, want ErrNotFound", err)
	}
	if _, err := s.Open(ctx, "nope/deeper", 0, -1); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("Open of a missing key: %v, want ErrNotFound", err)
	}
	put(t, s, "file", []byte("x"))
	if _, err := s.Stat(ctx, "file/under"); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("Stat under a blob: %v, want ErrNotFound", err)
	}
}

func testSizeMismatch(t *testing.T, s blob.Store) {
	ctx := context.Background()
	data := random(t, 1000)
	if err := s.Put(ctx, "short", bytes.NewReader(data), 2000); err == nil {
		t.Error("Put of 1000 bytes declared as 2000 succeeded")
	}
	if err := s.Put(ctx, "long", bytes.NewReader(data), 500); err == nil {
		t.Error("Put of 1000 bytes declared as 500 succeeded")
	}
	failing := io.MultiReader(bytes.NewReader(data), errReader{})
	if err := s.Put(ctx, "broken", failing, 5000); err == nil {
		t.Error("Put from a failing reader succeeded")
	}
	for _, k := range []string{"short", "long", "broken"} {
		if _, err := s.Stat(ctx, k); !errors.Is(err, blob.ErrNotFound) {
			t.Errorf("after a failed Put, Stat %s = %v, want ErrNotFound", k, err)
		}
	}
	if keys := list(t, s, ""); len(keys) != 0 {
		t.Errorf("failed Puts left blobs: %v", keys)
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("connection reset") }

func testReplace(t *testing.T, s blob.Store) {
	put(t, s, "k", []byte("first"))
	ctx := context.Background()
	if err := s.Put(ctx, "k", io.MultiReader(strings.NewReader("sec"), errReader{}), 6); err == nil {
		t.Fatal("a failing Put succeeded")
	}
	if got := read(t, s, "k", 0, -1); string(got) != "first" {
		t.Fatalf("after a failed replace: %q, want the old blob", got)
	}
	put(t, s, "k", []byte("second"))
	if got := read(t, s, "k", 0, -1); string(got) != "second" {
		t.Fatalf("after replace: %q", got)
	}
}

func testDelete(t *testing.T, s blob.Store) {
	ctx := context.Background()
	put(t, s, "d/x", []byte("x"))
	for range 2 { // the second time the key is already gone
		if err := s.Delete(ctx, "d/x"); err != nil {
			t.Fatalf("Delete: %v", err)
		}
	}
	if _, err := s.Stat(ctx, "d/x"); !errors.Is(err, blob.ErrNotFound) {
		t.Fatalf("Stat after Delete: %v", err)
	}
}

func list(t *testing.T, s blob.Store, prefix string) []string {
	t.Helper()
	var keys []string
	err := s.List(context.Background(), prefix, func(i blob.Info) error {
		keys = append(keys, i.Key)
		return nil
	})
	if err != nil {
		t.Fatalf("List %q: %v", prefix, err)
	}
	slices.Sort(keys)
	return keys
}

func testList(t *testing.T, s blob.Store) {
	for _, k := range []string{"slots/u1/a", "slots/u1/b", "slots/u2/c", "slots/u10/d", "blobs/x"} {
		put(t, s, k, []byte(k))
	}
	cases := map[string][]string{
		"":           {"blobs/x", "slots/u1/a", "slots/u1/b", "slots/u10/d", "slots/u2/c"},
		"slots/u1/":  {"slots/u1/a", "slots/u1/b"},
		"slots/u1":   {"slots/u1/a", "slots/u1/b", "slots/u10/d"},
		"blobs/":     {"blobs/x"},
		"nothing/":   nil,
		"slots/u2/c": {"slots/u2/c"},
	}
	for prefix, want := range cases {
		if got := list(t, s, prefix); !slices.Equal(got, want) {
			t.Errorf("List %q = %v, want %v", prefix, got, want)
		}
	}
	stop := errors.New("stop")
	n := 0
	err := s.List(context.Background(), "", func(blob.Info) error { n++; return stop })
	if !errors.Is(err, stop) || n != 1 {
		t.Errorf("List stopped by fn: err %v after %d calls, want stop after 1", err, n)
	}
}

func testInvalidKeys(t *testing.T, s blob.Store) {
	ctx := context.Background()
	for _, k := range []string{"", "../x", "a/../../x", "/abs", "a//b", "A", "a b", ".tmp/x", "a/.", "x\x00", "é", strings.Repeat("a", 513)} {
		if err := s.Put(ctx, k, strings.NewReader("x"), 1); !errors.Is(err, blob.ErrBadKey) {
			t.Errorf("Put %q: %v, want ErrBadKey", k, err)
		}
		if _, err := s.Open(ctx, k, 0, -1); !errors.Is(err, blob.ErrBadKey) {
			t.Errorf("Open %q: %v, want ErrBadKey", k, err)
		}
	}
}

func testConcurrent(t *testing.T, s blob.Store) {
	a, b := random(t, 200000), random(t, 200000)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			d := a
			if i%2 == 1 {
				d = b
			}
			if err := s.Put(context.Background(), "same", bytes.NewReader(d), int64(len(d))); err != nil {
				t.Errorf("concurrent Put: %v", err)
			}
		})
	}
	wg.Wait()
	if got := read(t, s, "same", 0, -1); !bytes.Equal(got, a) && !bytes.Equal(got, b) {
		t.Fatal("concurrent Puts of the same key mixed their bytes")
	}
}

func testEmpty(t *testing.T, s blob.Store) {
	put(t, s, "empty", nil)
	if got := read(t, s, "empty", 0, -1); len(got) != 0 {
		t.Fatalf("empty blob read back %d bytes", len(got))
	}
}
