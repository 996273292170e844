package pep

import (
	"crypto/sha1"
	"encoding/base64"
	"testing"

	"github.com/parley-im/parley/internal/stanza"
)

// TestVerifyXEP0115Examples checks the verification hash against the
// simple and the complex example of XEP-0115 section 5.
func TestVerifyXEP0115Examples(t *testing.T) {
	simple := stanza.NewElement(stanza.NSDiscoInfo, "query")
	simple.AddChild(stanza.NewElement(stanza.NSDiscoInfo, "identity", "category", "client", "type", "pc", "name", "Exodus 0.9.1"))
	for _, f := range []string{"http://jabber.org/protocol/caps", "http://jabber.org/protocol/disco#info",
		"http://jabber.org/protocol/disco#items", "http://jabber.org/protocol/muc"} {
		simple.AddChild(stanza.NewElement(stanza.NSDiscoInfo, "feature", "var", f))
	}
	if got := verify("sha-1", simple); got != "QgayPKawpkPSDYmwT/WM94uAlu0=" {
		t.Errorf("simple example: %s", got)
	}

	complexQ := stanza.NewElement(stanza.NSDiscoInfo, "query")
	for _, id := range [][2]string{{"en", "Psi 0.11"}, {"el", "Ψ 0.11"}} {
		el := stanza.NewElement(stanza.NSDiscoInfo, "identity", "category", "client", "type", "pc", "name", id[1])
		el.Attrs = append(el.Attrs, stanza.Attr{Space: stanza.NSXML, Name: "lang", Value: id[0]})
		complexQ.AddChild(el)
	}
	for _, f := range []string{"http://jabber.org/protocol/caps", "http://jabber.org/protocol/disco#info",
		"http://jabber.org/protocol/disco#items", "http://jabber.org/protocol/muc"} {
		complexQ.AddChild(stanza.NewElement(stanza.NSDiscoInfo, "feature", "var", f))
	}
	x := stanza.NewElement(nsData, "x", "type", "result")
	field := func(v string, values ...string) {
		fl := stanza.NewElement(nsData, "field", "var", v)
		for _, val := range values {
			e := stanza.NewElement(nsData, "value")
			e.Text = val
			fl.AddChild(e)
		}
		x.AddChild(fl)
	}
	field("FORM_TYPE", "urn:xmpp:dataforms:softwareinfo")
	field("ip_version", "ipv4", "ipv6")
	field("os", "Mac")
	field("os_version", "10.5.1")
	field("software", "Psi")
	field("software_version", "0.11")
	complexQ.AddChild(x)
	if got := verify("sha-1", complexQ); got != "q07IKJEyjvHSyhy//CH0CxmKi8w=" {
		t.Errorf("complex example: %s", got)
	}
}

// TestVerifySortsFeaturesNotTheirTerminators: "x" sorts before "x+notify"
// (the "<" after each feature is not part of the sort).
func TestVerifySortsFeaturesNotTheirTerminators(t *testing.T) {
	q := stanza.NewElement(stanza.NSDiscoInfo, "query")
	q.AddChild(stanza.NewElement(stanza.NSDiscoInfo, "identity", "category", "client", "type", "phone"))
	for _, f := range []string{"urn:xmpp:avatar:metadata+notify", "urn:xmpp:avatar:metadata"} {
		q.AddChild(stanza.NewElement(stanza.NSDiscoInfo, "feature", "var", f))
	}
	sum := sha1.Sum([]byte("client/phone//<urn:xmpp:avatar:metadata<urn:xmpp:avatar:metadata+notify<"))
	if got, want := verify("sha-1", q), base64.StdEncoding.EncodeToString(sum[:]); got != want {
		t.Fatalf("verify = %s, want %s", got, want)
	}
	if got := notifyNodes(q); len(got) != 1 || !got["urn:xmpp:avatar:metadata"] {
		t.Fatalf("notifyNodes = %v", got)
	}
}
