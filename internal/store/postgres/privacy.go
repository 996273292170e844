package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/parley-im/parley/internal/store"
)

var _ store.Privacy = (*Store)(nil)

// GetPrivacy implements store.Privacy: the zero settings when none are stored.
func (s *Store) GetPrivacy(ctx context.Context, user string) (store.PrivacySettings, error) {
	if err := s.enter(ctx); err != nil {
		return store.PrivacySettings{}, err
	}
	defer s.exit()
	var p store.PrivacySettings
	var lastSeen, photo int16
	err := s.pool.QueryRow(ctx, `SELECT last_seen, online_as_last_seen, read_receipts_off, photo
		FROM privacy WHERE owner = $1`, user).Scan(&lastSeen, &p.OnlineAsLastSeen, &p.ReadReceiptsOff, &photo)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.PrivacySettings{}, nil
	}
	if err != nil {
		return store.PrivacySettings{}, readErr("privacy of "+user, err)
	}
	p.LastSeen, p.Photo = store.Audience(lastSeen), store.Audience(photo)
	return p, nil
}

// PutPrivacy implements store.Privacy: one durable upsert.
func (s *Store) PutPrivacy(ctx context.Context, user string, p store.PrivacySettings) error {
	if err := s.enter(ctx); err != nil {
		return err
	}
	defer s.exit()
	_, err := s.pool.Exec(ctx, `INSERT INTO privacy AS p (owner, last_seen, online_as_last_seen, read_receipts_off, photo)
		VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (owner) DO UPDATE SET last_seen = excluded.last_seen,
			online_as_last_seen = excluded.online_as_last_seen,
			read_receipts_off = excluded.read_receipts_off, photo = excluded.photo`,
		user, int16(p.LastSeen), p.OnlineAsLastSeen, p.ReadReceiptsOff, int16(p.Photo))
	return writeErr(ctx, "put privacy of "+user, err)
}
