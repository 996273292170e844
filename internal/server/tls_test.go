package server

import (
	"bytes"
	"crypto/tls"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/parley-im/parley/internal/stanza"
	"github.com/parley-im/parley/internal/xmpptest"
)

// flipAfterHandshake flips one bit in every write of a client's socket
// after its first two (ClientHello, Finished): each application data
// record the server receives fails authentication.
type flipAfterHandshake struct {
	net.Conn
	writes int
}

func (f *flipAfterHandshake) Write(p []byte) (int, error) {
	f.writes++
	if f.writes > 2 {
		p = bytes.Clone(p)
		p[len(p)-1] ^= 1
	}
	return f.Conn.Write(p)
}

// TestTamperedTLSRecordEndsOnlyItsConnection: a record changed on the way
// (direct TLS, TLS 1.3 on Parley's record layer) is never delivered: the
// server answers with bad_record_mac and closes that connection, and goes
// on serving everyone else.
func TestTamperedTLSRecordEndsOnlyItsConnection(t *testing.T) {
	ts := startServer(t, nil)
	ts.addUser(t, "alice", "pw-alice")
	ts.addUser(t, "bob", "pw-bob")
	bob := ts.login(t, "bob", "phone")

	raw, err := net.Dial("tcp", ts.addrs.C2STLS)
	if err != nil {
		t.Fatal(err)
	}
	tc := tls.Client(&flipAfterHandshake{Conn: raw}, &tls.Config{InsecureSkipVerify: true})
	defer tc.Close()
	_ = tc.SetDeadline(time.Now().Add(10 * time.Second))
	if err := tc.Handshake(); err != nil {
		t.Fatal(err)
	}
	if v := tc.ConnectionState().Version; v != tls.VersionTLS13 {
		t.Fatalf("negotiated version %x, want TLS 1.3", v)
	}
	if _, err := tc.Write([]byte("<?xml version='1.0'?><stream:stream xmlns='jabber:client' " +
		"xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'>")); err != nil {
		t.Fatal(err)
	}
	var got []byte
	buf := make([]byte, 4096)
	for {
		n, err := tc.Read(buf)
		got = append(got, buf[:n]...)
		if err != nil {
			if !strings.Contains(err.Error(), "bad record MAC") {
				t.Fatalf("client read %q then %v, want the server's bad_record_mac alert", got, err)
			}
			break
		}
	}
	if len(got) != 0 {
		t.Fatalf("the server answered a tampered stream header with %q", got)
	}

	alice := xmpptest.Dial(t, ts.addrs.C2STLS, xmpptest.Options{User: "alice", Password: "pw-alice", Resource: "laptop", DirectTLS: true})
	alice.SendRaw("<message to='bob@localhost/phone' id='m1' type='chat'><body>still serving</body></message>")
	m := bob.Expect("alice's message", func(el *stanza.Element) bool { return el.Name == "message" && el.ID() == "m1" })
	if m.ChildText("", "body") != "still serving" {
		t.Fatalf("bob got %v", m)
	}
}
