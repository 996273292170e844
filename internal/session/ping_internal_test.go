package session

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/parley-im/parley/internal/jid"
	"github.com/parley-im/parley/internal/stanza"
)

// drainableTransport is recordingTransport that reports whether its
// output is drained (OutputDrainedReporter).
type drainableTransport struct {
	recordingTransport
	drained bool
}

func (t *drainableTransport) OutputDrained() bool { return t.drained }

// TestPingNowWritesOnlyWhatCannotWait: the keep-alive sweep's ping is
// written on the sweep's goroutine when the session is free and its
// transport's output drained; otherwise it goes through the mailbox, as
// before, and the sweep does not wait on a lock or a full socket.
func TestPingNowWritesOnlyWhatCannotWait(t *testing.T) {
	newSession := func(drained bool) (*Session, *bytes.Buffer) {
		var wire bytes.Buffer
		cfg := &Config{Domain: "example.org", Now: time.Now, MailboxSize: 16, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
		s := New(context.Background(), cfg, nil, jid.MustParse("bob@example.org/phone"),
			&drainableTransport{recordingTransport: recordingTransport{w: &wire}, drained: drained})
		s.mbMu.Lock()
		s.mb.running = true // a push queues without starting a runner
		s.mbMu.Unlock()
		return s, &wire
	}
	queued := func(s *Session) int {
		s.mbMu.Lock()
		defer s.mbMu.Unlock()
		return len(s.mb.items)
	}

	s, wire := newSession(true)
	s.PingNow()
	if !strings.Contains(wire.String(), "id=\"ping-1\"") || queued(s) != 0 || s.PingSent().IsZero() {
		t.Fatalf("drained: wrote %q, queued %d items; want the ping written at once", wire.String(), queued(s))
	}

	s, wire = newSession(false)
	s.PingNow()
	if wire.Len() != 0 || queued(s) != 1 {
		t.Fatalf("not drained: wrote %q, queued %d items; want the ping queued", wire.String(), queued(s))
	}

	s, wire = newSession(true)
	s.mu.Lock()
	s.PingNow()
	s.mu.Unlock()
	if wire.Len() != 0 || queued(s) != 1 {
		t.Fatalf("locked: wrote %q, queued %d items; want the ping queued", wire.String(), queued(s))
	}
}

// TestAbsorbKeepAlive: only the answer to the ping sent is taken, once,
// with the stream-management acks of what was not stored and the ack
// requests whose answer cannot block, and only when the session can take
// them at once.
func TestAbsorbKeepAlive(t *testing.T) {
	var wire bytes.Buffer
	cfg := &Config{Domain: "example.org", Now: time.Now, MailboxSize: 16, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	tr := &drainableTransport{recordingTransport: recordingTransport{w: &wire}, drained: true}
	s := New(context.Background(), cfg, nil, jid.MustParse("bob@example.org/phone"), tr)
	s.sm.enabled = true
	s.PingNow()
	pong := func(id, typ string) *stanza.Element {
		return stanza.NewElement(stanza.NSClient, stanza.KindIQ, "id", id, "type", typ)
	}
	for _, el := range []*stanza.Element{pong("ping-2", "result"), pong("ping-1", "get"),
		stanza.NewElement(stanza.NSClient, stanza.KindMessage, "id", "ping-1"),
		stanza.NewElement(stanza.NSSM, "a", "h", "2"), // more than was sent
		stanza.NewElement(stanza.NSSM, "enable")} {
		if s.AbsorbKeepAlive(el) {
			t.Fatalf("took %v", el)
		}
	}
	s.mu.Lock()
	locked := s.AbsorbKeepAlive(pong("ping-1", "result"))
	s.mu.Unlock()
	if locked {
		t.Fatal("took the answer while the session was locked")
	}
	if !s.AbsorbKeepAlive(pong("ping-1", "result")) {
		t.Fatal("the answer to ping-1 was not taken")
	}
	if s.sm.inH != 1 {
		t.Fatalf("stream management counted %d stanzas from the client, want 1 (the answer)", s.sm.inH)
	}
	if s.AbsorbKeepAlive(pong("ping-1", "result")) {
		t.Fatal("the answer to ping-1 was taken twice")
	}
	if !s.AbsorbKeepAlive(stanza.NewElement(stanza.NSSM, "a", "h", "1")) || len(s.sm.unacked) != 0 {
		t.Fatalf("the ack of the ping was not taken (%d unacked)", len(s.sm.unacked))
	}
	tr.drained = false
	if s.AbsorbKeepAlive(stanza.NewElement(stanza.NSSM, "r")) {
		t.Fatal("took an ack request whose answer could block")
	}
	tr.drained = true
	wire.Reset()
	if !s.AbsorbKeepAlive(stanza.NewElement(stanza.NSSM, "r")) || !strings.Contains(wire.String(), `h="1"`) {
		t.Fatalf("ack request: wrote %q, want <a h=\"1\"/>", wire.String())
	}

	// An ack of a stored stanza has a queue position to erase: not here.
	s.mu.Lock()
	s.sendLocked(stanza.NewElement(stanza.NSClient, stanza.KindMessage, "id", "m1"), 7)
	s.mu.Unlock()
	if s.AbsorbKeepAlive(stanza.NewElement(stanza.NSSM, "a", "h", "2")) {
		t.Fatal("took the ack of a stored stanza")
	}
}
