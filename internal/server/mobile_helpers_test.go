package server

// Helpers for mobile_test.go: a connection that stops before
// authentication (for in-band registration), disco, roster set-up.

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"slices"
	"testing"
	"time"

	"github.com/parley-im/parley/internal/stanza"
	"github.com/parley-im/parley/internal/store"
	"github.com/parley-im/parley/internal/wire/xmlstream"
	"github.com/parley-im/parley/internal/xmpptest"
)

// preAuth is a client stream that has not authenticated.
type preAuth struct {
	t        *testing.T
	conn     net.Conn
	parser   *xmlstream.Parser
	buf      []byte
	features *stanza.Element
}

// dialPreAuth opens a stream, with STARTTLS unless plain.
func dialPreAuth(t *testing.T, addr string, plain bool) *preAuth {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	_ = nc.SetDeadline(time.Now().Add(10 * time.Second))
	c := &preAuth{t: t, conn: nc, parser: xmlstream.NewParser(xmlstream.DefaultLimits()), buf: make([]byte, 8192)}
	c.open()
	if plain {
		return c
	}
	c.send("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
	if el := c.next(); el.Name != "proceed" {
		t.Fatalf("starttls: got %v", el)
	}
	c.conn = tls.Client(nc, &tls.Config{InsecureSkipVerify: true, ServerName: "localhost"})
	c.parser.Reset()
	c.open()
	return c
}

func (c *preAuth) send(s string) {
	if _, err := io.WriteString(c.conn, s); err != nil {
		c.t.Fatal(err)
	}
}

// open sends a stream header and keeps the features.
func (c *preAuth) open() {
	c.t.Helper()
	c.send("<?xml version='1.0'?><stream:stream to='localhost' version='1.0' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>")
	c.features = c.next()
	if c.features.Name != "features" {
		c.t.Fatalf("expected stream features, got %v", c.features)
	}
}

// next returns the next element (failing the test at the stream's end).
func (c *preAuth) next() *stanza.Element {
	c.t.Helper()
	for {
		tok, err := c.parser.Next()
		if err == nil {
			if tok.Kind == xmlstream.Stanza {
				return tok.Element
			}
			if tok.Kind == xmlstream.StreamEnd {
				c.t.Fatal("the server ended the stream")
			}
			continue
		}
		if err != xmlstream.ErrNeedMore {
			c.t.Fatal(err)
		}
		n, err := c.conn.Read(c.buf)
		if n > 0 {
			c.parser.Feed(c.buf[:n])
		} else if err != nil {
			c.t.Fatal(err)
		}
	}
}

// offersRegistration reports whether the features announce XEP-0077.
func (c *preAuth) offersRegistration() bool {
	return c.features.Child(stanza.NSRegisterFeature, "register") != nil
}

// register sends a jabber:iq:register set and returns the error condition
// ("" for a result).
func (c *preAuth) register(id, username, password string) string {
	c.t.Helper()
	c.send(fmt.Sprintf("<iq type='set' id='%s'><query xmlns='jabber:iq:register'><username>%s</username><password>%s</password></query></iq>",
		id, username, password))
	return c.answer(id)
}

// answer waits for the iq answer with this id and returns its error
// condition ("" for a result).
func (c *preAuth) answer(id string) string {
	c.t.Helper()
	for {
		el := c.next()
		if el.Name == "iq" && el.ID() == id {
			return errorCondition(el)
		}
	}
}

// discoFeatures returns the server's disco#info features.
func discoFeatures(t *testing.T, c *xmpptest.Client) []string {
	t.Helper()
	c.SendRaw("<iq type='get' id='disco' to='localhost'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>")
	r := c.Expect("disco#info", xmpptest.IsIQResult("disco"))
	var out []string
	for _, f := range r.Child(stanza.NSDiscoInfo, "query").Children {
		if f.Name == "feature" {
			out = append(out, f.Attr("var"))
		}
	}
	return out
}

func hasFeature(t *testing.T, c *xmpptest.Client, v string) bool {
	t.Helper()
	return slices.Contains(discoFeatures(t, c), v)
}

// befriend makes a and b subscribed to each other's presence (stored
// directly: the handshake itself is tested elsewhere).
func (ts *testServer) befriend(t *testing.T, a, b string) {
	t.Helper()
	for _, p := range [][2]string{{a, b}, {b, a}} {
		_, err := ts.store.PutRosterItem(context.Background(), p[0]+"@localhost",
			store.RosterItem{JID: p[1] + "@localhost", Subscription: store.SubBoth})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// none fails if c received an element matching match (after a barrier).
func none(t *testing.T, c *xmpptest.Client, what string, match func(*stanza.Element) bool) {
	t.Helper()
	id := fmt.Sprintf("none-%d", time.Now().UnixNano())
	c.SendRaw("<iq type='get' id='" + id + "' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>")
	for {
		el := c.Next(10 * time.Second)
		if el == nil {
			t.Fatalf("%s: no ping answer", c.JID)
		}
		if el.Name == "iq" && el.ID() == id {
			return
		}
		if match(el) {
			t.Fatalf("%s got %s: %v", c.JID, what, el)
		}
	}
}
