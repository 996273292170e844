package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parley-im/parley/internal/store"
)

var _ store.Devices = (*Store)(nil)

// AddDevice implements store.Devices in one transaction: it locks the
// account's row (so concurrent links of one account, and DeleteAccount,
// serialize), then checks the id and the count and inserts. Under READ
// COMMITTED each statement after the lock sees the committed rows.
func (s *Store) AddDevice(ctx context.Context, user string, d store.Device, limit int) error {
	if err := s.enter(ctx); err != nil {
		return err
	}
	defer s.exit()
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error { return addDevice(ctx, tx, user, d, limit) })
	if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrExists) || errors.Is(err, store.ErrLimit) {
		return err
	}
	return writeErr(ctx, "add device of "+user, err)
}

func addDevice(ctx context.Context, tx pgx.Tx, user string, d store.Device, limit int) error {
	var one int
	err := tx.QueryRow(ctx, `SELECT 1 FROM accounts WHERE jid = $1 FOR UPDATE`, user).Scan(&one)
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("account %s: %w", user, store.ErrNotFound)
	}
	if err != nil {
		return err
	}
	var n int
	var taken bool
	err = tx.QueryRow(ctx, `SELECT count(*), coalesce(bool_or(id = $2), false) FROM devices WHERE owner = $1`,
		user, d.ID).Scan(&n, &taken)
	switch {
	case err != nil:
		return err
	case taken:
		return fmt.Errorf("device %s of %s: %w", d.ID, user, store.ErrExists)
	case limit > 0 && n >= limit:
		return fmt.Errorf("%d devices of %s: %w", n, user, store.ErrLimit)
	}
	_, err = tx.Exec(ctx, `INSERT INTO devices (owner, id, name, created, last_seen, token_hash)
		VALUES ($1, $2, $3, $4, $5, $6)`, user, d.ID, d.Name, d.Created, nullTime(d.LastSeen), d.TokenHash)
	return err
}

// nullTime maps the zero time to NULL.
func nullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

const deviceColumns = `id, name, created, last_seen, token_hash`

func scanDevice(row pgx.Row) (store.Device, error) {
	var d store.Device
	var last *time.Time
	if err := row.Scan(&d.ID, &d.Name, &d.Created, &last, &d.TokenHash); err != nil {
		return store.Device{}, err
	}
	d.Created = d.Created.UTC()
	if last != nil {
		d.LastSeen = last.UTC()
	}
	return d, nil
}

// GetDevice implements store.Devices.
func (s *Store) GetDevice(ctx context.Context, user, id string) (store.Device, error) {
	if err := s.enter(ctx); err != nil {
		return store.Device{}, err
	}
	defer s.exit()
	d, err := scanDevice(s.pool.QueryRow(ctx, `SELECT `+deviceColumns+` FROM devices
		WHERE owner = $1 AND id = $2`, user, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Device{}, fmt.Errorf("device %s of %s: %w", id, user, store.ErrNotFound)
	}
	if err != nil {
		return store.Device{}, readErr("device of "+user, err)
	}
	return d, nil
}

// ListDevices implements store.Devices, from the primary-key index.
func (s *Store) ListDevices(ctx context.Context, user string) ([]store.Device, error) {
	if err := s.enter(ctx); err != nil {
		return nil, err
	}
	defer s.exit()
	rows, err := s.pool.Query(ctx, `SELECT `+deviceColumns+` FROM devices WHERE owner = $1 ORDER BY id`, user)
	if err != nil {
		return nil, readErr("devices of "+user, err)
	}
	defer rows.Close()
	out := []store.Device{}
	for rows.Next() {
		d, err := scanDevice(rows)
		if err != nil {
			return nil, readErr("devices of "+user, err)
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, readErr("devices of "+user, err)
	}
	return out, nil
}

// TouchDevice implements store.Devices: one update (committed like every
// statement; the contract only asks for less).
func (s *Store) TouchDevice(ctx context.Context, user, id string, t time.Time) error {
	return s.deviceChange(ctx, user, id, `UPDATE devices SET last_seen = $3 WHERE owner = $1 AND id = $2`, t)
}

// RevokeDevice implements store.Devices: one durable delete.
func (s *Store) RevokeDevice(ctx context.Context, user, id string) error {
	return s.deviceChange(ctx, user, id, `DELETE FROM devices WHERE owner = $1 AND id = $2`)
}

// deviceChange runs a statement on one device row; ErrNotFound when it
// touched none.
func (s *Store) deviceChange(ctx context.Context, user, id, sql string, args ...any) error {
	if err := s.enter(ctx); err != nil {
		return err
	}
	defer s.exit()
	tag, err := s.pool.Exec(ctx, sql, append([]any{user, id}, args...)...)
	if err != nil {
		return writeErr(ctx, "device "+id+" of "+user, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("device %s of %s: %w", id, user, store.ErrNotFound)
	}
	return nil
}
