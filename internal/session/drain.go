package session

import (
	"bytes"
	"slices"
	"time"

	"github.com/parley-im/parley/internal/stanza"
	"github.com/parley-im/parley/internal/wire/xmlstream"
)

// StoredXMLWriter is implemented by a Transport whose AppendElement writes
// a stanza exactly as a StoredXMLCodec stores it (XMPP's XML over TCP, or
// over TLS): the offline drain then writes stored stanzas as they are,
// adding only their delay stamp, instead of parsing and encoding each.
type StoredXMLWriter interface {
	WritesStoredXML() bool
}

// StoredXMLCodec is implemented by a queue Codec that stores a stanza as
// xmlstream.AppendElement(nil, st, stanza.NSClient).
type StoredXMLCodec interface {
	StoresClientXML() bool
}

// drainBatch is how many stored stanzas the drain reads at a time.
const drainBatch = 256

// drainQueueLocked sends the stored stanzas this session has not sent and
// returns the highest seq read. Each gets a delay stamp (XEP-0203).
func (s *Session) drainQueueLocked(key string) uint64 {
	d := drain{raw: s.writesStoredXMLLocked(s.tr), domain: s.cfg.Domain}
	// Stanzas delivered live in this session are not sent again: those
	// awaiting a stream-management ack (none of them is above live), and,
	// without stream management, those written since the last flush, whose
	// erasure from the queue waits for it (a catch-up read, Redrain, can
	// come in the same mailbox batch as their delivery). The user's
	// messages handed out before they were stored (router.Pending) are
	// stored first, in order: this device reads them with the rest, and
	// this session's own unacknowledged ones then have their queue
	// positions (queueSeq) before live is taken.
	if s.cfg.Router != nil {
		s.cfg.Router.StoreWaiting(key)
	}
	live := s.sm.maxSeq()
	var after uint64
	for {
		batch, err := s.cfg.Queue.ReadQueue(s.ctx, key, after, drainBatch)
		if err != nil {
			s.cfg.Log.Error("reading offline queue", "user", key, "err", err)
			return after
		}
		for _, q := range batch {
			after = q.Seq
			if q.Seq <= live && s.sm.hasSeq(q.Seq) || slices.Contains(s.writtenSeqs, q.Seq) {
				continue // already delivered live in this session
			}
			if d.raw && storedMessage(q.Payload) {
				s.sendStoredLocked(&d, unackedStanza{seq: q.Seq, raw: q.Payload, storedNS: q.Stored.UnixNano()})
				continue
			}
			st, err := s.cfg.Codec.Decode(q.Payload)
			if err != nil {
				s.cfg.Log.Error("undecodable stored stanza dropped", "user", key, "seq", q.Seq, "err", err)
				_ = s.cfg.Queue.AckQueue(s.ctx, key, q.Seq)
				continue
			}
			st.AddChild(delayStamp(s.cfg.Domain, q.Stored))
			s.sendLocked(st, q.Seq)
		}
		if len(batch) < drainBatch {
			break
		}
	}
	s.drainedUpTo = max(s.drainedUpTo, after)
	return after
}

// writesStoredXMLLocked reports whether tr writes stanzas as the queue
// stores them.
func (s *Session) writesStoredXMLLocked(tr Transport) bool {
	w, ok := tr.(StoredXMLWriter)
	c, ok2 := s.cfg.Codec.(StoredXMLCodec)
	return ok && ok2 && w.WritesStoredXML() && c.StoresClientXML()
}

// sendStoredLocked writes a stored message as it was stored, with its
// delay stamp spliced in before its end tag, and tracks it as sendLocked
// does (stream management keeps the stored bytes, not an element).
func (s *Session) sendStoredLocked(d *drain, u unackedStanza) {
	if s.state == stateClosed || u.seq <= s.drainedUpTo || s.handoff != nil {
		return // as sendLocked: closed, sent by an earlier drain, or frozen for a handoff
	}
	if s.tr != nil {
		s.out = d.appendStamped(s.outLocked(), u.raw, u.stored())
	}
	s.trackSentLocked(u)
}

// appendUnackedLocked appends an unacknowledged stanza for tr (re-sent on
// resumption): a stored one kept as bytes is written as such when tr
// allows, and decoded otherwise.
func (s *Session) appendUnackedLocked(dst []byte, tr Transport, u *unackedStanza) []byte {
	if u.st == nil && s.writesStoredXMLLocked(tr) {
		d := drain{domain: s.cfg.Domain}
		return d.appendStamped(dst, u.raw, u.stored())
	}
	if st := s.unackedElement(u); st != nil {
		return tr.AppendElement(dst, st)
	}
	return dst
}

// unackedPayload is the queue codec's encoding of an unacknowledged
// stanza, with its delay stamp (a handoff's resumption record).
func (s *Session) unackedPayload(u *unackedStanza) []byte {
	if u.st == nil {
		d := drain{domain: s.cfg.Domain}
		return d.appendStamped(nil, u.raw, u.stored())
	}
	return s.cfg.Codec.Encode(s.unackedElement(u))
}

// unackedElement is the stanza of u, decoded (and stamped) when it was
// kept as stored bytes, the device's copy when it is a post
// (stanza.NewPost); nil (logged) if decoding fails.
func (s *Session) unackedElement(u *unackedStanza) *stanza.Element {
	if u.st != nil {
		if stanza.IsPost(u.st) { // the device's copy, kept from now on
			u.st = stanza.For(u.st, s.jid.Bare().String())
		}
		return u.st
	}
	st, err := s.cfg.Codec.Decode(u.raw)
	if err != nil {
		s.cfg.Log.Error("undecodable stored stanza not re-sent", "jid", s.jid.String(), "seq", u.seq, "err", err)
		return nil
	}
	st.AddChild(delayStamp(s.cfg.Domain, u.stored()))
	u.st, u.raw = st, nil
	return st
}

func delayStamp(domain string, stored time.Time) *stanza.Element {
	return stanza.NewElement(stanza.NSDelay, "delay", "from", domain, "stamp", stamp(stored))
}

const messageEnd = "</message>"

// storedMessage reports whether b is a stored message the drain can
// splice its delay stamp into: <message ...>...</message>.
func storedMessage(b []byte) bool {
	return bytes.HasPrefix(b, []byte("<message ")) && bytes.HasSuffix(b, []byte(messageEnd))
}

// drain holds what the offline drain reuses across stanzas: the encoded
// delay stamp of the last stored time (a burst was stored within the
// same millisecond, so most stanzas share it).
type drain struct {
	raw    bool
	domain string
	atMS   int64 // the stamp's time, in the milliseconds it shows
	stamp  []byte
}

// appendStamped appends the stored message b with its delay stamp as its
// last child: what encoding the decoded message with the stamp added
// gives (TestDrainWritesStoredXMLAsEncoded).
func (d *drain) appendStamped(dst, b []byte, stored time.Time) []byte {
	if d.stamp == nil || stored.UnixMilli() != d.atMS {
		d.atMS = stored.UnixMilli()
		d.stamp = xmlstream.AppendElement(d.stamp[:0], delayStamp(d.domain, stored), stanza.NSClient)
	}
	n := len(b) - len(messageEnd)
	dst = append(dst, b[:n]...)
	dst = append(dst, d.stamp...)
	return append(dst, messageEnd...)
}
