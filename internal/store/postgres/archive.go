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

var _ store.Archive = (*Store)(nil)

// appendArchiveSQL inserts a message with an asynchronous commit (the
// contract does not ask for durability); an existing id inserts nothing.
const appendArchiveSQL = `WITH ` + asyncCommit + `
INSERT INTO archive (owner, id, t, with_jid, payload)
SELECT $1, $2::text, $3::timestamptz, $4::text, $5::bytea FROM async
ON CONFLICT (owner, id) DO NOTHING`

// AppendArchive implements store.Archive.
func (s *Store) AppendArchive(ctx context.Context, user string, m store.ArchivedMessage) error {
	if err := s.enter(ctx); err != nil {
		return err
	}
	defer s.exit()
	payload := m.Payload
	if payload == nil {
		payload = []byte{}
	}
	tag, err := s.pool.Exec(ctx, appendArchiveSQL, user, m.ID, m.Time, m.With, payload)
	if err != nil {
		return writeErr(ctx, "append to archive of "+user, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("archive of %s, id %s: %w", user, m.ID, store.ErrExists)
	}
	return nil
}

// archiveFilter is the WHERE clause and arguments selecting q's messages
// of user's archive (Max and Backward aside). AfterID and BeforeID are
// looked up first: an id not in the archive is ErrNotFound.
func (s *Store) archiveFilter(ctx context.Context, user string, q store.ArchiveQuery) (string, []any, error) {
	args := []any{user}
	conds := []string{"owner = $1"}
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	if q.With != "" {
		conds = append(conds, "with_jid = "+arg(q.With)+"::text")
	}
	// Times are stored to the microsecond: round the bounds inwards so
	// that Start and End stay inclusive and exact.
	if !q.Start.IsZero() {
		conds = append(conds, "t >= "+arg(ceilMicro(q.Start))+"::timestamptz")
	}
	if !q.End.IsZero() {
		conds = append(conds, "t <= "+arg(q.End.Truncate(time.Microsecond))+"::timestamptz")
	}
	for _, b := range []struct {
		id, op string
	}{{q.AfterID, ">"}, {q.BeforeID, "<"}} {
		if b.id == "" {
			continue
		}
		var t time.Time
		err := s.pool.QueryRow(ctx, `SELECT t FROM archive WHERE owner = $1 AND id = $2`, user, b.id).Scan(&t)
		if errors.Is(err, pgx.ErrNoRows) {
			return "", nil, fmt.Errorf("archive of %s, id %s: %w", user, b.id, store.ErrNotFound)
		}
		if err != nil {
			return "", nil, readErr("archive of "+user, err)
		}
		conds = append(conds, fmt.Sprintf("(t, id) %s (%s::timestamptz, %s::text)", b.op, arg(t), arg(b.id)))
	}
	return strings.Join(conds, " AND "), args, nil
}

// ceilMicro rounds t up to a whole microsecond.
func ceilMicro(t time.Time) time.Time {
	u := t.Truncate(time.Microsecond)
	if u.Before(t) {
		u = u.Add(time.Microsecond)
	}
	return u
}

// QueryArchive implements store.Archive: one index range scan, in the
// query's direction, of at most Max+1 rows (the extra one tells whether
// the page is complete).
func (s *Store) QueryArchive(ctx context.Context, user string, q store.ArchiveQuery) ([]store.ArchivedMessage, bool, error) {
	if err := s.enter(ctx); err != nil {
		return nil, false, err
	}
	defer s.exit()
	where, args, err := s.archiveFilter(ctx, user, q)
	if err != nil {
		return nil, false, err
	}
	order := "t, id"
	if q.Backward {
		order = "t DESC, id DESC"
	}
	sql := `SELECT id, t, with_jid, payload FROM archive WHERE ` + where + ` ORDER BY ` + order
	if q.Max > 0 {
		sql += fmt.Sprintf(" LIMIT %d", q.Max+1)
	}
	rows, err := s.pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, false, readErr("archive of "+user, err)
	}
	var page []store.ArchivedMessage
	var m store.ArchivedMessage
	_, err = pgx.ForEachRow(rows, []any{&m.ID, &m.Time, &m.With, &m.Payload}, func() error {
		m.Time = m.Time.UTC()
		page = append(page, m)
		m = store.ArchivedMessage{}
		return nil
	})
	if err != nil {
		return nil, false, readErr("archive of "+user, err)
	}
	complete := q.Max <= 0 || len(page) <= q.Max
	if !complete {
		page = page[:q.Max]
	}
	if q.Backward {
		slices.Reverse(page)
	}
	return page, complete, nil
}

