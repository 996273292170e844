package pebble

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/parley-im/parley/internal/store"
	"github.com/parley-im/parley/internal/store/storetest"
)

// openT opens a store in dir (in memory when dir is "") and closes it when
// the test ends, if the test did not.
func openT(tb testing.TB, dir string, mode syncMode) *Store {
	tb.Helper()
	s, err := open(dir, Options{InMemory: dir == ""}, mode)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil && !errors.Is(err, store.ErrClosed) {
			tb.Error(err)
		}
	})
	return s
}

func TestConformanceInMemory(t *testing.T) {
	storetest.Run(t, storetest.Factory{
		Open: func(t *testing.T) store.Store { return openT(t, "", syncLogData) },
	})
}

func TestConformanceOnDisk(t *testing.T) {
	for _, m := range []struct {
		name string
		mode syncMode
	}{{"LogData", syncLogData}, {"NoSyncWait", syncNoWait}, {"InLock", syncInLock}} {
		t.Run(m.name, func(t *testing.T) {
			dirs := map[store.Store]string{}
			storetest.Run(t, storetest.Factory{
				Open: func(t *testing.T) store.Store {
					dir := filepath.Join(t.TempDir(), "db")
					s := openT(t, dir, m.mode)
					dirs[s] = dir
					return s
				},
				Reopen: func(t *testing.T, old store.Store) store.Store {
					if err := old.Close(); err != nil {
						t.Fatal(err)
					}
					s := openT(t, dirs[old], m.mode)
					dirs[s] = dirs[old]
					return s
				},
			})
		})
	}
}
