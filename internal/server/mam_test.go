package server

// Message archive (XEP-0313) with the Go test client: preferences decide
// what each party's archive keeps, results precede the iq result, the
// query form.

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parley-im/parley/internal/stanza"
	"github.com/parley-im/parley/internal/xmpptest"
)

const nsMAM = "urn:xmpp:mam:2"

// archiveBodies runs a MAM query (optionally with a peer) and returns the
// archived bodies and the <fin/>; every result must arrive before the iq
// result.
func archiveBodies(t *testing.T, c *xmpptest.Client, with string) ([]string, *stanza.Element) {
	t.Helper()
	id := fmt.Sprintf("q%d", time.Now().UnixNano())
	form := ""
	if with != "" {
		form = "<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'><value>urn:xmpp:mam:2</value></field>" +
			"<field var='with'><value>" + with + "</value></field></x>"
	}
	c.SendRaw("<iq type='set' id='" + id + "'><query xmlns='urn:xmpp:mam:2' queryid='" + id + "'>" + form + "</query></iq>")
	var bodies []string
	for {
		el := c.Next(10 * time.Second)
		switch {
		case el == nil:
			t.Fatalf("%s: no answer to the archive query", c.JID)
		case el.Name == "iq" && el.ID() == id:
			if el.Type() != "result" {
				t.Fatalf("archive query refused: %v", el)
			}
			return bodies, el.Child(nsMAM, "fin")
		case el.Name == "message" && el.Child(nsMAM, "result") != nil:
			r := el.Child(nsMAM, "result")
			fwd := r.Child("urn:xmpp:forward:0", "forwarded")
			if r.Attr("queryid") != id || el.Attr("from") != strings.SplitN(c.JID, "/", 2)[0] || fwd == nil ||
				fwd.Child(stanza.NSDelay, "delay") == nil || fwd.Child(stanza.NSClient, "message") == nil {
				t.Fatalf("malformed result: %v", el)
			}
			bodies = append(bodies, fwd.Child(stanza.NSClient, "message").Body())
		}
	}
}

func setPrefs(t *testing.T, c *xmpptest.Client, xml string) *stanza.Element {
	t.Helper()
	c.SendRaw("<iq type='set' id='prefs'>" + xml + "</iq>")
	return c.Expect("prefs answer", xmpptest.IsIQResult("prefs")).Child(nsMAM, "prefs")
}

func TestArchivePreferencesDecideWhatEachArchiveKeeps(t *testing.T) {
	ts := startServer(t, nil)
	for _, u := range []string{"alice", "bob", "carol", "dave"} {
		ts.addUser(t, u, "pw-"+u)
	}
	bob := ts.login(t, "bob", "phone")
	// Never, except alice.
	p := setPrefs(t, bob, "<prefs xmlns='urn:xmpp:mam:2' default='never'><always><jid>alice@localhost</jid></always><never/></prefs>")
	if p == nil || p.Attr("default") != "never" || p.Child(nsMAM, "always").ChildText(nsMAM, "jid") != "alice@localhost" {
		t.Fatalf("prefs answer: %v", p)
	}
	bob.SendRaw("<iq type='get' id='getprefs'><prefs xmlns='urn:xmpp:mam:2'/></iq>")
	if g := bob.Expect("prefs", xmpptest.IsIQResult("getprefs")).Child(nsMAM, "prefs"); g.Attr("default") != "never" {
		t.Fatalf("prefs read back: %v", g)
	}
	alice, carol, dave := ts.login(t, "alice", "phone"), ts.login(t, "carol", "phone"), ts.login(t, "dave", "phone")
	sendAndSync(t, alice, "alice", 1)
	sendAndSync(t, carol, "carol", 1)
	if got, _ := archiveBodies(t, bob, ""); !slices.Equal(got, []string{"alice 0"}) {
		t.Fatalf("bob's archive with default never, always alice: %q", got)
	}
	// The sender's archive follows the sender's preferences (default always).
	if got, _ := archiveBodies(t, carol, ""); !slices.Equal(got, []string{"carol 0"}) {
		t.Fatalf("carol's own archive: %q", got)
	}

	// Roster: dave is a contact, carol is not.
	ts.befriend(t, "bob", "dave")
	setPrefs(t, bob, "<prefs xmlns='urn:xmpp:mam:2' default='roster'/>")
	sendAndSync(t, carol, "carol", 2)
	sendAndSync(t, dave, "dave", 1)
	if got, _ := archiveBodies(t, bob, ""); !slices.Equal(got, []string{"alice 0", "dave 0"}) {
		t.Fatalf("bob's archive with default roster: %q", got)
	}
	got, fin := archiveBodies(t, bob, "dave@localhost/anything")
	if !slices.Equal(got, []string{"dave 0"}) || fin.Attr("complete") != "true" {
		t.Fatalf("bob's archive with dave: %q %v", got, fin)
	}
}

func TestArchiveQueryFormAndBadRequests(t *testing.T) {
	ts := startServer(t, nil)
	ts.addUser(t, "alice", "pw-alice")
	c := ts.login(t, "alice", "phone")
	c.SendRaw("<iq type='get' id='form'><query xmlns='urn:xmpp:mam:2'/></iq>")
	r := c.Expect("form", xmpptest.IsIQResult("form"))
	x := r.Child(nsMAM, "query").Child("jabber:x:data", "x")
	var vars []string
	for _, f := range x.Children {
		vars = append(vars, f.Attr("var"))
	}
	if !slices.Equal(vars, []string{"FORM_TYPE", "with", "start", "end", "after-id", "before-id"}) {
		t.Fatalf("form fields %q", vars)
	}
	for id, q := range map[string]string{
		"bad-field": "<x xmlns='jabber:x:data' type='submit'><field var='fulltext'><value>x</value></field></x>",
		"bad-max":   "<set xmlns='http://jabber.org/protocol/rsm'><max>many</max></set>",
	} {
		c.SendRaw("<iq type='set' id='" + id + "'><query xmlns='urn:xmpp:mam:2'>" + q + "</query></iq>")
		e := c.Expect(id, func(el *stanza.Element) bool { return el.Name == "iq" && el.ID() == id })
		if pe := stanza.ParseError(e); e.Type() != "error" || pe == nil || pe.Condition != stanza.BadRequest {
			t.Fatalf("%s: %v, want bad-request", id, e)
		}
	}
}
