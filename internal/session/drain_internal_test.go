package session

import (
	"bytes"
	"testing"
	"time"

	"github.com/parley-im/parley/internal/stanza"
	"github.com/parley-im/parley/internal/wire/xmlstream"
)

// TestDrainWritesStoredXMLAsEncoded: the offline drain's splice of the
// delay stamp into a stored message's bytes gives exactly what parsing
// the message, adding the stamp and encoding it gives (the path of a
// binary session), for messages with escaped text and attributes, other
// namespaces and several stamps in a row.
func TestDrainWritesStoredXMLAsEncoded(t *testing.T) {
	msgs := []*stanza.Element{
		stanza.NewElement(stanza.NSClient, "message", "to", "bob@example.org", "from", "alice@example.org/phone", "type", "chat", "id", "a'1").
			AddChild(&stanza.Element{Space: stanza.NSClient, Name: "body", Text: "<hi> & \"quotes\" 'apostrophes' é ✓"}).
			AddChild(stanza.NewElement(stanza.NSSID, "stanza-id", "by", "bob@example.org", "id", "s1")),
		stanza.NewElement(stanza.NSClient, "message", "to", "bob@example.org", "id", "m2").
			AddChild(stanza.NewElement(stanza.NSReceipts, "received", "id", "a'1")),
		stanza.NewElement(stanza.NSClient, "message", "to", "bob@example.org", "id", "m3").
			AddChild(stanza.NewElement("urn:example:x", "x").AddChild(stanza.NewElement("urn:example:y", "y", "k", "v<"))),
	}
	stored := []time.Time{
		time.Date(2026, 12, 2, 1, 2, 3, 456_000_000, time.UTC),
		time.Date(2026, 12, 2, 1, 2, 3, 456_900_000, time.UTC), // the same millisecond
		time.Date(2026, 12, 2, 1, 2, 3, 457_000_000, time.UTC), // the same second, the next millisecond
		time.Date(2026, 12, 2, 1, 2, 4, 0, time.FixedZone("X", 3600)),
	}
	msgs = append(msgs, msgs[0])
	d := drain{raw: true, domain: "example.org"}
	for i, m := range msgs {
		raw := xmlstream.AppendElement(nil, m, stanza.NSClient) // the queue codec's encoding
		if !storedMessage(raw) {
			t.Fatalf("message %d: %s not recognised as a stored message", i, raw)
		}
		got := d.appendStamped([]byte("prefix"), raw, stored[i])
		st, err := xmlstream.ParseElement(raw, stanza.NSClient, xmlstream.DefaultLimits())
		if err != nil {
			t.Fatal(err)
		}
		st.AddChild(delayStamp("example.org", stored[i]))
		want := xmlstream.AppendElement([]byte("prefix"), st, stanza.NSClient)
		if !bytes.Equal(got, want) {
			t.Fatalf("message %d:\n got %s\nwant %s", i, got, want)
		}
	}
	if storedMessage([]byte("<message to='x'/>")) || storedMessage([]byte("<presence/>")) {
		t.Fatal("a message without children, or not a message, taken for a splicable one")
	}
}
