package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/parley-im/parley/internal/store"
)

var _ store.PEP = (*Store)(nil)

// PEP writes that read the node's items (to trim them, or to delete them
// with the node) are a batch of two statements, sent in one round trip and
// run in one implicit transaction (pgx.Batch): the first locks the node's
// pep_nodes row, the second, which takes its snapshot after the lock is
// held, changes the items. Every writer of a node's items but
// DeletePEPItem (one row) takes that lock first, so a trim sees every
// item published before it and a node's writers are ordered. One
// statement could not do it: its snapshot predates the wait for the lock.
//
// An item is live only while its seq is at most its node's next_seq.
// DeleteAccount (one statement) may miss an item that a PutPEPItem
// committed while the account's rows were being deleted; such an orphan
// has no node, is never read (the readers join pep_nodes and compare
// seqs) and is removed when the node is created again (PutPEPNode deletes
// the node's items newer than its next_seq, 0 for a new node).

// putPEPNodeSQL creates the node or updates its configuration, keeping
// next_seq, and holds the row's lock until the commit.
const putPEPNodeSQL = `INSERT INTO pep_nodes AS n (owner, node, access, max_items, next_seq)
	VALUES ($1, $2, $3, $4, 0)
	ON CONFLICT (owner, node) DO UPDATE SET access = excluded.access, max_items = excluded.max_items`

// trimPEPSQL deletes the node's items beyond the newest max_items, and
// orphans (seq > next_seq). It follows a statement that locked the node.
const trimPEPSQL = `WITH n AS (
	SELECT next_seq, max_items FROM pep_nodes WHERE owner = $1 AND node = $2
), old AS (
	SELECT i.id FROM pep_items i, n WHERE i.owner = $1 AND i.node = $2 AND i.seq > n.next_seq
	UNION ALL
	(SELECT i.id FROM pep_items i, n WHERE i.owner = $1 AND i.node = $2 AND i.seq <= n.next_seq
	 ORDER BY i.seq DESC OFFSET (SELECT greatest(max_items, 0) FROM n))
)
DELETE FROM pep_items WHERE owner = $1 AND node = $2 AND id IN (SELECT id FROM old)`

// nextPEPSeqSQL takes the node's next seq and holds the row's lock until
// the commit; no row if the node does not exist.
const nextPEPSeqSQL = `UPDATE pep_nodes SET next_seq = next_seq + 1
	WHERE owner = $1 AND node = $2 RETURNING next_seq`

// putPEPItemSQL follows nextPEPSeqSQL: it writes the item with the node's
// new seq (replacing an item of the same id) and deletes the items beyond
// the newest max_items-1 others. Nothing if the node does not exist.
const putPEPItemSQL = `WITH n AS (
	SELECT next_seq, max_items FROM pep_nodes WHERE owner = $1 AND node = $2
), up AS (
	INSERT INTO pep_items AS i (owner, node, id, seq, published, payload)
	SELECT $1, $2, $3, n.next_seq, $4, $5 FROM n
	ON CONFLICT (owner, node, id) DO UPDATE
	SET seq = excluded.seq, published = excluded.published, payload = excluded.payload
)
DELETE FROM pep_items WHERE owner = $1 AND node = $2 AND id <> $3 AND EXISTS (SELECT FROM n) AND id IN (
	SELECT id FROM pep_items WHERE owner = $1 AND node = $2 AND id <> $3
	ORDER BY seq DESC OFFSET (SELECT greatest(max_items - 1, 0) FROM n)
)`

// GetPEPNode implements store.PEP.
func (s *Store) GetPEPNode(ctx context.Context, owner, node string) (store.PEPNode, error) {
	if err := s.enter(ctx); err != nil {
		return store.PEPNode{}, err
	}
	defer s.exit()
	var cfg store.PEPNode
	err := s.pool.QueryRow(ctx, `SELECT access, max_items FROM pep_nodes WHERE owner = $1 AND node = $2`,
		owner, []byte(node)).Scan(&cfg.Access, &cfg.MaxItems)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.PEPNode{}, fmt.Errorf("pep node %s of %s: %w", node, owner, store.ErrNotFound)
	}
	if err != nil {
		return store.PEPNode{}, readErr("pep node "+node+" of "+owner, err)
	}
	return cfg, nil
}

// PutPEPNode implements store.PEP: the upsert and the trim in one
// transaction, one round trip.
func (s *Store) PutPEPNode(ctx context.Context, owner, node string, cfg store.PEPNode) error {
	if err := s.enter(ctx); err != nil {
		return err
	}
	defer s.exit()
	err := s.sendBatch(ctx, func(b *pgx.Batch) {
		b.Queue(putPEPNodeSQL, owner, []byte(node), cfg.Access, cfg.MaxItems)
		b.Queue(trimPEPSQL, owner, []byte(node))
	})
	return writeErr(ctx, "put pep node "+node+" of "+owner, err)
}

