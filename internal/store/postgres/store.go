package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/parley-im/parley/internal/store"
)

// Options configure Open. The zero value is valid: every field has a default.
type Options struct {
	// MaxConns is the size of the connection pool. 0 means pgxpool's
	// default (the greater of 4 and the number of CPUs), unless the DSN
	// sets pool_max_conns.
	MaxConns int32
	// EnqueueFlushers is how many group-commit batches of Enqueue calls
	// may be in flight at once, each on its own connection (doc.go, "Group
	// commit"). 0 means DefaultEnqueueFlushers.
	EnqueueFlushers int
	// MaxBatchPayloads and MaxBatchBytes bound one group-commit batch
	// (a batch always takes at least one whole Enqueue call). 0 means
	// 1024 payloads and 8 MiB.
	MaxBatchPayloads int
	MaxBatchBytes    int
	// WriteTimeout bounds one group-commit batch, which runs on behalf of
	// many callers and so does not use any one caller's context. 0 means
	// 30 seconds.
	WriteTimeout time.Duration
}

// DefaultEnqueueFlushers is the default of Options.EnqueueFlushers; see
// doc.go for the measurements behind it.
const DefaultEnqueueFlushers = 2

// Validate reports options that make no sense.
func (o Options) Validate() error {
	if o.MaxConns < 0 || o.EnqueueFlushers < 0 || o.MaxBatchPayloads < 0 || o.MaxBatchBytes < 0 || o.WriteTimeout < 0 {
		return errors.New("postgres store: negative option")
	}
	if o.MaxConns > 0 && o.EnqueueFlushers > int(o.MaxConns) {
		return fmt.Errorf("postgres store: EnqueueFlushers (%d) > MaxConns (%d)", o.EnqueueFlushers, o.MaxConns)
	}
	return nil
}

func (o Options) withDefaults() Options {
	if o.EnqueueFlushers == 0 {
		o.EnqueueFlushers = DefaultEnqueueFlushers
	}
	if o.MaxBatchPayloads == 0 {
		o.MaxBatchPayloads = 1024
	}
	if o.MaxBatchBytes == 0 {
		o.MaxBatchBytes = 8 << 20
	}
	if o.WriteTimeout == 0 {
		o.WriteTimeout = 30 * time.Second
	}
	return o
}

// Store is the PostgreSQL backend. See doc.go for the schema and the
// concurrency rules.
type Store struct {
	pool *pgxpool.Pool
	opts Options
	gc   groupCommit

	// gate is held by every operation for its whole duration; Close waits
	// for them.
	gate store.Gate
}

var _ store.Store = (*Store)(nil)

// Open connects to the database dsn (a URL or keyword/value string, as
// pgx parses it), applies the migrations it lacks (as Migrate does) and
// returns the store. Tables live in the first existing schema of the
// connection's search_path.
func Open(ctx context.Context, dsn string, opts Options) (*Store, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	opts = opts.withDefaults()
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres store: %w", err)
	}
	if opts.MaxConns > 0 {
		cfg.MaxConns = opts.MaxConns
	}
	if int(cfg.MaxConns) < opts.EnqueueFlushers {
		opts.EnqueueFlushers = int(cfg.MaxConns)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres store: %w", err)
	}
	conn, err := pool.Acquire(ctx)
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("%w: postgres store: connect: %w", store.ErrUnavailable, err)
	}
	err = migrate(ctx, conn.Conn())
	conn.Release()
	if err != nil {
		pool.Close()
		return nil, err
	}
	s := &Store{pool: pool, opts: opts}
	s.gc.init(s, opts)
	return s, nil
}

// Close waits for operations in flight and closes the pool. Later calls,
// of Close too, return store.ErrClosed.
func (s *Store) Close() error {
	return s.gate.Close(func() error {
		s.pool.Close()
		return nil
	})
}

// enter starts an operation (store.Gate.Enter); exit ends it.
func (s *Store) enter(ctx context.Context) error { return s.gate.Enter(ctx) }

func (s *Store) exit() { s.gate.Exit() }

// asyncCommit is a CTE that turns off synchronous_commit for the rest of
// the statement's (implicit) transaction: its commit returns without
// waiting for the WAL flush. A statement using it must reference it (a
// CTE nobody reads is not evaluated), e.g. "... FROM async".
const asyncCommit = `async AS (SELECT set_config('synchronous_commit', 'off', true) AS off)`

// writeErr wraps a failed write: the caller's context error and data the
// database refused as they are, any other failure as store.ErrUnavailable
// (the database cannot take writes: connection lost, disk full, read-only
// standby).
func writeErr(ctx context.Context, what string, err error) error {
	if err == nil {
		return nil
	}
	if ctx.Err() != nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || isDataError(err) {
		return fmt.Errorf("postgres store: %s: %w", what, err)
	}
	return fmt.Errorf("%w: postgres store: %s: %w", store.ErrUnavailable, what, err)
}

// readErr wraps a failed read.
func readErr(what string, err error) error {
	return fmt.Errorf("postgres store: %s: %w", what, err)
}

// isDataError reports whether PostgreSQL refused a statement for its data
// (SQLSTATE classes 22, data exception; 23, integrity constraint; 54,
// program limit exceeded) rather than for the state of the server.
func isDataError(err error) bool {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || len(pe.Code) < 2 {
		return false
	}
	switch pe.Code[:2] {
	case "22", "23", "54":
		return true
	}
	return false
}

// isDeadlock reports whether err is a PostgreSQL deadlock (SQLSTATE
// 40P01): the statement was rolled back and may be retried.
func isDeadlock(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "40P01"
}
