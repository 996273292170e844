package csi

import (
	"testing"

	"github.com/parley-im/parley/internal/stanza"
)

func presence(from, typ string) *stanza.Element {
	p := stanza.NewElement(stanza.NSClient, stanza.KindPresence, "from", from, "to", "alice@example.org/phone")
	if typ != "" {
		p.SetAttr("type", typ)
	}
	return p
}

func message(children ...*stanza.Element) *stanza.Element {
	m := stanza.NewElement(stanza.NSClient, stanza.KindMessage, "from", "bob@example.org/pc", "type", "chat")
	for _, c := range children {
		m.AddChild(c)
	}
	return m
}

func TestHoldCollapsesPresencePerSender(t *testing.T) {
	h := newHold()
	bob1 := presence("bob@example.org/pc", "")
	carol := presence("carol@example.org/a", "")
	bob2 := presence("bob@example.org/pc", "unavailable")
	for _, p := range []*stanza.Element{bob1, carol, bob2} {
		if !h.Hold(p) {
			t.Fatalf("presence %s type %q went out at once, want held", p.Attr("from"), p.Type())
		}
	}
	if h.Hold(presence("dave@example.org", "subscribe")) {
		t.Fatal("a subscription request was held")
	}
	got := h.Release()
	if len(got) != 2 || got[0] != bob2 || got[1] != carol {
		t.Fatalf("Release = %v, want bob's latest (unavailable) then carol's", got)
	}
	if again := h.Release(); len(again) != 0 {
		t.Fatalf("second Release = %d stanzas, want none", len(again))
	}
}

func TestHoldDropsOnlyChatStates(t *testing.T) {
	body := stanza.NewElement(stanza.NSClient, "body")
	body.Text = "hi"
	composing := stanza.NewElement(stanza.NSChatStates, "composing")
	cases := []struct {
		name string
		m    *stanza.Element
		held bool
	}{
		{"chat state", message(stanza.NewElement(stanza.NSChatStates, "composing")), true},
		{"chat state with hint", message(stanza.NewElement(stanza.NSChatStates, "paused"),
			stanza.NewElement(stanza.NSHints, "no-store")), true},
		{"body with chat state", message(body, composing), false},
		{"receipt", message(stanza.NewElement(stanza.NSReceipts, "received", "id", "1")), false},
		{"marker", message(stanza.NewElement(stanza.NSMarkers, "displayed", "id", "1")), false},
		{"carbon of a chat state", carbon(message(stanza.NewElement(stanza.NSChatStates, "active"))), true},
		{"carbon of a body", carbon(message(body.Copy())), false},
		{"empty", message(), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := newHold().Hold(tc.m); got != tc.held {
				t.Fatalf("Hold = %v, want %v", got, tc.held)
			}
		})
	}
}

func carbon(m *stanza.Element) *stanza.Element {
	fwd := stanza.NewElement(nsForward, "forwarded").AddChild(m)
	return message(stanza.NewElement(nsCarbons, "received").AddChild(fwd))
}
