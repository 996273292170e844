package client

import (
	"strings"
	"sync"
)

// dedupeSize is how many received messages the client remembers to drop
// copies of.
const dedupeSize = 4096

// dedupe remembers recently received messages by their server stanza-id
// and by their sender's origin-id, so that the application sees each
// message once: the same stored copy arrives again after a reconnect when
// the client had not acknowledged it (at-least-once delivery), and a
// message the sender's client re-sent after losing its server before the
// ack is stored twice, with two stanza-ids but one origin-id.
type dedupe struct {
	mu   sync.Mutex
	seen map[string]struct{} // guarded by mu
	ring []string            // insertion order, for eviction; guarded by mu
	next int                 // guarded by mu
}

// first reports whether a message with these ids was not seen before, and
// remembers it. Empty ids are not compared.
func (d *dedupe) first(from, originID, stanzaID string) bool {
	var keys []string
	if stanzaID != "" {
		keys = append(keys, "s\x00"+stanzaID)
	}
	if originID != "" {
		bare, _, _ := strings.Cut(from, "/")
		keys = append(keys, "o\x00"+bare+"\x00"+originID)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.seen == nil {
		d.seen = make(map[string]struct{}, dedupeSize)
		d.ring = make([]string, dedupeSize)
	}
	for _, k := range keys {
		if _, dup := d.seen[k]; dup {
			return false
		}
	}
	for _, k := range keys {
		if old := d.ring[d.next]; old != "" {
			delete(d.seen, old)
		}
		d.ring[d.next] = k
		d.next = (d.next + 1) % dedupeSize
		d.seen[k] = struct{}{}
	}
	return true
}
