package pebble

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/parley-im/parley/internal/store"
)

// Groups:
//
//	'g' 'g' c(id)          group: subject, description, owner, created, settings
//	'g' 'm' c(id) c(jid)   member: role, joined
//	'g' 'u' c(jid) c(id)   the user's groups (index), empty value
//	'g' 'i' c(hex(hash))   invite link: group id, created, revoked
//	'g' 'x', 'g' 'r'       group messages' senders and receipts (below)
//
// Writes of one group serialize on the shard lock of "group\x00"+id;
// DeleteAccount (all shard locks) removes a user's member keys through the
// 'u' index.
const (
	prefixGroup   = 'g'
	groupRecord   = 'g'
	groupMember   = 'm'
	groupByUser   = 'u'
	groupInvite   = 'i'
	groupLockBase = "group\x00"
)

func groupKey(kind byte, first string) []byte {
	return appendComponent([]byte{prefixGroup, kind}, first)
}

func groupMemberKey(id, jid string) []byte { return appendComponent(groupKey(groupMember, id), jid) }

func userGroupKey(jid, id string) []byte { return appendComponent(groupKey(groupByUser, jid), id) }

func inviteKey(hash []byte) []byte { return groupKey(groupInvite, hex.EncodeToString(hash)) }

func boolByte(b bool) byte {
	if b {
		return 1
	}
	return 0
}

func encodeGroup(g store.Group) []byte {
	b := appendString([]byte{recordV1}, g.Subject)
	b = appendString(b, g.Description)
	b = appendString(b, g.Owner)
	b = appendTime(b, g.Created)
	b = append(b, boolByte(g.AdminsOnly))
	return binary.AppendVarint(b, int64(g.MaxMembers))
}

func decodeGroup(id string, v []byte) (store.Group, error) {
	r := newReader(v)
	g := store.Group{ID: id, Subject: r.string(), Description: r.string(), Owner: r.string(), Created: r.time()}
	g.AdminsOnly = r.byte() == 1
	g.MaxMembers = int(r.varint())
	return g, r.done("group " + id)
}

func encodeMember(m store.GroupMember) []byte {
	return appendTime(appendString([]byte{recordV1}, string(m.Role)), m.Joined)
}

func decodeMember(jid string, v []byte) (store.GroupMember, error) {
	r := newReader(v)
	m := store.GroupMember{JID: jid, Role: store.GroupRole(r.string()), Joined: r.time()}
	return m, r.done("group member " + jid)
}

func encodeInvite(inv store.GroupInvite) []byte {
	b := appendString([]byte{recordV1}, inv.Group)
	b = appendTime(b, inv.Created)
	return append(b, boolByte(inv.Revoked))
}

func decodeInvite(hash, v []byte) (store.GroupInvite, error) {
	r := newReader(v)
	inv := store.GroupInvite{TokenHash: append([]byte(nil), hash...), Group: r.string(), Created: r.time()}
	inv.Revoked = r.byte() == 1
	return inv, r.done("group invite")
}

// groupWrite runs check under the group's shard lock and applies the
// batch it filled durably.
func (s *Store) groupWrite(ctx context.Context, id string, fill func(b *pebble.Batch) error) error {
	if err := s.enter(ctx); err != nil {
		return err
	}
	defer s.exit()
	sh := s.shard(groupLockBase + id)
	sh.mu.Lock()
	b := s.db.NewBatch()
	if err := fill(b); err != nil {
		sh.mu.Unlock()
		_ = b.Close()
		return err
	}
	err := s.applyLocked(b, true)
	sh.mu.Unlock()
	if err != nil {
		return err
	}
	return s.finish(b)
}

