package blocking

import (
	"context"
	"hash/maphash"
	"sync"

	"github.com/parley-im/parley/internal/jid"
)

// blockSet is one user's list, as a set of normalized JID strings.
type blockSet map[string]struct{}

// matches reports whether the list blocks entity (XEP-0191 section 3.1,
// matching as in XEP-0016: full JID, bare JID, domain/resource, domain).
func (b blockSet) matches(entity jid.JID) bool {
	if len(b) == 0 {
		return false
	}
	for _, k := range candidates(entity) {
		if _, ok := b[k]; ok {
			return true
		}
	}
	return false
}

// candidates are the list items that would block entity.
func candidates(e jid.JID) []string {
	out := make([]string, 0, 4)
	if !e.IsBare() {
		out = append(out, e.String())
	}
	if e.Local() != "" {
		out = append(out, e.Bare().String())
	}
	if e.Resource() != "" {
		if dr, err := jid.New("", e.Domain(), e.Resource()); err == nil {
			out = append(out, dr.String())
		}
	}
	return append(out, e.Domain())
}

const stripes = 256

// cache holds the block lists of recently seen users, at most limit of them
// (an arbitrary entry is evicted when full).
type cache struct {
	st    Store
	limit int
	seed  maphash.Seed

	locks [stripes]sync.Mutex // serialize one user's load and changes

	mu    sync.RWMutex
	lists map[string]blockSet // bare JID -> list; guarded by mu; never modified in place
}

func newCache(st Store, limit int) *cache {
	return &cache{st: st, limit: limit, seed: maphash.MakeSeed(), lists: make(map[string]blockSet)}
}

func (c *cache) lock(user string) *sync.Mutex {
	return &c.locks[maphash.String(c.seed, user)%stripes]
}

// get returns the user's list, loading it on a miss.
func (c *cache) get(ctx context.Context, user string) (blockSet, error) {
	c.mu.RLock()
	b, ok := c.lists[user]
	c.mu.RUnlock()
	if ok {
		return b, nil
	}
	l := c.lock(user)
	l.Lock()
	defer l.Unlock()
	return c.getLocked(ctx, user)
}

// getLocked is get with the user's stripe lock held.
func (c *cache) getLocked(ctx context.Context, user string) (blockSet, error) {
	c.mu.RLock()
	b, ok := c.lists[user]
	c.mu.RUnlock()
	if ok {
		return b, nil
	}
	items, err := c.st.GetBlocklist(ctx, user)
	if err != nil {
		return nil, err
	}
	b = make(blockSet, len(items))
	for _, it := range items {
		b[it] = struct{}{}
	}
	c.put(user, b)
	return b, nil
}

// put replaces the cached list of user (with the stripe lock held).
func (c *cache) put(user string, b blockSet) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.lists[user]; !ok && len(c.lists) >= c.limit {
		for k := range c.lists {
			delete(c.lists, k)
			break
		}
	}
	c.lists[user] = b
}
