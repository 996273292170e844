package postgres

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
)

func TestMigrationsEmbedded(t *testing.T) {
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) < 2 {
		t.Fatalf("%d migrations embedded, want at least 2", len(ms))
	}
	for i, m := range ms {
		if m.version != i+1 || m.sql == "" {
			t.Errorf("migration %d: %s version %d, %d bytes", i, m.name, m.version, len(m.sql))
		}
	}
}

// appliedMigrations returns the versions recorded in dsn's schema.
func appliedMigrations(t *testing.T, dsn string) []int32 {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, _ := conn.Query(ctx, `SELECT version FROM schema_migrations ORDER BY version`)
	vs, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		t.Fatal(err)
	}
	return vs
}

// Several nodes starting at once on an empty schema: one applies the
// migrations, the others wait on the advisory lock and find nothing to do.
func TestMigrateConcurrent(t *testing.T) {
	dsn := freshSchema(t, testDSN(t))
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	const nodes = 6
	var wg sync.WaitGroup
	errs := make([]error, nodes)
	for i := range nodes {
		wg.Go(func() {
			if i%2 == 0 {
				errs[i] = Migrate(context.Background(), dsn)
				return
			}
			s, err := Open(context.Background(), dsn, Options{MaxConns: 2})
			if err == nil {
				err = s.Close()
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("node %d: %v", i, err)
		}
	}
	got := appliedMigrations(t, dsn)
	if len(got) != len(ms) {
		t.Fatalf("schema_migrations = %v, want versions 1..%d once each", got, len(ms))
	}
	for i, v := range got {
		if int(v) != i+1 {
			t.Fatalf("schema_migrations = %v, want versions 1..%d once each", got, len(ms))
		}
	}
	// Again: nothing to do.
	if err := Migrate(context.Background(), dsn); err != nil {
		t.Fatal(err)
	}
	if n := len(appliedMigrations(t, dsn)); n != len(ms) {
		t.Fatalf("%d migrations recorded after a second Migrate, want %d", n, len(ms))
	}
}

// A schema migrated by a newer binary is refused.
func TestMigrateSchemaTooNew(t *testing.T) {
	dsn := freshSchema(t, testDSN(t))
	if err := Migrate(context.Background(), dsn); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, `INSERT INTO schema_migrations (version, name) VALUES (9999, '9999_future.sql')`); err != nil {
		t.Fatal(err)
	}
	_ = conn.Close(ctx)
	if err := Migrate(ctx, dsn); !errors.Is(err, ErrSchemaTooNew) {
		t.Fatalf("Migrate: err = %v, want ErrSchemaTooNew", err)
	}
	if s, err := Open(ctx, dsn, Options{}); !errors.Is(err, ErrSchemaTooNew) {
		if err == nil {
			_ = s.Close()
		}
		t.Fatalf("Open: err = %v, want ErrSchemaTooNew", err)
	}
}

// A search_path naming no existing schema is an error, not tables
// created somewhere unexpected.
func TestMigrateNoSchema(t *testing.T) {
	dsn := withSearchPath(testDSN(t), "parley_test_does_not_exist")
	if err := Migrate(context.Background(), dsn); err == nil {
		t.Fatal("Migrate with a search_path of no existing schema succeeded")
	}
}
