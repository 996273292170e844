package media

import (
	"context"
	"fmt"
	"os"
	"path"
	"strings"
	"sync"

	"github.com/parley-im/parley/internal/media/blob"
)

// The quota holds a user's stored files and unfinished uploads. An
// unfinished upload counts at its slot's full size from its first byte
// staged until it completes or the sweeper removes it: otherwise parts of
// many slots, each within the quota, could fill the staging disk. A slot
// granted but not yet used costs nothing and so holds no quota.

// checkQuota refuses adding size bytes (for slot, "" for a new one) to what
// the user stores and is uploading when that would exceed the quota.
func (s *Service) checkQuota(ctx context.Context, user, slot string, size int64) error {
	if s.cfg.Quota <= 0 {
		return nil
	}
	stored, err := s.storedBytes(ctx, user)
	if err != nil {
		return err
	}
	staged, err := s.stagedBytes(user, slot)
	if err != nil {
		return err
	}
	if stored+staged+size > s.cfg.Quota {
		return fmt.Errorf("%w: %d bytes stored, %d being uploaded, %d more asked, the quota is %d",
			ErrQuota, stored, staged, size, s.cfg.Quota)
	}
	return nil
}

// storedBytes adds up the sizes of a user's stored files (from the slot ids).
func (s *Service) storedBytes(ctx context.Context, user string) (int64, error) {
	var used int64
	err := s.cfg.Blobs.List(ctx, "slots/"+user+"/", func(i blob.Info) error {
		if n := slotSize(path.Base(i.Key)); n > 0 {
			used += n
		}
		return nil
	})
	return used, err
}

// stagedBytes adds up the sizes of the slots a user has partial uploads
// staged for (from the staging file names), except slot's.
func (s *Service) stagedBytes(user, except string) (int64, error) {
	entries, err := os.ReadDir(s.cfg.StagingDir)
	if err != nil {
		return 0, err
	}
	var used int64
	for _, e := range entries {
		slot, ok := strings.CutPrefix(e.Name(), user+"-")
		if n := slotSize(slot); ok && slot != except && n > 0 {
			used += n
		}
	}
	return used, nil
}

// userLocks serializes, per user, a quota check and the staging or storing
// it allows, so that two uploads of one user cannot both pass a check that
// only one of them fits. A user's entry lives only while a request holds
// or waits for the lock, so the map never outgrows the requests in flight.
type userLocks struct {
	mu    sync.Mutex
	locks map[string]*userLock
}

type userLock struct {
	sync.Mutex
	refs int // holders and waiters; guarded by userLocks.mu
}

// lock locks the user's lock and returns its unlock.
func (l *userLocks) lock(user string) (unlock func()) {
	l.mu.Lock()
	if l.locks == nil {
		l.locks = make(map[string]*userLock)
	}
	ul := l.locks[user]
	if ul == nil {
		ul = &userLock{}
		l.locks[user] = ul
	}
	ul.refs++
	l.mu.Unlock()
	ul.Lock()
	return func() {
		ul.Unlock()
		l.mu.Lock()
		if ul.refs--; ul.refs == 0 {
			delete(l.locks, user)
		}
		l.mu.Unlock()
	}
}
