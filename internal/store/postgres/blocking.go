package postgres

import (
	"context"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
)

// GetBlocklist implements store.Blocking, from the primary-key index
// (byte order: the column is COLLATE "C").
func (s *Store) GetBlocklist(ctx context.Context, user string) ([]string, error) {
	if err := s.enter(ctx); err != nil {
		return nil, err
	}
	defer s.exit()
	rows, err := s.pool.Query(ctx, `SELECT blocked FROM blocklist WHERE owner = $1 ORDER BY blocked`, user)
	if err != nil {
		return nil, readErr("block list of "+user, err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, readErr("block list of "+user, err)
	}
	if out == nil {
		out = []string{}
	}
	return out, nil
}

// AddToBlocklist implements store.Blocking: one statement, rows inserted
// in byte order (so concurrent changes cannot deadlock).
func (s *Store) AddToBlocklist(ctx context.Context, user string, jids []string) error {
	if len(jids) == 0 {
		return s.checkOpen(ctx)
	}
	return s.changeBlocklist(ctx, user, `INSERT INTO blocklist (owner, blocked)
		SELECT $1, j FROM unnest($2::text[]) AS j ORDER BY j COLLATE "C"
		ON CONFLICT DO NOTHING`, sortedCopy(jids))
}

// RemoveFromBlocklist implements store.Blocking.
func (s *Store) RemoveFromBlocklist(ctx context.Context, user string, jids []string) error {
	if len(jids) == 0 {
		return s.checkOpen(ctx)
	}
	return s.changeBlocklist(ctx, user, `DELETE FROM blocklist WHERE owner = $1 AND blocked = ANY($2::text[])`, sortedCopy(jids))
}

// ClearBlocklist implements store.Blocking.
func (s *Store) ClearBlocklist(ctx context.Context, user string) error {
	return s.changeBlocklist(ctx, user, `DELETE FROM blocklist WHERE owner = $1`)
}

// changeBlocklist runs one durable statement on user's block list.
func (s *Store) changeBlocklist(ctx context.Context, user, sql string, args ...any) error {
	if err := s.enter(ctx); err != nil {
		return err
	}
	defer s.exit()
	err := retryDeadlock(func() error {
		_, err := s.pool.Exec(ctx, sql, append([]any{user}, args...)...)
		return err
	})
	return writeErr(ctx, "change block list of "+user, err)
}

// checkOpen returns what enter would: for calls that have nothing to do.
func (s *Store) checkOpen(ctx context.Context) error {
	if err := s.enter(ctx); err != nil {
		return err
	}
	s.exit()
	return nil
}

func sortedCopy(ss []string) []string {
	out := slices.Clone(ss)
	slices.SortFunc(out, strings.Compare)
	return out
}
