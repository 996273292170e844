package session

import (
	"runtime"
	"testing"
	"time"

	"github.com/parley-im/parley/internal/jid"
	"github.com/parley-im/parley/internal/stanza"
)

// TestPlainPresenceIsNotKept: a session keeps no element for a plain
// available presence (the parsed one can be collected) and Presence gives
// an equal one, from the device's full JID; a presence with content is
// kept as it is.
func TestPlainPresenceIsNotKept(t *testing.T) {
	full := jid.MustParse("alice@example.org/phone")
	s := &Session{cfg: &Config{}, jid: full}
	collected := make(chan struct{})
	p := stanza.NewElement(stanza.NSClient, stanza.KindPresence, "from", full.String())
	runtime.AddCleanup(p, func(ch chan struct{}) { close(ch) }, collected)
	s.keepPresence(p)
	p = nil
	for deadline := time.Now().Add(5 * time.Second); ; {
		runtime.GC()
		select {
		case <-collected:
		default:
			if time.Now().Before(deadline) {
				continue
			}
			t.Fatal("the session still holds the plain presence element")
		}
		break
	}
	got := s.Presence()
	if got == nil || got.Space != stanza.NSClient || got.Name != stanza.KindPresence || len(got.Attrs) != 1 ||
		got.Attr("from") != full.String() || len(got.Children) != 0 {
		t.Fatalf("Presence() = %v, want <presence from='%s'/>", got, full)
	}

	withStatus := stanza.NewElement(stanza.NSClient, stanza.KindPresence, "from", full.String())
	withStatus.AddChild(&stanza.Element{Space: stanza.NSClient, Name: "status", Text: "away"})
	s.keepPresence(withStatus)
	if s.Presence() != withStatus {
		t.Fatal("a presence with a status is not kept as it is")
	}
	other := stanza.NewElement(stanza.NSClient, stanza.KindPresence, "from", "mallory@example.org/x")
	s.keepPresence(other)
	if s.Presence() != other {
		t.Fatal("a presence from another address is taken for the plain one")
	}
}