// CountArchive implements store.Archive.
func (s *Store) CountArchive(ctx context.Context, user string, q store.ArchiveQuery) (int, error) {
	if err := s.enter(ctx); err != nil {
		return 0, err
	}
	defer s.exit()
	where, args, err := s.archiveFilter(ctx, user, q)
	if err != nil {
		return 0, err
	}
	var n int64
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM archive WHERE `+where, args...).Scan(&n); err != nil {
		return 0, readErr("archive of "+user, err)
	}
	return int(n), nil
}

// deleteArchiveBeforeSQL deletes the oldest messages older than $1, at most
// $2 (NULL: all), over every user, with an asynchronous commit.
const deleteArchiveBeforeSQL = `WITH ` + asyncCommit + `, v AS (
	SELECT owner, id FROM archive, async WHERE t < $1 ORDER BY t LIMIT $2
), d AS (
	DELETE FROM archive a USING v WHERE a.owner = v.owner AND a.id = v.id RETURNING 1
)
SELECT count(*) FROM d`

// DeleteArchiveBefore implements store.Archive: the oldest messages go
// first, across users (the archive_cutoff index).
func (s *Store) DeleteArchiveBefore(ctx context.Context, cutoff time.Time, limit int) (int, error) {
	if err := s.enter(ctx); err != nil {
		return 0, err
	}
	defer s.exit()
	var lim *int64
	if limit > 0 {
		l := int64(limit)
		lim = &l
	}
	var n int64
	err := retryDeadlock(func() error {
		return s.pool.QueryRow(ctx, deleteArchiveBeforeSQL, ceilMicro(cutoff), lim).Scan(&n)
	})
	if err != nil {
		return 0, writeErr(ctx, "delete archive before", err)
	}
	return int(n), nil
}

// GetArchivePrefs implements store.Archive: the zero value when unset.
func (s *Store) GetArchivePrefs(ctx context.Context, user string) (store.ArchivePrefs, error) {
	if err := s.enter(ctx); err != nil {
		return store.ArchivePrefs{}, err
	}
	defer s.exit()
	var p store.ArchivePrefs
	err := s.pool.QueryRow(ctx, `SELECT default_mode, always_jids, never_jids FROM archive_prefs WHERE owner = $1`,
		user).Scan(&p.Default, &p.Always, &p.Never)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.ArchivePrefs{}, nil
	}
	if err != nil {
		return store.ArchivePrefs{}, readErr("archive preferences of "+user, err)
	}
	return p, nil
}

// SetArchivePrefs implements store.Archive: one durable upsert.
func (s *Store) SetArchivePrefs(ctx context.Context, user string, p store.ArchivePrefs) error {
	if err := s.enter(ctx); err != nil {
		return err
	}
	defer s.exit()
	always, never := p.Always, p.Never
	if always == nil {
		always = []string{}
	}
	if never == nil {
		never = []string{}
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO archive_prefs AS p (owner, default_mode, always_jids, never_jids)
		VALUES ($1, $2, $3, $4)
		ON CONFLICT (owner) DO UPDATE SET default_mode = excluded.default_mode,
			always_jids = excluded.always_jids, never_jids = excluded.never_jids`,
		user, p.Default, always, never)
	return writeErr(ctx, "set archive preferences of "+user, err)
}
