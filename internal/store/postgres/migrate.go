package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/parley-im/parley/internal/store"
)

// migrationFiles holds the schema migrations, migrations/NNNN_name.sql,
// applied in order of NNNN. A released migration is never edited: a change
// is a new file. Read-only after init (embed.FS is immutable).
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

// ErrSchemaTooNew means the database was migrated by a newer Parley that
// knows migrations this binary does not: it refuses to run on a schema it
// does not know.
var ErrSchemaTooNew = errors.New("postgres store: database schema is newer than this binary")

// migrationLockClass is the first key of the advisory lock that serializes
// migrations; the second is a hash of the schema's name, so migrations of
// different schemas in one database do not wait for each other.
const migrationLockClass = 0x50617259 // "ParY"

type migration struct {
	version int
	name    string // file name
	sql     string
}

// migrations returns the embedded migrations sorted by version, checking
// that versions are 1, 2, 3, ... without gaps or duplicates.
func migrations() ([]migration, error) {
	entries, err := fs.ReadDir(migrationFiles, "migrations")
	if err != nil {
		return nil, fmt.Errorf("postgres store: migrations: %w", err)
	}
	var out []migration
	for _, e := range entries {
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 || !strings.HasSuffix(e.Name(), ".sql") {
			return nil, fmt.Errorf("postgres store: migration file name %q is not NNNN_name.sql", e.Name())
		}
		b, err := migrationFiles.ReadFile(path.Join("migrations", e.Name()))
		if err != nil {
			return nil, fmt.Errorf("postgres store: migrations: %w", err)
		}
		out = append(out, migration{version: v, name: e.Name(), sql: string(b)})
	}
	slices.SortFunc(out, func(a, b migration) int { return a.version - b.version })
	for i, m := range out {
		if m.version != i+1 {
			return nil, fmt.Errorf("postgres store: migration %s: want version %d", m.name, i+1)
		}
	}
	return out, nil
}

// Migrate connects to dsn and applies the migrations the database lacks,
// as Open does; for "parley db migrate". Several processes may run it (or
// Open) at once: they serialize on an advisory lock and each migration is
// applied exactly once.
func Migrate(ctx context.Context, dsn string) error {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return fmt.Errorf("%w: postgres store: connect: %w", store.ErrUnavailable, err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	return migrate(ctx, conn)
}

// migrate applies the missing migrations in one transaction, under a
// transaction-scoped advisory lock: the whole set lands or nothing does,
// and a second migrator waits, then finds nothing left to do.
func migrate(ctx context.Context, conn *pgx.Conn) error {
	all, err := migrations()
	if err != nil {
		return err
	}
	tx, err := conn.Begin(ctx)
	if err != nil {
		return fmt.Errorf("postgres store: migrate: %w", err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()

	var schema *string
	if err := tx.QueryRow(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		return fmt.Errorf("postgres store: migrate: %w", err)
	}
	if schema == nil {
		return errors.New("postgres store: migrate: no schema of the search_path exists")
	}
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, hashtext($2))`, migrationLockClass, *schema); err != nil {
		return fmt.Errorf("postgres store: migrate: lock: %w", err)
	}
	if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    integer PRIMARY KEY,
		name       text NOT NULL,
		applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return fmt.Errorf("postgres store: migrate: %w", err)
	}
	rows, err := tx.Query(ctx, `SELECT version FROM schema_migrations ORDER BY version`)
	if err != nil {
		return fmt.Errorf("postgres store: migrate: %w", err)
	}
	applied, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		return fmt.Errorf("postgres store: migrate: %w", err)
	}
	done := make(map[int]bool, len(applied))
	for _, v := range applied {
		if int(v) > len(all) {
			return fmt.Errorf("%w: schema %s has migration %d, this binary knows %d", ErrSchemaTooNew, *schema, v, len(all))
		}
		done[int(v)] = true
	}
	for _, m := range all {
		if done[m.version] {
			continue
		}
		if _, err := tx.Exec(ctx, m.sql); err != nil {
			return fmt.Errorf("postgres store: migration %s: %w", m.name, err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`, m.version, m.name); err != nil {
			return fmt.Errorf("postgres store: migration %s: %w", m.name, err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("postgres store: migrate: commit: %w", err)
	}
	return nil
}
