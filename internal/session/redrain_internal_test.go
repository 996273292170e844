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
	"github.com/parley-im/parley/internal/router"
	"github.com/parley-im/parley/internal/stanza"
	"github.com/parley-im/parley/internal/store/pebble"
	"github.com/parley-im/parley/internal/wire/xmlstream"
)

// TestRedrainSkipsWhatTheSessionJustWrote: a device without stream
// management is handed a stored message live, and the cluster's catch-up
// read of its queue (Redrain) comes in the same mailbox batch, before the
// batch's write erased the message from the queue: the device gets it
// once. (It got it twice: the drain skipped only stanzas awaiting a
// stream-management ack, and the server's cluster tests saw group posts
// twice under load.)
func TestRedrainSkipsWhatTheSessionJustWrote(t *testing.T) {
	ctx := context.Background()
	st, err := pebble.Open(t.TempDir(), pebble.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	full := jid.MustParse("bob@example.org/phone")
	key := router.QueueKey(full)
	codec := testXMLCodec{}
	m := stanza.NewElement(stanza.NSClient, stanza.KindMessage, "to", "bob@example.org", "from", "alice@example.org/pc", "id", "m1").
		AddChild(&stanza.Element{Space: stanza.NSClient, Name: "body", Text: "once"})
	seq, err := st.Enqueue(ctx, key, codec.Encode(m))
	if err != nil {
		t.Fatal(err)
	}

	var wire bytes.Buffer
	cfg := &Config{Domain: "example.org", Queue: st, Codec: codec, Now: time.Now, MailboxSize: 16, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	s := New(ctx, cfg, nil, full, &recordingTransport{w: &wire})
	s.state, s.initialDone = stateActive, true
	s.available.Store(true)

	// Both items in one batch: no runner may start before run.
	s.mbMu.Lock()
	s.mb.running = true
	s.mbMu.Unlock()
	s.push(item{ctl: ctlStanza, st: m, seq: seq}) // the live hand-over
	s.push(item{ctl: ctlRedrain})                 // the catch-up read
	s.run()

	if n := strings.Count(wire.String(), ">once<"); n != 1 {
		t.Fatalf("the device got the message %d times, want once:\n%s", n, wire.String())
	}
	if left, err := st.ReadQueue(ctx, key, 0, 10); err != nil || len(left) != 0 {
		t.Fatalf("queue after the write: %d stanzas (%v), want none", len(left), err)
	}
}

// testXMLCodec is the queue codec of these tests: the stanza's XML.
type testXMLCodec struct{}

func (testXMLCodec) Encode(st *stanza.Element) []byte {
	return xmlstream.AppendElement(nil, st, stanza.NSClient)
}

func (testXMLCodec) Decode(b []byte) (*stanza.Element, error) {
	return xmlstream.ParseElement(b, stanza.NSClient, xmlstream.DefaultLimits())
}

// recordingTransport writes the session's output, encoded as XML, to w.
type recordingTransport struct{ w *bytes.Buffer }

func (t *recordingTransport) AppendElement(dst []byte, e *stanza.Element) []byte {
	return xmlstream.AppendElement(dst, e, stanza.NSClient)
}

func (t *recordingTransport) AppendClose(dst []byte, _ *stanza.StreamError) []byte {
	return append(dst, "</stream:stream>"...)
}

func (t *recordingTransport) Write(b []byte) error { _, err := t.w.Write(b); return err }

func (t *recordingTransport) Close() error { return nil }
