package session

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/parley-im/parley/internal/jid"
)

// TestOutputBufferRoundTripAllocatesNothing: a session takes an output
// buffer from the pool for each write and gives it back after; once the
// pool holds one, the round trip allocates nothing. Giving back &b made a
// pointer escape at every write, one allocation each.
func TestOutputBufferRoundTripAllocatesNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector's sync.Pool drops items at random")
	}
	var c Config
	c.releaseOut(c.outBuffer())
	allocs := testing.AllocsPerRun(1000, func() {
		b := c.outBuffer()
		b = append(b, "<message/>"...)
		c.releaseOut(b)
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per output buffer taken and given back, want 0", allocs)
	}
}

// TestAnAckIsWrittenFromAPooledBuffer: what a session appends when it has
// no output pending (here stream management's <a/>) goes into a buffer
// from the pool, which flushLocked gives back after the write. Appended to
// no buffer, every ack grew one of its own.
func TestAnAckIsWrittenFromAPooledBuffer(t *testing.T) {
	var wire bytes.Buffer
	cfg := &Config{Domain: "example.org", Now: time.Now, MailboxSize: 16, Log: slog.New(slog.DiscardHandler)}
	s := New(context.Background(), cfg, nil, jid.MustParse("bob@example.org/phone"), &recordingTransport{w: &wire})
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sm.enabled = true
	s.answerAckRequestLocked()
	if cap(s.out) != freshOutCap {
		t.Fatalf("the ack went into a buffer of capacity %d, want one from the pool (%d)", cap(s.out), freshOutCap)
	}
	if !s.flushLocked() || !strings.Contains(wire.String(), `<a xmlns="urn:xmpp:sm:3" h="0"/>`) {
		t.Fatalf("wrote %q, want the ack", wire.String())
	}
}
