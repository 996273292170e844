package pebble

import (
	"encoding/binary"
)

// Key prefixes, one byte per domain. See doc.go for the full layout.
const (
	prefixAccount  = 'a'
	prefixBlock    = 'b'
	prefixLastSeen = 'l'
	prefixQueue    = 'q'
	prefixQueueHd  = 'h'
	prefixRoster   = 'r'
)

// appendComponent appends s escaped and terminated, so that no encoded
// component is a prefix of another and byte order is kept: 0x00 becomes
// 0x00 0xFF, and the component ends with 0x00 0x01.
func appendComponent(dst []byte, s string) []byte {
	dst = appendEscaped(dst, s)
	return append(dst, 0x00, 0x01)
}

// appendEscaped appends s escaped but not terminated: the encoding of every
// string that starts with s starts with it.
func appendEscaped(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if s[i] == 0 {
			dst = append(dst, 0x00, 0xFF)
			continue
		}
		dst = append(dst, s[i])
	}
	return dst
}

// decodeComponent reads one component from the start of b and returns it
// and the rest of b; ok is false if b holds no complete component.
func decodeComponent(b []byte) (s string, rest []byte, ok bool) {
	var out []byte
	for i := 0; i < len(b); i++ {
		if b[i] != 0 {
			continue
		}
		if i+1 >= len(b) {
			return "", nil, false
		}
		switch b[i+1] {
		case 0x01:
			if out == nil {
				return string(b[:i]), b[i+2:], true
			}
			return string(append(out, b[:i]...)), b[i+2:], true
		case 0xFF:
			out = append(out, b[:i+1]...)
			b = b[i+2:]
			i = -1
		default:
			return "", nil, false
		}
	}
	return "", nil, false
}

// userKey is prefix + component(s): the key of a per-user record.
func userKey(prefix byte, s string) []byte {
	return appendComponent(append(make([]byte, 0, len(s)+4), prefix), s)
}

func accountKey(jid string) []byte  { return userKey(prefixAccount, jid) }
func lastSeenKey(jid string) []byte { return userKey(prefixLastSeen, jid) }

// rosterPrefix is the key of owner's roster version; the owner's items
// follow it: rosterPrefix(owner) + component(contact).
func rosterPrefix(owner string) []byte { return userKey(prefixRoster, owner) }

func rosterItemKey(owner, contact string) []byte {
	return appendComponent(rosterPrefix(owner), contact)
}

// blockPrefix is the prefix of user's block-list keys:
// blockPrefix(user) + component(blocked JID), with an empty value.
func blockPrefix(user string) []byte { return userKey(prefixBlock, user) }

func blockKey(user, blocked string) []byte {
	return appendComponent(blockPrefix(user), blocked)
}

// queueHeadKey holds the queue's head: every seq below it was acked.
func queueHeadKey(key string) []byte { return userKey(prefixQueueHd, key) }

// queuePrefix is the prefix of every stanza key of one queue.
func queuePrefix(key string) []byte { return userKey(prefixQueue, key) }

// queueKey appends seq, big-endian so that keys sort by seq, to a queue prefix.
func queueKey(prefix []byte, seq uint64) []byte {
	k := make([]byte, len(prefix), len(prefix)+8)
	copy(k, prefix)
	return binary.BigEndian.AppendUint64(k, seq)
}

// queueSeq returns the seq of a stanza key of a queue with prefix length n.
func queueSeq(k []byte, n int) (uint64, bool) {
	if len(k) != n+8 {
		return 0, false
	}
	return binary.BigEndian.Uint64(k[n:]), true
}

// prefixEnd returns the smallest key greater than every key starting with p.
func prefixEnd(p []byte) []byte {
	end := append([]byte(nil), p...)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] != 0xFF {
			end[i]++
			return end[:i+1]
		}
	}
	return nil // p is all 0xFF: no upper bound
}

// deviceRange returns the key range of every queue key "jid#...", the
// device queues of jid, under prefix.
func deviceRange(prefix byte, jid string) (start, end []byte) {
	start = appendEscaped([]byte{prefix}, jid)
	start = append(start, '#')
	return start, prefixEnd(start)
}
