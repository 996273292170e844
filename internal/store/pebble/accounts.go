package pebble

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/cockroachdb/pebble/v2"

	"github.com/parley-im/parley/internal/store"
)

// CreateAccount implements store.Accounts.
func (s *Store) CreateAccount(ctx context.Context, a store.Account) error {
	if err := s.enter(ctx); err != nil {
		return err
	}
	defer s.exit()
	k := accountKey(a.JID)
	sh := s.shard(a.JID)
	sh.mu.Lock()
	if _, err := s.get(k); err == nil {
		sh.mu.Unlock()
		return fmt.Errorf("account %s: %w", a.JID, store.ErrExists)
	} else if !errors.Is(err, store.ErrNotFound) {
		sh.mu.Unlock()
		return err
	}
	b := s.db.NewBatch()
	_ = b.Set(k, encodeAccount(a), nil)
	err := s.applyLocked(b, true)
	sh.mu.Unlock()
	if err != nil {
		return err
	}
	return s.finish(b)
}

// GetAccount implements store.Accounts.
func (s *Store) GetAccount(ctx context.Context, jid string) (store.Account, error) {
	if err := s.enter(ctx); err != nil {
		return store.Account{}, err
	}
	defer s.exit()
	v, err := s.get(accountKey(jid))
	if err != nil {
		return store.Account{}, fmt.Errorf("account %s: %w", jid, err)
	}
	return decodeAccount(jid, v)
}

// maxKnownAccounts bounds the accounts a shard remembers as existing; past
// it the shard forgets them all (~1M accounts over the 256 shards).
const maxKnownAccounts = 4096

// AccountExists implements store.AccountChecker. An account found once is
// remembered in its shard (checked and added under the shard's lock, which
// DeleteAccount also takes, so a deletion is never missed), and the next
// checks read no disk.
func (s *Store) AccountExists(ctx context.Context, jid string) (bool, error) {
	if err := s.enter(ctx); err != nil {
		return false, err
	}
	defer s.exit()
	sh := s.shard(jid)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if _, ok := sh.accounts[jid]; ok {
		return true, nil
	}
	_, closer, err := s.db.Get(accountKey(jid))
	switch {
	case errors.Is(err, pebble.ErrNotFound):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("pebble store: get: %w", err)
	}
	if err := closer.Close(); err != nil {
		return false, fmt.Errorf("pebble store: get: %w", err)
	}
	if len(sh.accounts) >= maxKnownAccounts {
		clear(sh.accounts)
	}
	sh.accounts[jid] = struct{}{}
	return true, nil
}

var _ store.AccountChecker = (*Store)(nil)

// UpdateCredentials implements store.Accounts.
func (s *Store) UpdateCredentials(ctx context.Context, jid string, sha1, sha256 store.SCRAMKeys) error {
	if err := s.enter(ctx); err != nil {
		return err
	}
	defer s.exit()
	k := accountKey(jid)
	sh := s.shard(jid)
	sh.mu.Lock()
	v, err := s.get(k)
	var a store.Account
	if err == nil {
		a, err = decodeAccount(jid, v)
	}
	if err != nil {
		sh.mu.Unlock()
		return fmt.Errorf("account %s: %w", jid, err)
	}
	a.SHA1, a.SHA256 = sha1, sha256
	b := s.db.NewBatch()
	_ = b.Set(k, encodeAccount(a), nil)
	err = s.applyLocked(b, true)
	sh.mu.Unlock()
	if err != nil {
		return err
	}
	return s.finish(b)
}

// DeleteAccount implements store.Accounts. It removes, in one batch, the
// account, the roster and its version, the block list, the archive and its
// preferences, the push registrations, the linked devices, the last-seen record, and the queues
// "jid" and "jid#..." with their heads. It locks every shard while it
// applies the batch and drops the in-memory state of those queues.
func (s *Store) DeleteAccount(ctx context.Context, jid string) error {
	if err := s.enter(ctx); err != nil {
		return err
	}
	defer s.exit()
	s.lockAll()
	if _, err := s.get(accountKey(jid)); err != nil {
		s.unlockAll()
		return fmt.Errorf("account %s: %w", jid, err)
	}
	b := s.db.NewBatch()
	_ = b.Delete(accountKey(jid), nil)
	_ = b.Delete(lastSeenKey(jid), nil)
	_ = b.Delete(privacyKey(jid), nil)
	np := pushPrefix(jid)
	_ = b.DeleteRange(np, prefixEnd(np), nil)
	dp := devicePrefix(jid)
	_ = b.DeleteRange(dp, prefixEnd(dp), nil)
	pp := pepPrefix(jid)
	_ = b.DeleteRange(pp, prefixEnd(pp), nil)
	rp := rosterPrefix(jid)
	_ = b.DeleteRange(rp, prefixEnd(rp), nil)
	bp := blockPrefix(jid)
	_ = b.DeleteRange(bp, prefixEnd(bp), nil)
	deleteArchiveOf(b, jid)
	if err := s.deleteMemberships(ctx, b, jid); err != nil {
		s.unlockAll()
		_ = b.Close()
		return err
	}
	qp := queuePrefix(jid)
	_ = b.DeleteRange(qp, prefixEnd(qp), nil)
	_ = b.Delete(queueHeadKey(jid), nil)
	for _, prefix := range []byte{prefixQueue, prefixQueueHd} {
		start, end := deviceRange(prefix, jid)
		_ = b.DeleteRange(start, end, nil)
	}
	err := s.applyLocked(b, true)
	if err == nil {
		delete(s.shard(jid).accounts, jid)
		devices := jid + "#"
		for i := range s.shards {
			sh := &s.shards[i]
			for key, st := range sh.queues {
				if key == jid || strings.HasPrefix(key, devices) {
					if st.count == 0 {
						sh.empty--
					}
					delete(sh.queues, key)
				}
			}
		}
	}
	s.unlockAll()
	if err != nil {
		return err
	}
	return s.finish(b)
}

// ListAccounts implements store.Accounts. It scans every account: an
// administrative operation.
func (s *Store) ListAccounts(ctx context.Context, domain string) (out []string, err error) {
	if err := s.enter(ctx); err != nil {
		return nil, err
	}
	defer s.exit()
	lo := []byte{prefixAccount}
	it, err := s.db.NewIterWithContext(ctx, &pebble.IterOptions{LowerBound: lo, UpperBound: prefixEnd(lo)})
	if err != nil {
		return nil, fmt.Errorf("pebble store: %w", err)
	}
	defer closeIter(it, &err)
	out = []string{}
	for ok := it.First(); ok; ok = it.Next() {
		jid, _, ok := decodeComponent(it.Key()[1:])
		if !ok {
			return nil, fmt.Errorf("%w: account key %q", errCorrupt, it.Key())
		}
		if domain == "" || domainOf(jid) == domain {
			out = append(out, jid)
		}
	}
	return out, nil
}

// domainOf returns the domain part of a bare JID.
func domainOf(jid string) string {
	if i := strings.IndexByte(jid, '@'); i >= 0 {
		return jid[i+1:]
	}
	return jid
}