// ListPEPNodes implements store.PEP, from the primary-key index.
func (s *Store) ListPEPNodes(ctx context.Context, owner string) ([]string, error) {
	if err := s.enter(ctx); err != nil {
		return nil, err
	}
	defer s.exit()
	rows, err := s.pool.Query(ctx, `SELECT node FROM pep_nodes WHERE owner = $1 ORDER BY node`, owner)
	if err != nil {
		return nil, readErr("pep nodes of "+owner, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (string, error) {
		var b []byte
		err := r.Scan(&b)
		return string(b), err
	})
	if err != nil {
		return nil, readErr("pep nodes of "+owner, err)
	}
	if out == nil {
		out = []string{}
	}
	return out, nil
}

// DeletePEPNode implements store.PEP: the node, then (with a snapshot
// taken once the node's lock is held) its items, in one transaction.
func (s *Store) DeletePEPNode(ctx context.Context, owner, node string) error {
	if err := s.enter(ctx); err != nil {
		return err
	}
	defer s.exit()
	var n int64
	err := s.sendBatch(ctx, func(b *pgx.Batch) {
		b.Queue(`DELETE FROM pep_nodes WHERE owner = $1 AND node = $2`, owner, []byte(node)).Exec(
			func(tag pgconn.CommandTag) error { n = tag.RowsAffected(); return nil })
		b.Queue(`DELETE FROM pep_items WHERE owner = $1 AND node = $2`, owner, []byte(node))
	})
	if err != nil {
		return writeErr(ctx, "delete pep node "+node+" of "+owner, err)
	}
	if n == 0 {
		return fmt.Errorf("pep node %s of %s: %w", node, owner, store.ErrNotFound)
	}
	return nil
}

// PutPEPItem implements store.PEP: the node's new seq (locking it), then
// the item and the trim, in one transaction, one round trip.
func (s *Store) PutPEPItem(ctx context.Context, owner, node string, item store.PEPItem) error {
	if err := s.enter(ctx); err != nil {
		return err
	}
	defer s.exit()
	payload := item.Payload
	if payload == nil {
		payload = []byte{} // NULL is not a payload
	}
	found := false
	err := s.sendBatch(ctx, func(b *pgx.Batch) {
		found = false
		b.Queue(nextPEPSeqSQL, owner, []byte(node)).QueryRow(func(row pgx.Row) error {
			var seq int64
			err := row.Scan(&seq)
			if errors.Is(err, pgx.ErrNoRows) {
				return nil
			}
			found = err == nil
			return err
		})
		b.Queue(putPEPItemSQL, owner, []byte(node), []byte(item.ID), item.Published, payload)
	})
	if err != nil {
		return writeErr(ctx, "put pep item "+item.ID+" in "+node+" of "+owner, err)
	}
	if !found {
		return fmt.Errorf("pep node %s of %s: %w", node, owner, store.ErrNotFound)
	}
	return nil
}

// GetPEPItems implements store.PEP: one statement, so the node and its
// items are one snapshot.
func (s *Store) GetPEPItems(ctx context.Context, owner, node string, limit int) ([]store.PEPItem, error) {
	if err := s.enter(ctx); err != nil {
		return nil, err
	}
	defer s.exit()
	what := "pep items of " + node + " of " + owner
	rows, err := s.pool.Query(ctx, `SELECT i.seq IS NOT NULL, i.id, i.published, i.payload
		FROM pep_nodes n LEFT JOIN LATERAL (
			SELECT seq, id, published, payload FROM pep_items
			WHERE owner = n.owner AND node = n.node AND seq <= n.next_seq
			ORDER BY seq DESC LIMIT NULLIF($3::int8, 0)
		) i ON true
		WHERE n.owner = $1 AND n.node = $2
		ORDER BY i.seq DESC`, owner, []byte(node), int64(max(limit, 0)))
	if err != nil {
		return nil, readErr(what, err)
	}
	defer rows.Close()
	nodeFound := false
	out := []store.PEPItem{}
	for rows.Next() {
		nodeFound = true
		var isItem bool
		var id, payload []byte
		var published *time.Time
		if err := rows.Scan(&isItem, &id, &published, &payload); err != nil {
			return nil, readErr(what, err)
		}
		if !isItem {
			continue
		}
		if payload == nil {
			payload = []byte{}
		}
		out = append(out, store.PEPItem{ID: string(id), Payload: payload, Published: published.UTC()})
	}
	if err := rows.Err(); err != nil {
		return nil, readErr(what, err)
	}
	if !nodeFound {
		return nil, fmt.Errorf("pep node %s of %s: %w", node, owner, store.ErrNotFound)
	}
	return out, nil
}

// DeletePEPItem implements store.PEP: one statement; a live item's seq is
// at most its node's next_seq, which is NULL when the node does not exist.
func (s *Store) DeletePEPItem(ctx context.Context, owner, node, id string) error {
	if err := s.enter(ctx); err != nil {
		return err
	}
	defer s.exit()
	var tag pgconn.CommandTag
	err := retryDeadlock(func() error {
		var err error
		tag, err = s.pool.Exec(ctx, `DELETE FROM pep_items
			WHERE owner = $1 AND node = $2 AND id = $3
			AND seq <= (SELECT next_seq FROM pep_nodes WHERE owner = $1 AND node = $2)`,
			owner, []byte(node), []byte(id))
		return err
	})
	if err != nil {
		return writeErr(ctx, "delete pep item "+id+" in "+node+" of "+owner, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("pep item %s in %s of %s: %w", id, node, owner, store.ErrNotFound)
	}
	return nil
}

// sendBatch sends the statements fill queues as one batch: one round trip,
// one implicit transaction, each statement with its own snapshot (READ
// COMMITTED). A deadlock rolls the whole batch back, and it is sent again.
func (s *Store) sendBatch(ctx context.Context, fill func(*pgx.Batch)) error {
	return retryDeadlock(func() error {
		b := &pgx.Batch{}
		fill(b)
		return s.pool.SendBatch(ctx, b).Close()
	})
}
