package groups

import "sync"

// stanzaIDCacheSize is how many recent posts' group stanza-ids the
// feature remembers (a few MB at most).
const stanzaIDCacheSize = 1 << 16

// idCache maps the group stanza-ids of recent posts to the ids their
// senders gave them, so that a read marker naming a post by the room's
// stanza-id (XEP-0333's advice for group chats, which Conversations
// follows) is recorded and passed on under the sender's id. The oldest
// entries go first; after a restart older markers by stanza-id are
// dropped as before. Safe for concurrent use.
type idCache struct {
	mu    sync.Mutex
	ids   map[string]string // group id + "/" + stanza-id -> sender's id; guarded by mu
	order []string          // keys in insertion order, a ring; guarded by mu
	next  int               // the ring's oldest slot once full; guarded by mu
}

func newIDCache() *idCache { return &idCache{ids: make(map[string]string)} }

func (c *idCache) put(group, stanzaID, id string) {
	k := group + "/" + stanzaID
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.ids[k]; ok {
		return
	}
	if len(c.order) < stanzaIDCacheSize {
		c.order = append(c.order, k)
	} else {
		delete(c.ids, c.order[c.next])
		c.order[c.next] = k
		c.next = (c.next + 1) % stanzaIDCacheSize
	}
	c.ids[k] = id
}

func (c *idCache) get(group, stanzaID string) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	id, ok := c.ids[group+"/"+stanzaID]
	return id, ok
}
