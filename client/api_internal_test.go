package client

import (
	"testing"

	"github.com/parley-im/parley/internal/stanza"
)

// TestChatMessageIsTheStanzaInOneAllocation: SendMessage's stanza is the
// same as one built element by element, in a single allocation.
func TestChatMessageIsTheStanzaInOneAllocation(t *testing.T) {
	want := stanza.NewElement(stanza.NSClient, "message", "to", "bob@example.com", "type", "chat", "id", "ID1")
	body := stanza.NewElement(stanza.NSClient, "body")
	body.Text = "hello <world>"
	want.AddChild(body)
	want.AddChild(stanza.NewElement(stanza.NSReceipts, "request"))
	want.AddChild(stanza.NewElement(stanza.NSMarkers, "markable"))
	want.AddChild(stanza.NewElement(stanza.NSSID, "origin-id", "id", "ID1"))
	got := chatMessage("bob@example.com", "ID1", "hello <world>")
	if got.String() != want.String() {
		t.Fatalf("chatMessage:\n got %s\nwant %s", got, want)
	}
	// Adding an attribute (the server stamps from) must not write into the
	// origin-id's attributes, which share the block.
	got.SetAttr("from", "alice@example.com/phone")
	if o := got.Child(stanza.NSSID, "origin-id"); len(o.Attrs) != 1 || o.Attr("id") != "ID1" {
		t.Fatalf("origin-id changed: %s", o)
	}
	if n := testing.AllocsPerRun(100, func() { _ = chatMessage("bob@example.com", "ID1", "x") }); n != 1 {
		t.Errorf("chatMessage: %v allocations, want 1", n)
	}
}
