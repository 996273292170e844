package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/parley-im/parley/internal/store"
)

var _ store.Push = (*Store)(nil)

// AddPushRegistration implements store.Push: one durable upsert.
func (s *Store) AddPushRegistration(ctx context.Context, user string, r store.PushRegistration) error {
	opts, err := json.Marshal(nonNilFields(r.Options))
	if err != nil {
		return fmt.Errorf("postgres store: push options of %s: %w", user, err)
	}
	if err := s.enter(ctx); err != nil {
		return err
	}
	defer s.exit()
	_, err = s.pool.Exec(ctx, `INSERT INTO push_registrations (owner, service, node, options, created)
		VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (owner, service, node) DO UPDATE SET options = excluded.options, created = excluded.created`,
		user, r.Service, r.Node, opts, r.Created)
	return writeErr(ctx, "add push registration of "+user, err)
}

// RemovePushRegistrations implements store.Push: one durable delete.
func (s *Store) RemovePushRegistrations(ctx context.Context, user, service, node string) (int, error) {
	if err := s.enter(ctx); err != nil {
		return 0, err
	}
	defer s.exit()
	tag, err := s.pool.Exec(ctx, `DELETE FROM push_registrations
		WHERE owner = $1 AND service = $2 AND ($3 = '' OR node = $3)`, user, service, node)
	if err != nil {
		return 0, writeErr(ctx, "remove push registrations of "+user, err)
	}
	return int(tag.RowsAffected()), nil
}

// PushRegistrations implements store.Push, from the primary-key index.
func (s *Store) PushRegistrations(ctx context.Context, user string) ([]store.PushRegistration, error) {
	if err := s.enter(ctx); err != nil {
		return nil, err
	}
	defer s.exit()
	rows, err := s.pool.Query(ctx, `SELECT service, node, options, created FROM push_registrations
		WHERE owner = $1 ORDER BY service, node`, user)
	if err != nil {
		return nil, readErr("push registrations of "+user, err)
	}
	defer rows.Close()
	out := []store.PushRegistration{}
	for rows.Next() {
		var r store.PushRegistration
		var opts []byte
		var created time.Time
		if err := rows.Scan(&r.Service, &r.Node, &opts, &created); err != nil {
			return nil, readErr("push registrations of "+user, err)
		}
		if err := json.Unmarshal(opts, &r.Options); err != nil {
			return nil, readErr("push options of "+user, err)
		}
		if len(r.Options) == 0 {
			r.Options = nil
		}
		r.Created = created.UTC()
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, readErr("push registrations of "+user, err)
	}
	return out, nil
}

// nonNilFields makes nil options an empty JSON array.
func nonNilFields(f []store.PushField) []store.PushField {
	if f == nil {
		return []store.PushField{}
	}
	return f
}
