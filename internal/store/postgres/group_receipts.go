package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parley-im/parley/internal/store"
)

// RecordGroupMessage implements store.Groups.
func (s *Store) RecordGroupMessage(ctx context.Context, group, id, sender string) error {
	if err := s.enter(ctx); err != nil {
		return err
	}
	defer s.exit()
	_, err := s.pool.Exec(ctx, `INSERT INTO group_messages (group_id, msg_id, sender) VALUES ($1, $2, $3)
		ON CONFLICT DO NOTHING`, group, id, sender)
	return writeErr(ctx, "group message", err)
}

// GroupMessageSender implements store.Groups.
func (s *Store) GroupMessageSender(ctx context.Context, group, id string) (string, error) {
	if err := s.enter(ctx); err != nil {
		return "", err
	}
	defer s.exit()
	var sender string
	err := s.pool.QueryRow(ctx, `SELECT sender FROM group_messages WHERE group_id = $1 AND msg_id = $2`,
		group, id).Scan(&sender)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", fmt.Errorf("message %s of group %s: %w", id, group, store.ErrNotFound)
	}
	if err != nil {
		return "", readErr("group message", err)
	}
	return sender, nil
}

// MarkGroupReceipt implements store.Groups with one upsert that keeps
// the times already recorded.
func (s *Store) MarkGroupReceipt(ctx context.Context, group, id, member string, displayed bool, t time.Time) error {
	if err := s.enter(ctx); err != nil {
		return err
	}
	defer s.exit()
	var disp *time.Time
	if displayed {
		disp = &t
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO group_receipts (group_id, msg_id, member, delivered, displayed)
		VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (group_id, msg_id, member) DO UPDATE
		SET displayed = coalesce(group_receipts.displayed, EXCLUDED.displayed)`, group, id, member, t, disp)
	return writeErr(ctx, "group receipt", err)
}

// GroupReceipts implements store.Groups, from the primary-key index.
func (s *Store) GroupReceipts(ctx context.Context, group, id string) ([]store.GroupReceipt, error) {
	if err := s.enter(ctx); err != nil {
		return nil, err
	}
	defer s.exit()
	rows, err := s.pool.Query(ctx, `SELECT member, delivered, displayed FROM group_receipts
		WHERE group_id = $1 AND msg_id = $2 ORDER BY member`, group, id)
	if err != nil {
		return nil, readErr("group receipts", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.GroupReceipt, error) {
		var rc store.GroupReceipt
		var disp *time.Time
		err := r.Scan(&rc.Member, &rc.Delivered, &disp)
		rc.Delivered = rc.Delivered.UTC()
		if disp != nil {
			rc.Displayed = disp.UTC()
		}
		return rc, err
	})
	if err != nil {
		return nil, readErr("group receipts", err)
	}
	if out == nil {
		out = []store.GroupReceipt{}
	}
	return out, nil
}