// CreateGroup implements store.Groups.
func (s *Store) CreateGroup(ctx context.Context, g store.Group, members []store.GroupMember) error {
	return s.groupWrite(ctx, g.ID, func(b *pebble.Batch) error {
		switch _, err := s.get(groupKey(groupRecord, g.ID)); {
		case err == nil:
			return fmt.Errorf("group %s: %w", g.ID, store.ErrExists)
		case !errors.Is(err, store.ErrNotFound):
			return err
		}
		_ = b.Set(groupKey(groupRecord, g.ID), encodeGroup(g), nil)
		for _, m := range members {
			_ = b.Set(groupMemberKey(g.ID, m.JID), encodeMember(m), nil)
			_ = b.Set(userGroupKey(m.JID, g.ID), nil, nil)
		}
		return nil
	})
}

// GetGroup implements store.Groups.
func (s *Store) GetGroup(ctx context.Context, id string) (store.Group, error) {
	if err := s.enter(ctx); err != nil {
		return store.Group{}, err
	}
	defer s.exit()
	v, err := s.get(groupKey(groupRecord, id))
	if err != nil {
		return store.Group{}, fmt.Errorf("group %s: %w", id, err)
	}
	return decodeGroup(id, v)
}

// UpdateGroup implements store.Groups.
func (s *Store) UpdateGroup(ctx context.Context, g store.Group) error {
	return s.groupWrite(ctx, g.ID, func(b *pebble.Batch) error {
		k := groupKey(groupRecord, g.ID)
		v, err := s.get(k)
		if err != nil {
			return fmt.Errorf("group %s: %w", g.ID, err)
		}
		old, err := decodeGroup(g.ID, v)
		if err != nil {
			return err
		}
		old.Subject, old.Description, old.AdminsOnly, old.MaxMembers = g.Subject, g.Description, g.AdminsOnly, g.MaxMembers
		_ = b.Set(k, encodeGroup(old), nil)
		return nil
	})
}

// GroupMembers implements store.Groups with one iterator.
func (s *Store) GroupMembers(ctx context.Context, id string) (out []store.GroupMember, err error) {
	if err := s.enter(ctx); err != nil {
		return nil, err
	}
	defer s.exit()
	if _, err := s.get(groupKey(groupRecord, id)); err != nil {
		return nil, fmt.Errorf("group %s: %w", id, err)
	}
	out = []store.GroupMember{}
	err = s.scanComponents(ctx, groupKey(groupMember, id), func(jid string, v []byte) error {
		m, err := decodeMember(jid, v)
		out = append(out, m)
		return err
	})
	return out, err
}

// scanComponents calls fn for each key under p that is p plus one
// component, with that component and the value.
func (s *Store) scanComponents(ctx context.Context, p []byte, fn func(c string, v []byte) error) (err error) {
	it, err := s.db.NewIterWithContext(ctx, &pebble.IterOptions{LowerBound: p, UpperBound: prefixEnd(p)})
	if err != nil {
		return fmt.Errorf("pebble store: %w", err)
	}
	defer closeIter(it, &err)
	for ok := it.First(); ok; ok = it.Next() {
		c, rest, ok := decodeComponent(it.Key()[len(p):])
		if !ok || len(rest) != 0 {
			return fmt.Errorf("%w: key %q", errCorrupt, it.Key())
		}
		v, err := it.ValueAndErr()
		if err != nil {
			return fmt.Errorf("pebble store: %w", err)
		}
		if err := fn(c, v); err != nil {
			return err
		}
	}
	return nil
}

// GroupMember implements store.Groups.
func (s *Store) GroupMember(ctx context.Context, id, jid string) (store.GroupMember, error) {
	if err := s.enter(ctx); err != nil {
		return store.GroupMember{}, err
	}
	defer s.exit()
	v, err := s.get(groupMemberKey(id, jid))
	if err != nil {
		return store.GroupMember{}, fmt.Errorf("member %s of group %s: %w", jid, id, err)
	}
	return decodeMember(jid, v)
}

