package push

import (
	"strings"
	"testing"

	"github.com/parley-im/parley/internal/stanza"
	"github.com/parley-im/parley/internal/store"
	"github.com/parley-im/parley/internal/wire/xmlstream"
)

func parse(t *testing.T, s string) *stanza.Element {
	t.Helper()
	el, err := xmlstream.ParseElement([]byte(s), stanza.NSClient, xmlstream.DefaultLimits())
	if err != nil {
		t.Fatalf("%s: %v", s, err)
	}
	return el
}

func TestParseEnable(t *testing.T) {
	el := parse(t, `<enable xmlns='urn:xmpp:push:0' jid='push.example.org' node='yxs32'>
		<x xmlns='jabber:x:data' type='submit'>
			<field var='FORM_TYPE'><value>http://jabber.org/protocol/pubsub#publish-options</value></field>
			<field var='secret'><value>eruio234vzxc2kla-91</value></field>
		</x></enable>`)
	r, err := parseEnable(el)
	if err != nil {
		t.Fatal(err)
	}
	if r.Service != "push.example.org" || r.Node != "yxs32" || len(r.Options) != 2 ||
		r.Options[1].Var != "secret" || r.Options[1].Values[0] != "eruio234vzxc2kla-91" {
		t.Fatalf("got %+v", r)
	}
	for _, bad := range []struct{ xml, cond string }{
		{`<enable xmlns='urn:xmpp:push:0' node='n'/>`, "jid-malformed"},
		{`<enable xmlns='urn:xmpp:push:0' jid='push.example.org'/>`, "bad-request"},
		{`<enable xmlns='urn:xmpp:push:0' jid='a@@b' node='n'/>`, "jid-malformed"},
		{`<enable xmlns='urn:xmpp:push:0' jid='p.example' node='n'><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE'><value>urn:other</value></field></x></enable>`, "bad-request"},
		{`<enable xmlns='urn:xmpp:push:0' jid='p.example' node='n'><x xmlns='jabber:x:data' type='submit'><field><value>v</value></field></x></enable>`, "bad-request"},
		{`<enable xmlns='urn:xmpp:push:0' jid='p.example' node='n'><x xmlns='jabber:x:data' type='submit'><field var='big'><value>` + strings.Repeat("v", 5000) + `</value></field></x></enable>`, "not-acceptable"},
	} {
		if _, err := parseEnable(parse(t, bad.xml)); err == nil || string(err.Condition) != bad.cond {
			t.Errorf("%s: got %v, want %s", bad.xml, err, bad.cond)
		}
	}
}

// summary returns the notification form's fields of a publish iq.
func summary(t *testing.T, iq *stanza.Element) map[string]string {
	t.Helper()
	x := iq.Child(NSPubSub, "pubsub").Child(NSPubSub, "publish").Child(NSPubSub, "item").
		Child(NS, "notification").Child(NSData, "x")
	out := map[string]string{}
	for _, f := range x.Children {
		out[f.Attr("var")] = f.ChildText(NSData, "value")
	}
	return out
}

func TestPublishIQ(t *testing.T) {
	r := store.PushRegistration{Service: "push.example.org", Node: "yxs32", Options: []store.PushField{
		{Var: "FORM_TYPE", Values: []string{NSPublishOptions}}, {Var: "secret", Values: []string{"s3"}}}}
	n := notice{user: "bob@example.org", count: 3, sender: "alice@example.org", body: "secret words"}

	// Round trip through the serializer, as the component gets it.
	iq := parse(t, string(xmlstream.AppendElement(nil, publishIQ(r, n, false), "")))
	if iq.Attr("from") != "bob@example.org" || iq.Attr("to") != "push.example.org" || iq.Type() != "set" {
		t.Fatalf("iq attributes: %v", iq)
	}
	if got := iq.Child(NSPubSub, "pubsub").Child(NSPubSub, "publish").Attr("node"); got != "yxs32" {
		t.Fatalf("node %q", got)
	}
	f := summary(t, iq)
	if f["FORM_TYPE"] != NSSummary || f["message-count"] != "3" || f["last-message-sender"] != "alice@example.org" {
		t.Fatalf("summary %v", f)
	}
	if _, ok := f["last-message-body"]; ok || strings.Contains(iq.String(), "secret words") {
		t.Fatalf("the body is sent by default: %v", iq)
	}
	po := iq.Child(NSPubSub, "pubsub").Child(NSPubSub, "publish-options").Child(NSData, "x")
	if po == nil || len(po.Children) != 2 || po.Children[1].ChildText(NSData, "value") != "s3" {
		t.Fatalf("publish-options %v", po)
	}
	// With IncludeBody the body is there; without options no publish-options.
	r.Options = nil
	iq = publishIQ(r, n, true)
	if summary(t, iq)["last-message-body"] != "secret words" || iq.Child(NSPubSub, "pubsub").Child(NSPubSub, "publish-options") != nil {
		t.Fatalf("with body, no options: %v", iq)
	}
}

func TestImportantAndStored(t *testing.T) {
	sid := `<stanza-id xmlns='urn:xmpp:sid:0' id='1' by='bob@x'/>`
	for _, c := range []struct {
		xml       string
		important bool
	}{
		{`<message type='chat'><body>hi</body></message>`, true},
		{`<message><body>hi</body></message>`, true},
		{`<message type='chat'><encrypted xmlns='eu.siacs.conversations.axolotl'/></message>`, true},
		{`<message type='chat'><received xmlns='urn:xmpp:receipts' id='a'/></message>`, false},
		{`<message type='chat'><active xmlns='http://jabber.org/protocol/chatstates'/></message>`, false},
		{`<message type='headline'><body>news</body></message>`, false},
		{`<message type='groupchat'><body>hi</body></message>`, true}, // pushed only if stored (a group's post)
	} {
		if got := important(parse(t, c.xml)); got != c.important {
			t.Errorf("important(%s) = %v", c.xml, got)
		}
	}
	if !storedFor(parse(t, `<message>`+sid+`</message>`), "bob@x") || storedFor(parse(t, `<message>`+sid+`</message>`), "carol@x") {
		t.Error("storedFor")
	}
}
