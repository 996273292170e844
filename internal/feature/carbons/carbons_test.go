package carbons

import (
	"testing"

	"github.com/parley-im/parley/internal/stanza"
)

func msg(typ string, children ...*stanza.Element) *stanza.Element {
	m := stanza.NewElement(stanza.NSClient, stanza.KindMessage, "to", "bob@example.org", "from", "alice@example.org/a")
	if typ != "" {
		m.SetAttr("type", typ)
	}
	for _, c := range children {
		m.AddChild(c)
	}
	return m
}

func el(ns, name string) *stanza.Element { return stanza.NewElement(ns, name) }

func TestEligible(t *testing.T) {
	body := el(stanza.NSClient, "body")
	for _, tc := range []struct {
		name string
		m    *stanza.Element
		want bool
	}{
		{"chat with body", msg("chat", body), true},
		{"chat without body", msg("chat"), true},
		{"normal with body", msg("", body), true},
		{"normal without body", msg("normal"), false},
		{"normal receipt", msg("", el(stanza.NSReceipts, "received")), true},
		{"normal marker", msg("", el(stanza.NSMarkers, "displayed")), true},
		{"normal chat state", msg("", el(stanza.NSChatStates, "composing")), true},
		{"normal call accept (XEP-0353)", msg("", el(stanza.NSJingleMessage, "accept")), true},
		{"groupchat", msg("groupchat", body), false},
		{"headline", msg("headline", body), false},
		{"error", msg("error", body), false},
		{"private", msg("chat", body, el(NS, "private")), false},
		{"no-copy", msg("chat", body, el(stanza.NSHints, "no-copy")), false},
		{"no-store is still copied", msg("chat", body, el(stanza.NSHints, "no-store")), true},
		{"a carbon itself", msg("chat", el(NS, "received")), false},
	} {
		if got := Eligible(tc.m); got != tc.want {
			t.Errorf("%s: Eligible = %v, want %v", tc.name, got, tc.want)
		}
	}
}
