package blocking

import (
	"testing"

	"github.com/parley-im/parley/internal/jid"
	"github.com/parley-im/parley/internal/stanza"
)

func TestBlockSetMatchesLikeXEP0016(t *testing.T) {
	for _, tc := range []struct {
		item, entity string
		want         bool
	}{
		{"bob@example.org", "bob@example.org", true},
		{"bob@example.org", "bob@example.org/phone", true},
		{"bob@example.org/phone", "bob@example.org/phone", true},
		{"bob@example.org/phone", "bob@example.org/web", false},
		{"bob@example.org/phone", "bob@example.org", false},
		{"example.org", "bob@example.org/web", true},
		{"example.org", "example.org", true},
		{"example.org/bot", "example.org/bot", true},
		{"example.org/bot", "carol@example.org/bot", true},
		{"example.org/bot", "carol@example.org/web", false},
		{"bob@example.org", "bobby@example.org", false},
		{"bob@example.org", "bob@example.org.evil", false},
		{"example.org", "bob@sub.example.org", false},
	} {
		b := blockSet{tc.item: {}}
		if got := b.matches(jid.MustParse(tc.entity)); got != tc.want {
			t.Errorf("list [%s] blocks %s = %v, want %v", tc.item, tc.entity, got, tc.want)
		}
	}
	if (blockSet{}).matches(jid.MustParse("bob@example.org")) {
		t.Error("an empty list blocks")
	}
}

func TestRefusalDependsOnTheStanza(t *testing.T) {
	e := stanza.NewError(stanza.ServiceUnavailable, "")
	for _, tc := range []struct {
		kind, typ string
		refused   bool
	}{
		{stanza.KindMessage, "chat", true},
		{stanza.KindMessage, "", true},
		{stanza.KindMessage, "error", false},
		{stanza.KindIQ, "get", true},
		{stanza.KindIQ, "set", true},
		{stanza.KindIQ, "result", false},
		{stanza.KindIQ, "error", false},
		{stanza.KindPresence, "", false},
		{stanza.KindPresence, "subscribe", false},
	} {
		st := stanza.NewElement(stanza.NSClient, tc.kind, "type", tc.typ)
		if got := refusal(st, e) != nil; got != tc.refused {
			t.Errorf("%s type %q: refused = %v, want %v (otherwise dropped silently)", tc.kind, tc.typ, got, tc.refused)
		}
	}
}
