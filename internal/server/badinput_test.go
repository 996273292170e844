package server

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/parley-im/parley/internal/xmpptest"
)

// badInputs are byte sequences a broken or hostile client may send, each
// with the stream error condition RFC 6120 section 4.9.3 prescribes.
var badInputs = []struct {
	name      string
	payload   func() string
	condition string
}{
	{"malformed XML", func() string { return "<message to='bob@localhost'><body>x</message>" }, "not-well-formed"},
	{"invalid UTF-8", func() string { return "<message to='bob@localhost'><body>\xff\xfe\xfd</body></message>" }, "not-well-formed"},
	{"undefined entity", func() string { return "<message to='bob@localhost'><body>&bogus;</body></message>" }, "restricted-xml"}, // RFC 6120 4.9.3.18: entity references
	{"comment", func() string { return "<!-- hello --><message/>" }, "restricted-xml"},
	{"processing instruction", func() string { return "<?php echo 1 ?><message/>" }, "restricted-xml"},
	{"DTD", func() string { return "<!DOCTYPE x [<!ENTITY a 'b'>]><message/>" }, "restricted-xml"},
	{"1 MiB stanza", func() string {
		return "<message to='bob@localhost'><body>" + strings.Repeat("A", 1<<20) + "</body></message>"
	}, "policy-violation"},
}

// TestBadInputFromALoggedInClient sends each bad input from an
// authenticated session: the sender gets its stream error, while the other
// clients keep chatting, new logins work and stored messages survive.
func TestBadInputFromALoggedInClient(t *testing.T) {
	ts := startServer(t, nil)
	for _, u := range []string{"alice", "bob", "carol", "dave"} {
		ts.addUser(t, u, "pw-"+u)
	}
	bob := ts.login(t, "bob", "phone")
	carol := ts.login(t, "carol", "phone")
	bob.SendRaw("<presence/>")
	carol.SendRaw("<presence/>")
	// Something stored for an offline user before the attacks.
	carol.SendRaw("<message to='dave@localhost' type='chat' id='kept'><body>stored before</body></message>")
	time.Sleep(100 * time.Millisecond)

	for i, bad := range badInputs {
		t.Run(bad.name, func(t *testing.T) {
			alice := ts.login(t, "alice", fmt.Sprintf("r%d", i))
			alice.SendRaw(bad.payload())
			se := alice.Closed()
			if se == nil || string(se.Condition) != bad.condition {
				t.Fatalf("got stream error %v, want %s", se, bad.condition)
			}
			// Everyone else is unaffected.
			body := fmt.Sprintf("still here %d", i)
			carol.SendRaw(fmt.Sprintf("<message to='bob@localhost/phone' type='chat'><body>%s</body></message>", body))
			bob.Expect("message after "+bad.name, xmpptest.IsMessageWithBody(body))
			// New logins work.
			ts.login(t, "alice", fmt.Sprintf("again%d", i)).Close()
		})
	}

	dave := ts.login(t, "dave", "phone")
	dave.SendRaw("<presence/>")
	dave.Expect("the message stored before the bad input", xmpptest.IsMessageWithBody("stored before"))
}

// TestBadInputBeforeTheStreamHeader covers bytes that arrive before any
// authentication, on a raw TCP connection.
func TestBadInputBeforeTheStreamHeader(t *testing.T) {
	ts := startServer(t, nil)
	ts.addUser(t, "alice", "pw-alice")
	header := "<?xml version='1.0'?><stream:stream to='localhost' version='1.0' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>"
	cases := []struct {
		name, send, condition string
	}{
		{"garbage before the header", "GET / HTTP/1.1\r\nHost: x\r\n\r\n", "not-well-formed"},
		{"binary garbage", "\x00\x01\x02\x03\xff", "not-well-formed"},
		{"wrong stream namespace", "<stream:stream to='localhost' version='1.0' xmlns='jabber:client' xmlns:stream='urn:wrong'>", "invalid-namespace"},
		{"malformed after the header", header + "<iq><</iq>", "not-well-formed"},
		{"undefined entity after the header", header + "<iq type='get' id='&x;'/>", "restricted-xml"},
		{"invalid UTF-8 after the header", header + "<iq type='get' id='\xc3\x28'/>", "not-well-formed"},
		{"1 MiB before authentication", header + "<iq type='get' id='" + strings.Repeat("b", 1<<20) + "'/>", "policy-violation"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := rawExchange(t, ts.addrs.C2S, c.send)
			if !strings.Contains(got, "<"+c.condition+" ") && !strings.Contains(got, "<"+c.condition+"/>") {
				t.Fatalf("server answered %q, want a %s stream error", clip(got), c.condition)
			}
			if !strings.HasSuffix(strings.TrimSpace(got), "</stream:stream>") {
				t.Fatalf("server did not end the stream: %q", clip(got))
			}
		})
	}
	// The server still accepts logins.
	ts.login(t, "alice", "after").Close()
}

// rawExchange writes send to a fresh connection and returns everything the
// server wrote until it closed the connection.
func rawExchange(t *testing.T, addr, send string) string {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	go func() { _, _ = io.WriteString(c, send) }()
	var buf bytes.Buffer
	if _, err := io.Copy(&buf, c); err != nil && !isReset(err) {
		t.Fatalf("reading the answer: %v (so far %q)", err, clip(buf.String()))
	}
	return buf.String()
}

// isReset reports a connection reset: the server may close while our
// writer still has unread bytes in flight.
func isReset(err error) bool {
	return strings.Contains(err.Error(), "connection reset")
}

func clip(s string) string {
	if len(s) > 400 {
		return s[:400] + "..."
	}
	return s
}
