package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/parley-im/parley/internal/store"
)

var _ store.Groups = (*Store)(nil)

// isUniqueViolation reports a duplicate primary key (SQLSTATE 23505).
func isUniqueViolation(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}

// CreateGroup implements store.Groups in one transaction.
func (s *Store) CreateGroup(ctx context.Context, g store.Group, members []store.GroupMember) error {
	if err := s.enter(ctx); err != nil {
		return err
	}
	defer s.exit()
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO groups (id, subject, description, owner, created, admins_only, max_members)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, g.ID, g.Subject, g.Description, g.Owner, g.Created, g.AdminsOnly, g.MaxMembers)
		if err != nil {
			return err
		}
		for _, m := range members {
			if _, err := tx.Exec(ctx, `INSERT INTO group_members (group_id, jid, role, joined) VALUES ($1, $2, $3, $4)
				ON CONFLICT DO NOTHING`, g.ID, m.JID, string(m.Role), m.Joined); err != nil {
				return err
			}
		}
		return nil
	})
	if isUniqueViolation(err) {
		return fmt.Errorf("group %s: %w", g.ID, store.ErrExists)
	}
	return writeErr(ctx, "create group "+g.ID, err)
}

// GetGroup implements store.Groups.
func (s *Store) GetGroup(ctx context.Context, id string) (store.Group, error) {
	if err := s.enter(ctx); err != nil {
		return store.Group{}, err
	}
	defer s.exit()
	g := store.Group{ID: id}
	err := s.pool.QueryRow(ctx, `SELECT subject, description, owner, created, admins_only, max_members
		FROM groups WHERE id = $1`, id).Scan(&g.Subject, &g.Description, &g.Owner, &g.Created, &g.AdminsOnly, &g.MaxMembers)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Group{}, fmt.Errorf("group %s: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return store.Group{}, readErr("group "+id, err)
	}
	g.Created = g.Created.UTC()
	return g, nil
}

// UpdateGroup implements store.Groups.
func (s *Store) UpdateGroup(ctx context.Context, g store.Group) error {
	return s.groupChange(ctx, "group "+g.ID, `UPDATE groups SET subject = $2, description = $3, admins_only = $4,
		max_members = $5 WHERE id = $1`, g.ID, g.Subject, g.Description, g.AdminsOnly, g.MaxMembers)
}

// groupChange runs one statement; ErrNotFound when it touched no row.
func (s *Store) groupChange(ctx context.Context, what, sql string, args ...any) error {
	if err := s.enter(ctx); err != nil {
		return err
	}
	defer s.exit()
	tag, err := s.pool.Exec(ctx, sql, args...)
	if err != nil {
		return writeErr(ctx, what, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("%s: %w", what, store.ErrNotFound)
	}
	return nil
}

// GroupMembers implements store.Groups, from the primary-key index.
func (s *Store) GroupMembers(ctx context.Context, id string) ([]store.GroupMember, error) {
	if _, err := s.GetGroup(ctx, id); err != nil {
		return nil, err
	}
	if err := s.enter(ctx); err != nil {
		return nil, err
	}
	defer s.exit()
	rows, err := s.pool.Query(ctx, `SELECT jid, role, joined FROM group_members WHERE group_id = $1 ORDER BY jid`, id)
	if err != nil {
		return nil, readErr("members of "+id, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.GroupMember, error) {
		var m store.GroupMember
		var role string
		err := r.Scan(&m.JID, &role, &m.Joined)
		m.Role, m.Joined = store.GroupRole(role), m.Joined.UTC()
		return m, err
	})
	if err != nil {
		return nil, readErr("members of "+id, err)
	}
	if out == nil {
		out = []store.GroupMember{}
	}
	return out, nil
}

// GroupMember implements store.Groups.
func (s *Store) GroupMember(ctx context.Context, id, jid string) (store.GroupMember, error) {
	if err := s.enter(ctx); err != nil {
		return store.GroupMember{}, err
	}
	defer s.exit()
	m := store.GroupMember{JID: jid}
	var role string
	err := s.pool.QueryRow(ctx, `SELECT role, joined FROM group_members WHERE group_id = $1 AND jid = $2`,
		id, jid).Scan(&role, &m.Joined)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.GroupMember{}, fmt.Errorf("member %s of group %s: %w", jid, id, store.ErrNotFound)
	}
	if err != nil {
		return store.GroupMember{}, readErr("group member", err)
	}
	m.Role, m.Joined = store.GroupRole(role), m.Joined.UTC()
	return m, nil
}

