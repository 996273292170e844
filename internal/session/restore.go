package session

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/parley-im/parley/internal/jid"
	"github.com/parley-im/parley/internal/stanza"
	"github.com/parley-im/parley/internal/store"
)

// Resumption across processes (docs/ARCHITECTURE.md, "Live upgrade"): a
// resumable session that is handed off leaves a store.Resumption behind
// instead of waiting for the client's acknowledgement; the device resumes
// it in the new process (or on another node) with the h it counted.
//
// What the record carries: the counts, every stanza sent but not
// acknowledged (stored ones with their queue seq, so that the client's
// ack erases them from the queue; others, such as presence, only as
// payload) and the available presence. What it does not carry: feature
// state kept per session (carbons enabled, a CSI hold, whether the roster
// was requested) and stanzas that were never written (non-stored stanzas
// routed to the session once the handoff froze it are dropped; stored ones
// wait in the queue).

// resumptionWriteTimeout bounds the write of a resumption record, and of
// a batch of them.
const resumptionWriteTimeout = 5 * time.Second

// maxRecordBatch bounds the records written in one store write.
const maxRecordBatch = 256

// recordBatcher writes the resumption records of sessions handed off
// together (an upgrade hands off every session at once) in batches: the
// first record starts a writer, which writes what is pending, at most
// maxRecordBatch records per store write, until nothing is; each session
// waits for the write that holds its record. One store write per session
// (a PostgreSQL commit each) made the handoff of 5,000 sessions outlast
// the server's drain bound. The zero value is ready; Config holds it.
type recordBatcher struct {
	mu      sync.Mutex
	pending []*pendingRecord // oldest first
	writing bool             // a writer runs
}

// pendingRecord is one record waiting for its write; done receives the
// write's outcome once.
type pendingRecord struct {
	rec  store.Resumption
	done chan error
}

// putRecord stores rec (in Resumptions) with the records put meanwhile.
// When ctx ends first, the record is withdrawn unless its write has begun
// (the outcome is then that write's, bounded by resumptionWriteTimeout).
func (c *Config) putRecord(ctx context.Context, rec store.Resumption) error {
	b := &c.records
	p := &pendingRecord{rec: rec, done: make(chan error, 1)}
	b.mu.Lock()
	b.pending = append(b.pending, p)
	if !b.writing {
		b.writing = true
		go c.writeRecords()
	}
	b.mu.Unlock()
	select {
	case err := <-p.done:
		return err
	case <-ctx.Done():
	}
	b.mu.Lock()
	if i := slices.Index(b.pending, p); i >= 0 {
		b.pending = slices.Delete(b.pending, i, i+1)
		b.mu.Unlock()
		return ctx.Err()
	}
	b.mu.Unlock()
	return <-p.done
}

// writeRecords writes the pending records in batches until none is left.
func (c *Config) writeRecords() {
	b := &c.records
	for {
		b.mu.Lock()
		n := min(len(b.pending), maxRecordBatch)
		if n == 0 {
			b.writing = false
			b.mu.Unlock()
			return
		}
		batch := slices.Clone(b.pending[:n])
		b.pending = slices.Delete(b.pending, 0, n)
		b.mu.Unlock()
		recs := make([]store.Resumption, n)
		for i, p := range batch {
			recs[i] = p.rec
		}
		ctx, cancel := context.WithTimeout(context.Background(), resumptionWriteTimeout)
		err := c.Resumptions.PutResumptions(ctx, recs)
		cancel()
		if err == nil {
			c.Metrics.recordsWritten(n)
		}
		for _, p := range batch {
			p.done <- err
		}
	}
}

// resumptionLocked is the session's resumption record.
func (s *Session) resumptionLocked() store.Resumption {
	s.storePendingLocked() // the record keeps queue positions, not messages the queue lacks
	r := store.Resumption{
		ID: s.id, User: s.jid.Bare().String(), JID: s.jid.String(), Device: s.device,
		InH: s.sm.inH, Acked: s.sm.acked, Expires: s.cfg.Now().Add(s.cfg.ResumeTimeout),
	}
	if p := s.Presence(); p != nil && s.available.Load() {
		r.Presence = s.cfg.Codec.Encode(p)
	}
	r.Unacked = make([]store.ResumedStanza, len(s.sm.unacked))
	for i := range s.sm.unacked {
		u := &s.sm.unacked[i]
		r.Unacked[i] = store.ResumedStanza{Seq: u.seq, Payload: s.unackedPayload(u)}
	}
	return r
}

