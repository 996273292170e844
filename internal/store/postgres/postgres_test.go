package postgres

import (
	"context"
	"errors"
	"testing"

	"github.com/parley-im/parley/internal/store"
	"github.com/parley-im/parley/internal/store/postgres/pgtest"
	"github.com/parley-im/parley/internal/store/storetest"
)

// testDSN, freshSchema and withSearchPath are pgtest's, for brevity here.
func testDSN(tb testing.TB) string                  { return pgtest.DSN(tb) }
func freshSchema(tb testing.TB, base string) string { return pgtest.FreshSchema(tb, base) }
func withSearchPath(dsn, schema string) string      { return pgtest.WithSearchPath(dsn, schema) }

// openT opens a store on dsn and closes it when the test ends, if the test
// did not (Close before the schema's cleanup drops it: cleanups run last
// registered first).
func openT(tb testing.TB, dsn string, opts Options) *Store {
	tb.Helper()
	s, err := Open(context.Background(), dsn, opts)
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

// factory opens every store of the suite in a fresh schema; Reopen opens
// the same schema again.
func factory(base string, opts Options) storetest.Factory {
	dsns := map[store.Store]string{} // the suite calls the factory from one goroutine
	return storetest.Factory{
		Open: func(t *testing.T) store.Store {
			dsn := freshSchema(t, base)
			s := openT(t, dsn, opts)
			dsns[s] = dsn
			return s
		},
		Reopen: func(t *testing.T, old store.Store) store.Store {
			if err := old.Close(); err != nil {
				t.Fatal(err)
			}
			s := openT(t, dsns[old], opts)
			dsns[s] = dsns[old]
			return s
		},
	}
}

func TestConformance(t *testing.T) {
	base := testDSN(t)
	t.Run("Default", func(t *testing.T) { storetest.Run(t, factory(base, Options{})) })
	// One flusher, tiny batches: the group-commit hand-off under pressure.
	t.Run("OneFlusherSmallBatches", func(t *testing.T) {
		storetest.Run(t, factory(base, Options{EnqueueFlushers: 1, MaxBatchPayloads: 3, MaxConns: 4}))
	})
}
