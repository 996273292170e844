package component

import (
	"context"
	"strings"
	"testing"

	"github.com/parley-im/parley/internal/jid"
	"github.com/parley-im/parley/internal/stanza"
)

func TestDomainOf(t *testing.T) {
	s := NewServer(Config{Secrets: map[string]string{"push.example.org": "x"}})
	for _, c := range []struct {
		in, want string
		ok       bool
	}{
		{"push.example.org", "push.example.org", true},
		{"eu.push.example.org", "push.example.org", true},
		{"example.org", "", false},
		{"xpush.example.org", "", false},
		{"other.example", "", false},
	} {
		if got, ok := s.domainOf(c.in); got != c.want || ok != c.ok {
			t.Errorf("domainOf(%q) = %q %v, want %q %v", c.in, got, ok, c.want, c.ok)
		}
	}
	// Not connected: a wait error for the sender; not configured: not found.
	if e := s.Route(context.Background(), stanza.NewIQ("set", "1"), jid.MustParse("push.example.org")); e == nil || e.Type != stanza.ErrWait {
		t.Errorf("route to a disconnected component: %v", e)
	}
	if e := s.Route(context.Background(), stanza.NewIQ("set", "1"), jid.MustParse("x.example")); e == nil || e.Condition != stanza.RemoteServerNotFound {
		t.Errorf("route to an unknown domain: %v", e)
	}
}

func TestConvertNS(t *testing.T) {
	m := stanza.NewElement(stanza.NSClient, "message", "to", "a@b")
	m.AddChild(stanza.NewElement(stanza.NSClient, "body"))
	m.AddChild(stanza.NewElement("urn:other", "x"))
	c := convertNS(m, stanza.NSClient, NS)
	if c.Space != NS || c.Children[0].Space != NS || c.Children[1].Space != "urn:other" {
		t.Fatalf("converted %v", c)
	}
	if m.Space != stanza.NSClient || m.Children[0].Space != stanza.NSClient {
		t.Fatal("the original was changed")
	}
	if back := convertNS(c, NS, stanza.NSClient); !stanza.Equal(back, m) {
		t.Fatalf("round trip %v", back)
	}
	if same := convertNS(m, "urn:none", NS); same != m {
		t.Fatal("copied without a change")
	}
}

func TestDigest(t *testing.T) {
	// printf '3BF96D32secret' | sha1sum
	const want = "b09ea9b3b7f586be8a08d0a3dd7466f110aeb136"
	if got := Digest("3BF96D32", "secret"); got != want {
		t.Fatalf("Digest = %q, want %q", got, want)
	}
	if !validDigest("3BF96D32", "secret", " "+strings.ToUpper(want)+"\n") || validDigest("3BF96D32", "other", want) {
		t.Fatal("validDigest")
	}
}
