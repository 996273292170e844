package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/parley-im/parley/internal/store"
)

// rosterColumns are the columns of a roster item, in scanItem's order.
const rosterColumns = `contact, name, roster_groups, subscription, ask_out, pending_in,
	pending_in_status, pre_approved, hidden`

// getRosterSQL reads the version and the items in one statement (one
// snapshot), so they are consistent with each other. The version row is
// joined to the items so that an empty roster still returns one row.
const getRosterSQL = `SELECT v.version, ` + rosterColumns + `
FROM (SELECT coalesce((SELECT version FROM roster_versions WHERE owner = $1), 0) AS version) v
LEFT JOIN roster_items i ON i.owner = $1`

// GetRoster implements store.Roster.
func (s *Store) GetRoster(ctx context.Context, owner string) ([]store.RosterItem, uint64, error) {
	if err := s.enter(ctx); err != nil {
		return nil, 0, err
	}
	defer s.exit()
	rows, err := s.pool.Query(ctx, getRosterSQL, owner)
	if err != nil {
		return nil, 0, readErr("roster of "+owner, err)
	}
	defer rows.Close()
	var items []store.RosterItem
	var ver int64
	for rows.Next() {
		var contact *string
		var it store.RosterItem
		var askOut, pendingIn, preApproved, hidden *bool
		var name, sub, status *string
		if err := rows.Scan(&ver, &contact, &name, &it.Groups, &sub, &askOut, &pendingIn,
			&status, &preApproved, &hidden); err != nil {
			return nil, 0, readErr("roster of "+owner, err)
		}
		if contact == nil { // the empty roster's row
			continue
		}
		it.JID, it.Name, it.Subscription, it.PendingInStatus = *contact, *name, *sub, *status
		it.AskOut, it.PendingIn, it.PreApproved, it.Hidden = *askOut, *pendingIn, *preApproved, *hidden
		items = append(items, it)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, readErr("roster of "+owner, err)
	}
	return items, uint64(ver), nil
}

// GetRosterItem implements store.Roster.
func (s *Store) GetRosterItem(ctx context.Context, owner, contact string) (store.RosterItem, error) {
	if err := s.enter(ctx); err != nil {
		return store.RosterItem{}, err
	}
	defer s.exit()
	var it store.RosterItem
	err := s.pool.QueryRow(ctx, `SELECT `+rosterColumns+` FROM roster_items WHERE owner = $1 AND contact = $2`,
		owner, contact).Scan(&it.JID, &it.Name, &it.Groups, &it.Subscription, &it.AskOut, &it.PendingIn,
		&it.PendingInStatus, &it.PreApproved, &it.Hidden)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.RosterItem{}, fmt.Errorf("roster item %s of %s: %w", contact, owner, store.ErrNotFound)
	}
	if err != nil {
		return store.RosterItem{}, readErr(fmt.Sprintf("roster item %s of %s", contact, owner), err)
	}
	return it, nil
}

// putRosterSQL increments the owner's version (creating it at 1), then
// upserts the item, in one statement. The version row's lock, always taken
// first (the item insert reads v), orders the owner's roster writers.
const putRosterSQL = `WITH v AS (
	INSERT INTO roster_versions AS rv (owner, version) VALUES ($1, 1)
	ON CONFLICT (owner) DO UPDATE SET version = rv.version + 1
	RETURNING version
), i AS (
	INSERT INTO roster_items (owner, ` + rosterColumns + `)
	SELECT $1, $2::text, $3::text, $4::text[], $5::text, $6::boolean, $7::boolean, $8::text, $9::boolean, $10::boolean
	FROM v
	ON CONFLICT (owner, contact) DO UPDATE SET
		name = excluded.name, roster_groups = excluded.roster_groups,
		subscription = excluded.subscription, ask_out = excluded.ask_out,
		pending_in = excluded.pending_in, pending_in_status = excluded.pending_in_status,
		pre_approved = excluded.pre_approved, hidden = excluded.hidden
)
SELECT version FROM v`

// deleteRosterSQL locks the owner's version row first (as putRosterSQL
// does: no deadlock between them), deletes the item and, only if there was
// one, increments the version: no row means ErrNotFound, and the version
// did not move.
const deleteRosterSQL = `WITH lk AS (
	SELECT version FROM roster_versions WHERE owner = $1 FOR UPDATE
), d AS (
	DELETE FROM roster_items WHERE owner = $1 AND contact = $2 AND (SELECT count(*) FROM lk) >= 0
	RETURNING 1
), v AS (
	INSERT INTO roster_versions AS rv (owner, version) SELECT $1, 1 FROM d
	ON CONFLICT (owner) DO UPDATE SET version = rv.version + 1
	RETURNING version
)
SELECT version FROM v`

// PutRosterItem implements store.Roster.
func (s *Store) PutRosterItem(ctx context.Context, owner string, item store.RosterItem) (uint64, error) {
	if err := s.enter(ctx); err != nil {
		return 0, err
	}
	defer s.exit()
	groups := item.Groups
	if groups == nil {
		groups = []string{}
	}
	var ver int64
	err := retryDeadlock(func() error {
		return s.pool.QueryRow(ctx, putRosterSQL, owner, item.JID, item.Name, groups, item.Subscription,
			item.AskOut, item.PendingIn, item.PendingInStatus, item.PreApproved, item.Hidden).Scan(&ver)
	})
	if err != nil {
		return 0, writeErr(ctx, fmt.Sprintf("put roster item %s of %s", item.JID, owner), err)
	}
	return uint64(ver), nil
}

// DeleteRosterItem implements store.Roster.
func (s *Store) DeleteRosterItem(ctx context.Context, owner, contact string) (uint64, error) {
	if err := s.enter(ctx); err != nil {
		return 0, err
	}
	defer s.exit()
	var ver int64
	err := retryDeadlock(func() error {
		return s.pool.QueryRow(ctx, deleteRosterSQL, owner, contact).Scan(&ver)
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, fmt.Errorf("roster item %s of %s: %w", contact, owner, store.ErrNotFound)
	}
	if err != nil {
		return 0, writeErr(ctx, fmt.Sprintf("delete roster item %s of %s", contact, owner), err)
	}
	return uint64(ver), nil
}
