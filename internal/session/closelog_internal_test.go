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

// TestAStreamClosedCleanlyLogsNoError: a session closed without a stream
// error logged a nil *stanza.StreamError as its error ("err=<nil>"): its
// Error method panicked inside the log handler, which recovered (fmt
// prints a nil pointer's panic as <nil>), 2% of the server's CPU in
// BenchmarkLogin at the debug level.
func TestAStreamClosedCleanlyLogsNoError(t *testing.T) {
	var logs, wire bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	cfg := &Config{Domain: "example.org", Now: time.Now, MailboxSize: 16, Log: log}
	hub := &endingHub{ended: make(chan struct{})}
	s := New(context.Background(), cfg, hub, jid.MustParse("bob@example.org/phone"), &recordingTransport{w: &wire})
	s.mu.Lock()
	s.closeLocked(nil, false)
	s.mu.Unlock()
	select {
	case <-hub.ended:
	case <-time.After(10 * time.Second):
		t.Fatal("the session did not end")
	}
	if !strings.Contains(logs.String(), "session closed") {
		t.Fatalf("no close logged: %q", logs.String())
	}
	if strings.Contains(logs.String(), "err=") {
		t.Errorf("the close's log line: %q", logs.String())
	}
}

// endingHub is a Hub for a session that only ends; any other call panics.
type endingHub struct {
	Hub
	ended chan struct{}
}

func (h *endingHub) Ended(context.Context, *Session, bool) { close(h.ended) }