// AddGroupMember implements store.Groups in one transaction: it locks the
// group's row (so concurrent joins of one group serialize), then checks
// the member and the count and inserts.
func (s *Store) AddGroupMember(ctx context.Context, id string, m store.GroupMember, limit int) error {
	if err := s.enter(ctx); err != nil {
		return err
	}
	defer s.exit()
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error { return addGroupMember(ctx, tx, id, m, limit) })
	if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrExists) || errors.Is(err, store.ErrLimit) {
		return err
	}
	return writeErr(ctx, "add member to "+id, err)
}

func addGroupMember(ctx context.Context, tx pgx.Tx, id string, m store.GroupMember, limit int) error {
	var one int
	err := tx.QueryRow(ctx, `SELECT 1 FROM groups WHERE id = $1 FOR UPDATE`, id).Scan(&one)
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("group %s: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return err
	}
	var n int
	var taken bool
	err = tx.QueryRow(ctx, `SELECT count(*), coalesce(bool_or(jid = $2), false) FROM group_members
		WHERE group_id = $1`, id, m.JID).Scan(&n, &taken)
	switch {
	case err != nil:
		return err
	case taken:
		return fmt.Errorf("member %s of group %s: %w", m.JID, id, store.ErrExists)
	case limit > 0 && n >= limit:
		return fmt.Errorf("%d members in group %s: %w", n, id, store.ErrLimit)
	}
	_, err = tx.Exec(ctx, `INSERT INTO group_members (group_id, jid, role, joined) VALUES ($1, $2, $3, $4)`,
		id, m.JID, string(m.Role), m.Joined)
	return err
}

// SetGroupRole implements store.Groups.
func (s *Store) SetGroupRole(ctx context.Context, id, jid string, role store.GroupRole) error {
	return s.groupChange(ctx, "member "+jid+" of group "+id,
		`UPDATE group_members SET role = $3 WHERE group_id = $1 AND jid = $2`, id, jid, string(role))
}

// RemoveGroupMember implements store.Groups.
func (s *Store) RemoveGroupMember(ctx context.Context, id, jid string) error {
	return s.groupChange(ctx, "member "+jid+" of group "+id,
		`DELETE FROM group_members WHERE group_id = $1 AND jid = $2`, id, jid)
}

// UserGroups implements store.Groups, from the (jid, group_id) index.
func (s *Store) UserGroups(ctx context.Context, user string) ([]string, error) {
	if err := s.enter(ctx); err != nil {
		return nil, err
	}
	defer s.exit()
	rows, err := s.pool.Query(ctx, `SELECT group_id FROM group_members WHERE jid = $1 ORDER BY group_id`, user)
	if err != nil {
		return nil, readErr("groups of "+user, err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, readErr("groups of "+user, err)
	}
	if out == nil {
		out = []string{}
	}
	return out, nil
}

// AddGroupInvite implements store.Groups.
func (s *Store) AddGroupInvite(ctx context.Context, inv store.GroupInvite) error {
	if err := s.enter(ctx); err != nil {
		return err
	}
	defer s.exit()
	tag, err := s.pool.Exec(ctx, `INSERT INTO group_invites (token_hash, group_id, created, revoked)
		SELECT $1, id, $3, $4 FROM groups WHERE id = $2`, inv.TokenHash, inv.Group, inv.Created, inv.Revoked)
	switch {
	case isUniqueViolation(err):
		return fmt.Errorf("group invite: %w", store.ErrExists)
	case err != nil:
		return writeErr(ctx, "group invite", err)
	case tag.RowsAffected() == 0:
		return fmt.Errorf("group %s: %w", inv.Group, store.ErrNotFound)
	}
	return nil
}

// GroupInvite implements store.Groups.
func (s *Store) GroupInvite(ctx context.Context, hash []byte) (store.GroupInvite, error) {
	if err := s.enter(ctx); err != nil {
		return store.GroupInvite{}, err
	}
	defer s.exit()
	inv := store.GroupInvite{TokenHash: append([]byte(nil), hash...)}
	err := s.pool.QueryRow(ctx, `SELECT group_id, created, revoked FROM group_invites WHERE token_hash = $1`,
		hash).Scan(&inv.Group, &inv.Created, &inv.Revoked)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.GroupInvite{}, fmt.Errorf("group invite: %w", store.ErrNotFound)
	}
	if err != nil {
		return store.GroupInvite{}, readErr("group invite", err)
	}
	inv.Created = inv.Created.UTC()
	return inv, nil
}

// RevokeGroupInvite implements store.Groups.
func (s *Store) RevokeGroupInvite(ctx context.Context, hash []byte) error {
	return s.groupChange(ctx, "group invite", `UPDATE group_invites SET revoked = true WHERE token_hash = $1`, hash)
}