// AddGroupMember implements store.Groups: the checks and the insert under
// the group's shard lock.
func (s *Store) AddGroupMember(ctx context.Context, id string, m store.GroupMember, limit int) error {
	return s.groupWrite(ctx, id, func(b *pebble.Batch) error {
		if _, err := s.get(groupKey(groupRecord, id)); err != nil {
			return fmt.Errorf("group %s: %w", id, err)
		}
		switch _, err := s.get(groupMemberKey(id, m.JID)); {
		case err == nil:
			return fmt.Errorf("member %s of group %s: %w", m.JID, id, store.ErrExists)
		case !errors.Is(err, store.ErrNotFound):
			return err
		}
		if limit > 0 {
			p := groupKey(groupMember, id)
			n, err := s.countKeys(ctx, p, prefixEnd(p))
			if err != nil {
				return err
			}
			if n >= limit {
				return fmt.Errorf("%d members in group %s: %w", n, id, store.ErrLimit)
			}
		}
		_ = b.Set(groupMemberKey(id, m.JID), encodeMember(m), nil)
		_ = b.Set(userGroupKey(m.JID, id), nil, nil)
		return nil
	})
}

// SetGroupRole implements store.Groups.
func (s *Store) SetGroupRole(ctx context.Context, id, jid string, role store.GroupRole) error {
	return s.groupWrite(ctx, id, func(b *pebble.Batch) error {
		k := groupMemberKey(id, jid)
		v, err := s.get(k)
		if err != nil {
			return fmt.Errorf("member %s of group %s: %w", jid, id, err)
		}
		m, err := decodeMember(jid, v)
		if err != nil {
			return err
		}
		m.Role = role
		_ = b.Set(k, encodeMember(m), nil)
		return nil
	})
}

// RemoveGroupMember implements store.Groups.
func (s *Store) RemoveGroupMember(ctx context.Context, id, jid string) error {
	return s.groupWrite(ctx, id, func(b *pebble.Batch) error {
		k := groupMemberKey(id, jid)
		if _, err := s.get(k); err != nil {
			return fmt.Errorf("member %s of group %s: %w", jid, id, err)
		}
		_ = b.Delete(k, nil)
		_ = b.Delete(userGroupKey(jid, id), nil)
		return nil
	})
}

// UserGroups implements store.Groups from the 'u' index.
func (s *Store) UserGroups(ctx context.Context, user string) (out []string, err error) {
	if err := s.enter(ctx); err != nil {
		return nil, err
	}
	defer s.exit()
	out = []string{}
	err = s.scanComponents(ctx, groupKey(groupByUser, user), func(id string, _ []byte) error {
		out = append(out, id)
		return nil
	})
	return out, err
}

// AddGroupInvite implements store.Groups.
func (s *Store) AddGroupInvite(ctx context.Context, inv store.GroupInvite) error {
	return s.groupWrite(ctx, inv.Group, func(b *pebble.Batch) error {
		if _, err := s.get(groupKey(groupRecord, inv.Group)); err != nil {
			return fmt.Errorf("group %s: %w", inv.Group, err)
		}
		switch _, err := s.get(inviteKey(inv.TokenHash)); {
		case err == nil:
			return fmt.Errorf("group invite: %w", store.ErrExists)
		case !errors.Is(err, store.ErrNotFound):
			return err
		}
		_ = b.Set(inviteKey(inv.TokenHash), encodeInvite(inv), nil)
		return nil
	})
}

// GroupInvite implements store.Groups.
func (s *Store) GroupInvite(ctx context.Context, hash []byte) (store.GroupInvite, error) {
	if err := s.enter(ctx); err != nil {
		return store.GroupInvite{}, err
	}
	defer s.exit()
	v, err := s.get(inviteKey(hash))
	if err != nil {
		return store.GroupInvite{}, fmt.Errorf("group invite: %w", err)
	}
	return decodeInvite(hash, v)
}

// RevokeGroupInvite implements store.Groups. The invite's group is read
// first to take its lock.
func (s *Store) RevokeGroupInvite(ctx context.Context, hash []byte) error {
	inv, err := s.GroupInvite(ctx, hash)
	if err != nil {
		return err
	}
	return s.groupWrite(ctx, inv.Group, func(b *pebble.Batch) error {
		inv.Revoked = true
		_ = b.Set(inviteKey(hash), encodeInvite(inv), nil)
		return nil
	})
}