// persistResumptionLocked stores the session's resumption record; it
// reports false (logging why) when the session is not resumable that way
// or the store failed. The record then owns the unacknowledged stanzas:
// they are not bounced when the session ends.
func (s *Session) persistResumptionLocked() bool {
	if !s.sm.resumable || s.cfg.Resumptions == nil || s.cfg.ResumeTimeout <= 0 {
		return false
	}
	// Not the session's context: the server cancels it when its drain
	// times out, which is when the last handoffs still write.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(s.ctx), resumptionWriteTimeout)
	defer cancel()
	if !s.logToQueueLocked(ctx) { // the record keeps queue positions only
		return false
	}
	if err := s.cfg.putRecord(ctx, s.resumptionLocked()); err != nil {
		s.cfg.Log.Warn("storing the resumption state of a handed-off session", "jid", s.jid.String(), "err", err)
		return false
	}
	s.sm.reset()
	return true
}

// Restore creates the session a resumption record describes, attached to
// tr; StartRestored must be called next. It fails when a stored stanza
// cannot be decoded.
func Restore(ctx context.Context, cfg *Config, hub Hub, rec store.Resumption, tr Transport) (*Session, error) {
	full, err := jid.Parse(rec.JID)
	if err != nil || full.IsBare() {
		return nil, fmt.Errorf("session: resumption %s: bad JID %q", rec.ID, rec.JID)
	}
	s := &Session{cfg: cfg, hub: hub, ctx: ctx, jid: full, tr: tr, id: rec.ID, device: LinkedDeviceOf(tr)}
	s.extensions.Store(speaksExtensions(tr))
	s.sm = streamManagement{enabled: true, resumable: true, inH: rec.InH, acked: rec.Acked}
	for _, u := range rec.Unacked {
		st, err := cfg.Codec.Decode(u.Payload)
		if err != nil {
			return nil, fmt.Errorf("session: resumption %s: stanza %d: %w", rec.ID, u.Seq, err)
		}
		s.sm.unacked = append(s.sm.unacked, unackedStanza{st: st, seq: u.Seq})
	}
	s.Touch()
	return s, nil
}

// StartRestored answers the client's <resume/> on a restored session
// (XEP-0198 5): it applies the client's h (erasing what it acknowledged
// from the queue), writes <resumed/> and the unacknowledged rest, then
// restores the available presence, which delivers the rest of the
// device's queue as a login does. presence is the record's (nil: the
// device was not available). register makes the session reachable (the
// registry); it runs with the session locked, so that nothing routed to
// it is written before <resumed/>. It reports false when the session
// ended (the client acknowledged more than it was sent).
func (s *Session) StartRestored(h uint32, presence []byte, register func()) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	register()
	if !s.processAckLocked(h) {
		return false
	}
	s.out = s.tr.AppendElement(s.outLocked(), stanza.NewElement(stanza.NSSM, "resumed",
		"h", strconv.FormatUint(uint64(s.sm.inH), 10), "previd", s.id))
	for i := range s.sm.unacked {
		s.out = s.appendUnackedLocked(s.out, s.tr, &s.sm.unacked[i])
	}
	s.requestResentAckLocked()
	s.hub.Resumable(s)
	if presence != nil {
		if p, err := s.cfg.Codec.Decode(presence); err == nil {
			p.SetAttr("from", s.jid.String())
			s.handleOwnPresenceLocked(p)
		} else {
			s.cfg.Log.Warn("undecodable presence in a resumption record", "jid", s.jid.String(), "err", err)
		}
	}
	s.flushLocked()
	s.cfg.Metrics.resumed()
	return s.state == stateActive
}
