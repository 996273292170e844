package mam

import (
	"context"
	"hash/maphash"
	"sync"
	"time"

	"github.com/parley-im/parley/internal/store"
)

// prefsCache keeps users' archive preferences in memory, so that archiving
// a message reads no preferences from the store (most users never set any:
// a store read per message and party was a third of the server's CPU under
// load). Entries live prefsTTL: the feature writes preferences through the
// cache, but an account deleted and created again (by the admin) may keep
// the old account's preferences for that long. Bounded: a full shard drops
// its expired entries, or all of them.
type prefsCache struct {
	st     store.Archive
	now    func() time.Time
	seed   maphash.Seed
	shards [prefsShards]prefsShard
}

const (
	prefsShards   = 32
	prefsPerShard = 4096
	prefsTTL      = time.Minute
)

type prefsShard struct {
	mu sync.Mutex
	m  map[string]prefsEntry // guarded by mu
}

type prefsEntry struct {
	p      store.ArchivePrefs
	loaded time.Time
}

func newPrefsCache(st store.Archive, now func() time.Time) *prefsCache {
	c := &prefsCache{st: st, now: now, seed: maphash.MakeSeed()}
	for i := range c.shards {
		c.shards[i].m = make(map[string]prefsEntry)
	}
	return c
}

func (c *prefsCache) shard(user string) *prefsShard {
	return &c.shards[maphash.String(c.seed, user)%prefsShards]
}

// get returns user's preferences, from memory when fresh.
func (c *prefsCache) get(ctx context.Context, user string) (store.ArchivePrefs, error) {
	sh, now := c.shard(user), c.now()
	sh.mu.Lock()
	e, ok := sh.m[user]
	sh.mu.Unlock()
	if ok && now.Sub(e.loaded) < prefsTTL {
		return e.p, nil
	}
	p, err := c.st.GetArchivePrefs(ctx, user)
	if err != nil {
		return p, err
	}
	c.put(user, p, now)
	return p, nil
}

// set stores user's preferences and caches them.
func (c *prefsCache) set(ctx context.Context, user string, p store.ArchivePrefs) error {
	if err := c.st.SetArchivePrefs(ctx, user, p); err != nil {
		c.shard(user).forget(user)
		return err
	}
	c.put(user, p, c.now())
	return nil
}

func (c *prefsCache) put(user string, p store.ArchivePrefs, now time.Time) {
	sh := c.shard(user)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if len(sh.m) >= prefsPerShard {
		for u, e := range sh.m {
			if now.Sub(e.loaded) >= prefsTTL {
				delete(sh.m, u)
			}
		}
		if len(sh.m) >= prefsPerShard {
			clear(sh.m)
		}
	}
	sh.m[user] = prefsEntry{p: p, loaded: now}
}

func (sh *prefsShard) forget(user string) {
	sh.mu.Lock()
	delete(sh.m, user)
	sh.mu.Unlock()
}