// deleteMemberships adds to b the deletes of user's group memberships
// (DeleteAccount, under every shard lock).
func (s *Store) deleteMemberships(ctx context.Context, b *pebble.Batch, user string) error {
	p := groupKey(groupByUser, user)
	err := s.scanComponents(ctx, p, func(id string, _ []byte) error {
		return b.Delete(groupMemberKey(id, user), nil)
	})
	_ = b.DeleteRange(p, prefixEnd(p), nil)
	return err
}

var _ store.Groups = (*Store)(nil)

// Group messages and their receipts:
//
//	'g' 'x' c(group) c(id)            the message's sender
//	'g' 'r' c(group) c(id) c(member)  delivered, displayed
const (
	groupMessage = 'x'
	groupReceipt = 'r'
)

func groupMessageKey(group, id string) []byte {
	return appendComponent(groupKey(groupMessage, group), id)
}

func receiptPrefix(group, id string) []byte {
	return appendComponent(groupKey(groupReceipt, group), id)
}

// RecordGroupMessage implements store.Groups (not synced: a lost record
// is written again when the fan-out is redone).
func (s *Store) RecordGroupMessage(ctx context.Context, group, id, sender string) error {
	if err := s.enter(ctx); err != nil {
		return err
	}
	defer s.exit()
	sh := s.shard(groupLockBase + group)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	b := s.db.NewBatch()
	_ = b.Set(groupMessageKey(group, id), appendString([]byte{recordV1}, sender), nil)
	return s.applyLocked(b, false)
}

// GroupMessageSender implements store.Groups.
func (s *Store) GroupMessageSender(ctx context.Context, group, id string) (string, error) {
	if err := s.enter(ctx); err != nil {
		return "", err
	}
	defer s.exit()
	v, err := s.get(groupMessageKey(group, id))
	if err != nil {
		return "", fmt.Errorf("message %s of group %s: %w", id, group, err)
	}
	r := newReader(v)
	sender := r.string()
	return sender, r.done("group message " + id)
}

// MarkGroupReceipt implements store.Groups: a read-modify-write under the
// group's shard lock, durable.
func (s *Store) MarkGroupReceipt(ctx context.Context, group, id, member string, displayed bool, t time.Time) error {
	return s.groupWrite(ctx, group, func(b *pebble.Batch) error {
		k := appendComponent(receiptPrefix(group, id), member)
		rc := store.GroupReceipt{Member: member}
		switch v, err := s.get(k); {
		case err == nil:
			if rc, err = decodeReceipt(member, v); err != nil {
				return err
			}
		case !errors.Is(err, store.ErrNotFound):
			return err
		}
		if rc.Delivered.IsZero() {
			rc.Delivered = t
		}
		if displayed && rc.Displayed.IsZero() {
			rc.Displayed = t
		}
		_ = b.Set(k, appendTime(appendTime([]byte{recordV1}, rc.Delivered), rc.Displayed), nil)
		return nil
	})
}

func decodeReceipt(member string, v []byte) (store.GroupReceipt, error) {
	r := newReader(v)
	rc := store.GroupReceipt{Member: member, Delivered: r.time(), Displayed: r.time()}
	return rc, r.done("group receipt " + member)
}

// GroupReceipts implements store.Groups with one iterator.
func (s *Store) GroupReceipts(ctx context.Context, group, id string) (out []store.GroupReceipt, err error) {
	if err := s.enter(ctx); err != nil {
		return nil, err
	}
	defer s.exit()
	out = []store.GroupReceipt{}
	err = s.scanComponents(ctx, receiptPrefix(group, id), func(member string, v []byte) error {
		rc, err := decodeReceipt(member, v)
		out = append(out, rc)
		return err
	})
	return out, err
}
