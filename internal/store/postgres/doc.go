// Package postgres is Parley's PostgreSQL storage backend: every contract
// of package store in one PostgreSQL database (pgx v5, a pgxpool pool),
// for deployments that outgrow one machine or already run PostgreSQL. It
// passes the same conformance suite (store/storetest) as store/pebble.
//
// Open connects, migrates and returns a Store; Close closes the pool.
// Migrate applies the migrations alone (for "parley db migrate").
//
// # Schema and migrations
//
// The schema is migrations/NNNN_name.sql, embedded in the binary and
// applied in order; schema_migrations records which are applied. Migrate
// (and Open) apply all missing ones in one transaction that first takes a
// transaction-scoped advisory lock keyed by the schema name, so several
// nodes starting at once serialize and each migration runs exactly once; a
// failure rolls every one of them back. A database that has a migration
// this binary does not know is refused (ErrSchemaTooNew). A released
// migration is never edited: changes are new files.
//
// Tables live in the first existing schema of the search_path (set it in
// the DSN: search_path=parley). Text columns are COLLATE "C": ListAccounts
// and GetBlocklist sort by byte order and the "jid#device" queue keys of
// a user are one index range, ['jid#', 'jid$').
//
//	accounts          jid → SCRAM-SHA-1 and -SHA-256 keys, created; domain
//	                  (generated) indexed with jid for ListAccounts
//	roster_items      (owner, contact) → item
//	roster_versions   owner → version (absent: 0)
//	last_seen         jid → seen_at, status
//	blocklist         (owner, blocked)
//	privacy           owner → privacy settings
//	archive           (owner, id) → t, with_jid, payload; indexed by
//	                  (owner, t, id), (owner, with_jid, t, id) and (t)
//	archive_prefs     owner → default, always, never
//	pep_nodes         (owner, node) → access, max_items, next_seq
//	pep_items         (owner, node, id) → seq, published, payload;
//	                  indexed by (owner, node, seq)
//	queue             (key, seq) → stored, payload
//	queue_seqs        key → next seq (kept when the queue drains)
//	queue_heads       key → head: every seq below it was acked
//
// Every method is one SQL statement (data-modifying CTEs where it writes
// several tables), so it is one round trip and one implicit transaction,
// and sees one snapshot: GetRoster's version matches its items,
// DeleteAccount removes everything of the user or nothing. (Archive
// queries with AfterID or BeforeID first look those ids up; PutPEPNode,
// DeletePEPNode and PutPEPItem are two statements, see "PEP".)
//
// # Queues
//
// Sequence numbers come from queue_seqs: Enqueue upserts the key's row
// (next_seq += n) and holds its row lock until it commits, so a key's
// writers, on any connection of any node, commit in seq order, and a
// stanza is visible only once every lower seq of its key is (the ordering
// contract of store.Queue). The rows stay when a queue drains, so seqs
// are never reused; DeleteAccount removes them with the user's queues.
//
// AckQueue deletes the acked rows and advances the queue's head past them
// in one statement, committed asynchronously (synchronous_commit turned
// off for that transaction only, by set_config in the statement): a lost
// ack is a redelivery, which recipients dedupe. ReadQueue and QueueLen
// scan the (key, seq) primary key from max(after+1, head), so the dead
// index entries of acked rows below the head (PostgreSQL's tombstones,
// until vacuum removes them) are never visited: after 100,000 acks a read
// costs PostgreSQL what a fresh queue's does (6 buffers against 5), and
// the ack's DELETE is bounded by the acked seqs' range so that it does not
// visit them either (BenchmarkAckOne; docs/benchmarks.md). ackSQL
// explains why the head can be too low (harmless) but never too high.
//
// # Group commit
//
// Enqueue is durable when it returns (synchronous_commit as configured on
// the server, "on" by default). Concurrent Enqueue calls are written in
// batches, one statement and so one commit and one WAL flush per batch
// (commit.go). There is no background goroutine: a caller that finds one
// of Options.EnqueueFlushers slots free leads a batch of all pending calls
// (bounded by MaxBatchPayloads and MaxBatchBytes), writes it, wakes its
// callers and passes the slot to the oldest call still pending, which
// leads the next batch. While a batch is being written and flushed, the
// next one gathers. With several slots, batches also share PostgreSQL's
// own WAL flushes. A batch locks its keys' queue_seqs rows in byte order,
// so batches (and other nodes' batches) cannot deadlock; if PostgreSQL
// still reports one, the statement is retried. If PostgreSQL refuses a
// batch for its data (a key that is not UTF-8, say), each of its calls is
// written alone, so one bad call cannot fail the others. Measurements are in
// docs/benchmarks.md ("Offline queue: Pebble vs PostgreSQL").
//
// Stanzas become visible when their batch commits, which is when they are
// durable: unlike Pebble, no reader sees a stanza before its Enqueue could
// return (the store contract allows both).
//
// Other durable writes (accounts, rosters, block lists, privacy, archive
// preferences, DeleteAccount) are single statements with a synchronous
// commit; PostgreSQL groups the WAL flushes of concurrent commits itself.
// PutLastSeen, AppendArchive and DeleteArchiveBefore commit
// asynchronously, as the contracts allow.
//
// # Archive
//
// QueryArchive is one range scan of archive_time (or archive_with for one
// peer) in the query's direction, of at most Max+1 rows; AfterID and
// BeforeID are first looked up to their (t, id) and become row
// comparisons. Times are stored to the microsecond, so Start is rounded up
// and End down to whole microseconds to keep both bounds inclusive and
// exact. DeleteArchiveBefore deletes the oldest messages first, across
// users.
//
// # PEP
//
// Node names and item ids are bytea (any string, NUL included; names sort
// by byte order). A node's items are ordered by seq, taken from its
// pep_nodes row (next_seq), as in Pebble. PutPEPNode, DeletePEPNode and
// PutPEPItem send two statements as one pgx batch: one round trip, one
// implicit transaction. The first locks the node's row (upsert, delete,
// next_seq + 1); the second, whose snapshot (READ COMMITTED) is taken
// once the lock is held, writes or trims the items, so it sees every
// earlier change of the node and no committed state keeps more than
// MaxItems items. Published times are stored to the microsecond. pep.go
// explains the orphan items a DeleteAccount racing a publish may leave
// (never read, removed when the node is created again).
//
// # Concurrency
//
// Store is safe for concurrent use. Every method holds its store.Gate
// for its whole duration (including the wait for its batch), so Close
// waits for operations in flight, then closes the pool, and every later
// call returns store.ErrClosed. Writers of one roster
// owner serialize on the owner's roster_versions row (taken first by both
// PutRosterItem and DeleteRosterItem); writers of one queue on its
// queue_seqs row; PostgreSQL row locks do the rest. Values returned are
// owned by the caller. Write failures other than the caller's context are
// wrapped in store.ErrUnavailable.
package postgres
