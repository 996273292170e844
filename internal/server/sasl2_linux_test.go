package server

import (
	"bytes"
	"encoding/base64"
	"net"
	"regexp"
	"testing"
	"time"

	"github.com/parley-im/parley/internal/config"
)

const streamOpen = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'>"

func dialC2S(t *testing.T, ts *testServer) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", ts.addrs.C2S)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	return c
}

func sasl2Plain(user, pw, inline string) string {
	ir := base64.StdEncoding.EncodeToString([]byte("\x00" + user + "\x00" + pw))
	return "<authenticate xmlns='urn:xmpp:sasl:2' mechanism='PLAIN'><initial-response>" + ir +
		"</initial-response>" + inline + "</authenticate>"
}

// TestSASL2LoginIsOneWrite: a client that sends its stream open with a
// SASL2 <authenticate/> (XEP-0388) holding a Bind 2 <bind/> (XEP-0386)
// with stream management's enable gets the stream features (which offer
// SASL2 with Bind 2 inline), the success, the bound resource (its tag and a
// random part) and <enabled/> in one write: a PLAIN login in one round
// trip, with no stream restart. Stream management then works.
func TestSASL2LoginIsOneWrite(t *testing.T) {
	ts := startServer(t, func(c *config.Config) { c.AllowPlaintextAuth = true })
	ts.addUser(t, "alice", "pw-alice")
	c := dialC2S(t, ts)
	write(t, c, streamOpen+sasl2Plain("alice", "pw-alice",
		"<bind xmlns='urn:xmpp:bind:0'><tag>phone</tag><enable xmlns='urn:xmpp:sm:3' resume='true'/></bind>"))
	got := readUntil(t, c, "</success>")
	for _, want := range []string{
		`<authentication xmlns="urn:xmpp:sasl:2"><mechanism>`,
		`<inline><bind xmlns="urn:xmpp:bind:0"><inline><feature var="urn:xmpp:sm:3"`,
		`<success xmlns="urn:xmpp:sasl:2"><authorization-identifier>alice@localhost/phone-`,
		`<bound xmlns="urn:xmpp:bind:0"><enabled xmlns="urn:xmpp:sm:3" id="`,
	} {
		if !bytes.Contains(got, []byte(want)) {
			t.Fatalf("no %s in the answer %q", want, got)
		}
	}
	if !regexp.MustCompile(`<enabled [^>]*resume="true"`).Match(got) {
		t.Fatalf("stream management not resumable: %q", got)
	}
	if n := dataSegmentsIn(t, c); n != 1 {
		t.Fatalf("the login was answered in %d segments, want 1", n)
	}
	write(t, c, "<r xmlns='urn:xmpp:sm:3'/>")
	if a := readUntil(t, c, "/>"); !bytes.Contains(a, []byte(`<a xmlns="urn:xmpp:sm:3" h="0"`)) {
		t.Fatalf("answer to <r/>: %q", a)
	}
}

// TestSASL2WithoutBind: after a SASL2 success without Bind 2 the stream
// goes on without a restart: the features of an authenticated stream, and
// RFC 6120's resource binding.
func TestSASL2WithoutBind(t *testing.T) {
	ts := startServer(t, func(c *config.Config) { c.AllowPlaintextAuth = true })
	ts.addUser(t, "alice", "pw-alice")
	c := dialC2S(t, ts)
	write(t, c, streamOpen+sasl2Plain("alice", "pw-alice", ""))
	got := readUntil(t, c, "</success>")
	if !bytes.Contains(got, []byte(`<authorization-identifier>alice@localhost</authorization-identifier>`)) {
		t.Fatalf("success: %q", got)
	}
	_, features, _ := bytes.Cut(got, []byte("</success>"))
	if !bytes.Contains(features, []byte("</stream:features>")) {
		features = append(features, readUntil(t, c, "</stream:features>")...)
	}
	if !bytes.Contains(features, []byte(`<bind xmlns="urn:ietf:params:xml:ns:xmpp-bind"`)) {
		t.Fatalf("the features after the success: %q", features)
	}
	write(t, c, "<iq type='set' id='b1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>r</resource></bind></iq>")
	if got := readUntil(t, c, "</iq>"); !bytes.Contains(got, []byte("<jid>alice@localhost/r</jid>")) {
		t.Fatalf("bind result: %q", got)
	}
}

// TestSASL2Failure: a wrong password gets SASL2's <failure/> with SASL's
// condition, and the stream stays open for another attempt.
func TestSASL2Failure(t *testing.T) {
	ts := startServer(t, func(c *config.Config) { c.AllowPlaintextAuth = true })
	ts.addUser(t, "alice", "pw-alice")
	c := dialC2S(t, ts)
	write(t, c, streamOpen+sasl2Plain("alice", "wrong", ""))
	got := readUntil(t, c, "</failure>")
	if !bytes.Contains(got, []byte(`<failure xmlns="urn:xmpp:sasl:2"><not-authorized xmlns="urn:ietf:params:xml:ns:xmpp-sasl"`)) {
		t.Fatalf("failure: %q", got)
	}
	write(t, c, sasl2Plain("alice", "pw-alice", "<bind xmlns='urn:xmpp:bind:0'/>"))
	if got := readUntil(t, c, "</success>"); !bytes.Contains(got, []byte("<authorization-identifier>alice@localhost/parley-")) {
		t.Fatalf("second attempt: %q", got)
	}
}
