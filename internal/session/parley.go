package session

import (
	"strconv"
	"time"

	"github.com/parley-im/parley/internal/router"
	"github.com/parley-im/parley/internal/stanza"
)

// ExtensionsTransport is implemented by transports whose clients speak
// Parley's protocol extensions (the binary encoding): an explicit server
// ack for every stored message, and the offline preview and done markers
// around the offline drain (docs/protocol/binary.md).
type ExtensionsTransport interface {
	ParleyExtensions() bool
}

// LinkedTransport is implemented by transports of connections that
// authenticated as a linked device (X-PARLEY-DEVICE).
type LinkedTransport interface {
	LinkedDevice() string
}

// LinkedDeviceOf returns the linked device id of tr's connection, "" for
// a password login.
func LinkedDeviceOf(tr Transport) string {
	if l, ok := tr.(LinkedTransport); ok {
		return l.LinkedDevice()
	}
	return ""
}

func speaksExtensions(tr Transport) bool {
	e, ok := tr.(ExtensionsTransport)
	return ok && e.ParleyExtensions()
}

// dispatchMessage routes a message from the device (without mu) up to the
// point where it is visible, and returns the error reply, if any, the
// Settlement that waits until it is durable (nil when it already is), and
// for a device that speaks Parley's extensions the ack of a stored message
// with its stanza-id and server time: the "sent" tick, to be sent once
// wait returned nil.
//
// The context that carries the router's Assigned is made once per active
// period of the session and reused (inMu serializes the messages): a
// context and an Assigned per message were two of the allocations of
// every message routed.
func (s *Session) dispatchMessage(m *stanza.Element) (reply, ack *stanza.Element, wait router.Settlement) {
	r := s.messageRoutingLocked()
	assigned := &r.assigned
	*assigned = router.Assigned{Defer: true, Batch: r.batch, Sender: s}
	if reply := s.hub.Dispatch(r.ctx, s, m); reply != nil {
		return reply, nil, assigned.Wait
	}
	if s.extensions.Load() && assigned.StanzaID != "" {
		ack = stanza.NewElement(stanza.NSParley, "ack",
			"id", m.ID(), "stanza-id", assigned.StanzaID, "stamp", stamp(assigned.Stored))
	}
	return nil, ack, assigned.Wait
}

// offlinePreviewLocked tells an extensions-speaking device how many stored
// stanzas are about to arrive.
func (s *Session) offlinePreviewLocked(key string) {
	if !s.extensions.Load() {
		return
	}
	n, err := s.cfg.Queue.QueueLen(s.ctx, key)
	if err != nil {
		s.cfg.Log.Error("counting the offline queue", "user", key, "err", err)
		return
	}
	s.sendNonzaLocked(stanza.NewElement(stanza.NSParley, "offline", "count", strconv.Itoa(n)))
}

// offlineDoneLocked marks the end of the offline drain.
func (s *Session) offlineDoneLocked() {
	if s.extensions.Load() {
		s.sendNonzaLocked(stanza.NewElement(stanza.NSParley, "offline-done"))
	}
}

// sendNonzaLocked encodes an element that is not a stanza: not counted or
// kept by stream management.
func (s *Session) sendNonzaLocked(el *stanza.Element) {
	if s.state != stateClosed && s.tr != nil {
		s.out = s.tr.AppendElement(s.outLocked(), el)
	}
}

func stamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }
