package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parley-im/parley/internal/store"
	"github.com/parley-im/parley/internal/store/storetest"
)

// defaultTestDSN is the PostgreSQL every developer machine and CI here
// runs: trust auth, database "test". Override with PARLEY_TEST_POSTGRES.
const defaultTestDSN = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// testDSN returns the base DSN of the test database. When PostgreSQL is
// unreachable it skips the test, loudly, or fails it under CI=true (CI
// runs where PostgreSQL runs: unreachable there is a broken setup).
func testDSN(tb testing.TB) string {
	tb.Helper()
	dsn := os.Getenv("PARLEY_TEST_POSTGRES")
	if dsn == "" {
		dsn = defaultTestDSN
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err == nil {
		err = conn.Ping(ctx)
		_ = conn.Close(ctx)
	}
	if err != nil {
		msg := "\n*** PostgreSQL UNREACHABLE at " + redact(dsn) + ": " + err.Error() +
			"\n*** the PostgreSQL store tests DID NOT RUN. Start PostgreSQL or set PARLEY_TEST_POSTGRES."
		if os.Getenv("CI") == "true" {
			tb.Fatal(msg)
		}
		tb.Skip(msg)
	}
	return dsn
}

// redact hides a password in a URL DSN.
func redact(dsn string) string {
	if u, err := url.Parse(dsn); err == nil && u.User != nil {
		return u.Redacted()
	}
	return dsn
}

// freshSchema creates a schema with a unique name, drops it when the test
// ends, and returns base with search_path set to it: parallel tests and
// reruns never share tables.
func freshSchema(tb testing.TB, base string) string {
	tb.Helper()
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "parley_test_" + hex.EncodeToString(b[:])
	admin := func(sql string) {
		tb.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			tb.Fatal(err)
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, sql); err != nil {
			tb.Fatalf("%s: %v", sql, err)
		}
	}
	admin(`CREATE SCHEMA ` + schema)
	tb.Cleanup(func() { admin(`DROP SCHEMA ` + schema + ` CASCADE`) })
	return withSearchPath(base, schema)
}

// withSearchPath adds search_path=schema to a URL or keyword/value DSN.
func withSearchPath(dsn, schema string) string {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err == nil {
			q := u.Query()
			q.Set("search_path", schema)
			u.RawQuery = q.Encode()
			return u.String()
		}
	}
	return dsn + " search_path=" + schema
}

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
