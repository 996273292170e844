package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parley-im/parley/internal/store"
)

// putLastSeenSQL upserts a batch of records from parallel arrays, with an
// asynchronous commit (the contract does not ask for durability).
const putLastSeenSQL = `WITH ` + asyncCommit + `
INSERT INTO last_seen AS l (jid, seen_at, status)
SELECT u.jid, u.seen_at, u.status
FROM async, unnest($1::text[], $2::timestamptz[], $3::text[]) AS u(jid, seen_at, status)
ORDER BY u.jid
ON CONFLICT (jid) DO UPDATE SET seen_at = excluded.seen_at, status = excluded.status`

// PutLastSeen implements store.LastActivity: one statement, not synced.
// Rows are written in JID order, so concurrent batches cannot deadlock.
func (s *Store) PutLastSeen(ctx context.Context, records map[string]store.LastSeen) error {
	if err := s.enter(ctx); err != nil {
		return err
	}
	defer s.exit()
	if len(records) == 0 {
		return nil
	}
	jids := make([]string, 0, len(records))
	for j := range records {
		jids = append(jids, j)
	}
	slices.SortFunc(jids, strings.Compare)
	at := make([]time.Time, len(jids))
	status := make([]string, len(jids))
	for i, j := range jids {
		at[i], status[i] = records[j].At, records[j].Status
	}
	err := retryDeadlock(func() error {
		_, err := s.pool.Exec(ctx, putLastSeenSQL, jids, at, status)
		return err
	})
	return writeErr(ctx, "put last seen", err)
}

// GetLastSeen implements store.LastActivity.
func (s *Store) GetLastSeen(ctx context.Context, jid string) (store.LastSeen, error) {
	if err := s.enter(ctx); err != nil {
		return store.LastSeen{}, err
	}
	defer s.exit()
	var ls store.LastSeen
	err := s.pool.QueryRow(ctx, `SELECT seen_at, status FROM last_seen WHERE jid = $1`, jid).Scan(&ls.At, &ls.Status)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.LastSeen{}, fmt.Errorf("last seen of %s: %w", jid, store.ErrNotFound)
	}
	if err != nil {
		return store.LastSeen{}, readErr("last seen of "+jid, err)
	}
	ls.At = ls.At.UTC()
	return ls, nil
}
