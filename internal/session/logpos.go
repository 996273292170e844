package session

import (
	"context"

	"github.com/parley-im/parley/internal/stanza"
)

// A stanza handed with a log position (router.RouteLogged: a group post
// stored once, with no copy in the account's queue) is tracked like a
// stored one, by its (log key, seq) instead of its queue seq: the
// device's ack settles it with Config.Logs, no store write; a session
// that ends without the device's ack releases it, and the router writes
// it into the account's queue, in log order, for the next login; a
// handoff writes them there before its resumption record, which keeps
// queue positions only.

// logState holds a session's lists of log positions, made at the first
// one and dropped when the device goes quiet (Idle): an idle device holds
// none (TestSessionSizeClass).
type logState struct {
	written []logPos // written since the last flush (no stream management)
	seqs    []uint64 // scratch: the positions of one ack or release
	acks    []logPos // scratch: the positions one <a/> acknowledges
	// copy is where the device's copy of a post handed with a log
	// position (stanza.NewPost) is made to be encoded: the session keeps
	// the post, not the copy (made, and kept, if it must be re-sent).
	copy stanza.CopyScratch
}

// logStateLocked returns the session's logState, made if need be.
func (s *Session) logStateLocked() *logState {
	if s.logs == nil {
		s.logs = &logState{}
	}
	return s.logs
}

// logPos is a position in a log.
type logPos struct {
	key string
	seq uint64
}

// sendLoggedLocked writes a stanza handed with a log position and tracks
// it; one the session can no longer write is released at once. A post
// (stanza.NewPost) is written as the device's copy of it.
func (s *Session) sendLoggedLocked(st *stanza.Element, key string, seq uint64) {
	if s.state == stateClosed || s.handoff != nil {
		s.releaseLog([]logPos{{key: key, seq: seq}})
		return
	}
	if s.tr != nil {
		if stanza.IsPost(st) {
			c := &s.logStateLocked().copy
			s.out = s.tr.AppendElement(s.outLocked(), c.Fill(st, s.jid.Bare().String()))
			c.Clear()
		} else {
			s.out = s.tr.AppendElement(s.outLocked(), st)
		}
	}
	s.trackSentLocked(unackedStanza{st: st, seq: seq, log: key})
}

// ackLog (s.mu held) settles acknowledged log positions, erasing from
// the queue the copies made of them meanwhile.
func (s *Session) ackLog(ps []logPos) {
	s.eachLogLocked(ps, func(key string, seqs []uint64) {
		if queued := s.cfg.Logs.LogAcked(s, key, seqs); len(queued) > 0 {
			s.ackQueue(queued)
		}
	})
}

// releaseLog (s.mu held) gives back log positions the device will not
// acknowledge.
func (s *Session) releaseLog(ps []logPos) {
	s.eachLogLocked(ps, func(key string, seqs []uint64) { s.cfg.Logs.LogReleased(s, key, seqs) })
}

// eachLogLocked (s.mu held) calls f with each log's seqs among ps.
func (s *Session) eachLogLocked(ps []logPos, f func(key string, seqs []uint64)) {
	if s.cfg.Logs == nil {
		return
	}
	for len(ps) > 0 {
		var key string
		var seqs []uint64
		key, seqs, ps = s.nextLogLocked(ps)
		f(key, seqs)
	}
}

// releaseLogLocked gives back every log position the session holds (it
// ends).
func (s *Session) releaseLogLocked() {
	var ps []logPos
	if s.logs != nil {
		ps, s.logs.written = s.logs.written, nil
	}
	for _, u := range s.sm.unacked {
		if u.log != "" {
			ps = append(ps, logPos{key: u.log, seq: u.seq})
		}
	}
	s.releaseLog(ps)
}

// logToQueueLocked turns the session's unacknowledged log positions into
// queue positions (a handoff's record keeps only those); false if the
// store failed.
func (s *Session) logToQueueLocked(ctx context.Context) bool {
	var ps []logPos
	for _, u := range s.sm.unacked {
		if u.log != "" {
			ps = append(ps, logPos{key: u.log, seq: u.seq})
		}
	}
	if len(ps) == 0 {
		return true
	}
	if s.cfg.Logs == nil {
		return false
	}
	for len(ps) > 0 {
		var key string
		var seqs []uint64
		key, seqs, ps = s.nextLogLocked(ps)
		qs, err := s.cfg.Logs.LogToQueue(ctx, s, key, seqs)
		if err != nil {
			s.cfg.Log.Warn("writing a handed-off session's group copies to its queue", "jid", s.jid.String(), "err", err)
			return false
		}
		s.requeueLocked(key, seqs, qs)
	}
	return true
}

// requeueLocked replaces the log positions seqs of key among the
// unacknowledged stanzas by the queue positions qs.
func (s *Session) requeueLocked(key string, seqs, qs []uint64) {
	for i := range s.sm.unacked {
		u := &s.sm.unacked[i]
		if u.log != key {
			continue
		}
		for k, seq := range seqs {
			if u.seq == seq {
				u.log, u.seq = "", qs[k]
				break
			}
		}
	}
}

// nextLogLocked returns the key of the first of ps, the seqs of ps in
// that log (in the session's scratch slice, valid until the next call)
// and the positions of ps in other logs.
func (s *Session) nextLogLocked(ps []logPos) (key string, seqs []uint64, rest []logPos) {
	key = ps[0].key
	l := s.logStateLocked()
	seqs = l.seqs[:0]
	for _, p := range ps {
		if p.key == key {
			seqs = append(seqs, p.seq)
		} else {
			rest = append(rest, p)
		}
	}
	l.seqs = seqs
	return key, seqs, rest
}
