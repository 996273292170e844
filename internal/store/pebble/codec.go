package pebble

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/parley-im/parley/internal/store"
)

// Records are encoded by hand: a format version byte, then fields as
// uvarints/varints and length-prefixed bytes. The record's key carries the
// JIDs, so they are not repeated in the value.
const recordV1 = 1

var errCorrupt = errors.New("pebble store: corrupt record")

func appendBytes(dst, b []byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(b)))
	return append(dst, b...)
}

func appendString(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

// appendTime keeps any time.Time instant, including the zero time.
func appendTime(dst []byte, t time.Time) []byte {
	dst = binary.AppendVarint(dst, t.Unix())
	return binary.AppendUvarint(dst, uint64(t.Nanosecond()))
}

// reader decodes fields in order; the first error sticks.
type reader struct {
	b   []byte
	err error
}

func (r *reader) fail() {
	if r.err == nil {
		r.err = errCorrupt
	}
	r.b = nil
}

func (r *reader) uvarint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail()
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) varint() int64 {
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.fail()
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) byte() byte {
	if len(r.b) == 0 {
		r.fail()
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

// bytes returns a copy (the input is often memory owned by Pebble).
func (r *reader) bytes() []byte {
	n := r.uvarint()
	if n > uint64(len(r.b)) {
		r.fail()
		return nil
	}
	if n == 0 {
		return nil
	}
	out := append([]byte(nil), r.b[:n]...)
	r.b = r.b[n:]
	return out
}

func (r *reader) string() string {
	n := r.uvarint()
	if n > uint64(len(r.b)) {
		r.fail()
		return ""
	}
	s := string(r.b[:n])
	r.b = r.b[n:]
	return s
}

func (r *reader) time() time.Time {
	sec, nsec := r.varint(), r.uvarint()
	if nsec >= 1e9 {
		r.fail()
	}
	return time.Unix(sec, int64(nsec)).UTC()
}

// done reports the sticky error, and an error if bytes are left over.
func (r *reader) done(what string) error {
	if r.err == nil && len(r.b) != 0 {
		r.err = errCorrupt
	}
	if r.err != nil {
		return fmt.Errorf("%w: %s", r.err, what)
	}
	return nil
}

func newReader(b []byte) *reader {
	r := &reader{b: b}
	if r.byte() != recordV1 {
		r.fail()
	}
	return r
}

func appendKeys(dst []byte, k store.SCRAMKeys) []byte {
	dst = appendBytes(dst, k.Salt)
	dst = binary.AppendUvarint(dst, uint64(k.Iterations))
	dst = appendBytes(dst, k.StoredKey)
	return appendBytes(dst, k.ServerKey)
}

func (r *reader) keys() store.SCRAMKeys {
	return store.SCRAMKeys{Salt: r.bytes(), Iterations: int(r.uvarint()), StoredKey: r.bytes(), ServerKey: r.bytes()}
}

func encodeAccount(a store.Account) []byte {
	b := []byte{recordV1}
	b = appendTime(b, a.Created)
	b = appendKeys(b, a.SHA1)
	return appendKeys(b, a.SHA256)
}

func decodeAccount(jid string, v []byte) (store.Account, error) {
	r := newReader(v)
	a := store.Account{JID: jid, Created: r.time(), SHA1: r.keys(), SHA256: r.keys()}
	return a, r.done("account " + jid)
}

// Roster item flags.
const (
	flagAskOut = 1 << iota
	flagPendingIn
	flagPreApproved
	flagHidden
)

func encodeRosterItem(it store.RosterItem) []byte {
	b := []byte{recordV1}
	b = appendString(b, it.Name)
	b = binary.AppendUvarint(b, uint64(len(it.Groups)))
	for _, g := range it.Groups {
		b = appendString(b, g)
	}
	b = appendString(b, it.Subscription)
	var flags byte
	for _, f := range []struct {
		set  bool
		flag byte
	}{{it.AskOut, flagAskOut}, {it.PendingIn, flagPendingIn}, {it.PreApproved, flagPreApproved}, {it.Hidden, flagHidden}} {
		if f.set {
			flags |= f.flag
		}
	}
	b = append(b, flags)
	return appendString(b, it.PendingInStatus)
}

func decodeRosterItem(contact string, v []byte) (store.RosterItem, error) {
	r := newReader(v)
	it := store.RosterItem{JID: contact, Name: r.string()}
	if n := r.uvarint(); n > 0 && n <= uint64(len(r.b)) {
		it.Groups = make([]string, n)
		for i := range it.Groups {
			it.Groups[i] = r.string()
		}
	} else if n > 0 {
		r.fail()
	}
	it.Subscription = r.string()
	flags := r.byte()
	it.AskOut, it.PendingIn = flags&flagAskOut != 0, flags&flagPendingIn != 0
	it.PreApproved, it.Hidden = flags&flagPreApproved != 0, flags&flagHidden != 0
	it.PendingInStatus = r.string()
	return it, r.done("roster item " + contact)
}

func encodeLastSeen(ls store.LastSeen) []byte {
	return appendString(appendTime([]byte{recordV1}, ls.At), ls.Status)
}

func decodeLastSeen(jid string, v []byte) (store.LastSeen, error) {
	r := newReader(v)
	ls := store.LastSeen{At: r.time(), Status: r.string()}
	return ls, r.done("last seen " + jid)
}

// Queue values are kept tiny, with no version byte: varint(stored, Unix
// nanoseconds) then the payload (written in place in the batch by
// enqueueApply and enqueueAllApply).

func decodeQueued(seq uint64, v []byte) (store.QueuedStanza, error) {
	stored, n := binary.Varint(v)
	if n <= 0 {
		return store.QueuedStanza{}, fmt.Errorf("%w: queued stanza %d", errCorrupt, seq)
	}
	return store.QueuedStanza{
		Seq:     seq,
		Stored:  time.Unix(0, stored).UTC(),
		Payload: append([]byte(nil), v[n:]...),
	}, nil
}

// Counters (roster version, queue head) are 8 bytes big-endian.
func encodeUint64(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }

func decodeUint64(v []byte) (uint64, error) {
	if len(v) != 8 {
		return 0, errCorrupt
	}
	return binary.BigEndian.Uint64(v), nil
}
