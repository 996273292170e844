package server

// A small XEP-0114 component for the push scenarios, written with the
// standard library and our XML parser: it connects over TCP, performs the
// handshake, answers every iq set it gets (the app server's side of a
// pubsub publish) and records what it received. No public push gateway is
// installed here; this is the protocol a Conversations-style gateway speaks.

import (
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/parley-im/parley/internal/config"
	"github.com/parley-im/parley/internal/jid"
	"github.com/parley-im/parley/internal/stanza"
	"github.com/parley-im/parley/internal/wire/xmlstream"
)

const nsComponent = "jabber:component:accept"

// testComponent is a connected, authenticated component.
type testComponent struct {
	t       *testing.T
	domain  string
	conn    net.Conn
	parser  *xmlstream.Parser
	got     chan *stanza.Element
	answer  func(iq *stanza.Element) string // the raw answer to an iq set; nil: an empty result
	done    chan struct{}
	readErr error
}

// componentConfig turns on the component listener with one component,
// push.localhost, whose secret is in a file; it returns the secret.
func componentConfig(t *testing.T, c *config.Config) string {
	t.Helper()
	const secret = "s3cret-of-the-push-gateway"
	file := filepath.Join(t.TempDir(), "push.secret")
	if err := os.WriteFile(file, []byte(secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c.Component = "127.0.0.1:0"
	c.ComponentSecrets = "push.localhost=" + file
	return secret
}

// dialComponentRaw opens a component stream and sends the handshake; it
// returns the component and the server's answer to the handshake (the
// empty <handshake/>, or a stream error).
func dialComponentRaw(t *testing.T, addr, domain, secret string) (*testComponent, *stanza.Element, error) {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, nil, err
	}
	c := &testComponent{t: t, domain: domain, conn: nc, parser: xmlstream.NewParser(xmlstream.DefaultLimits()),
		got: make(chan *stanza.Element, 64), done: make(chan struct{})}
	t.Cleanup(func() { nc.Close() })
	_ = nc.SetDeadline(time.Now().Add(10 * time.Second))
	c.write(fmt.Sprintf("<?xml version='1.0'?><stream:stream xmlns='%s' xmlns:stream='http://etherx.jabber.org/streams' to='%s'>",
		nsComponent, domain))
	tok, err := c.token()
	if err != nil {
		return nil, nil, err
	}
	if tok.Kind != xmlstream.StreamStart || tok.Header.ID == "" || tok.Header.From != domain {
		return nil, nil, fmt.Errorf("stream header %+v", tok.Header)
	}
	sum := sha1.Sum([]byte(tok.Header.ID + secret))
	c.write("<handshake>" + hex.EncodeToString(sum[:]) + "</handshake>")
	tok, err = c.token()
	if err != nil {
		return c, nil, err
	}
	_ = nc.SetDeadline(time.Time{})
	return c, tok.Element, nil
}

// dialComponent connects and authenticates, then reads in the background.
func dialComponent(t *testing.T, addr, domain, secret string) *testComponent {
	t.Helper()
	c, answer, err := dialComponentRaw(t, addr, domain, secret)
	if err != nil {
		t.Fatalf("component %s: %v", domain, err)
	}
	if answer == nil || answer.Space != nsComponent || answer.Name != "handshake" {
		t.Fatalf("component %s: handshake answered with %v", domain, answer)
	}
	go c.readLoop()
	return c
}

func (c *testComponent) write(s string) {
	if _, err := c.conn.Write([]byte(s)); err != nil {
		c.t.Errorf("component write: %v", err)
	}
}

func (c *testComponent) token() (xmlstream.Token, error) {
	buf := make([]byte, 4096)
	for {
		tok, err := c.parser.Next()
		if !errors.Is(err, xmlstream.ErrNeedMore) {
			return tok, err
		}
		n, err := c.conn.Read(buf)
		if n > 0 {
			c.parser.Feed(buf[:n])
			continue
		}
		return xmlstream.Token{}, err
	}
}

// readLoop records every stanza and answers iq requests like an app server.
func (c *testComponent) readLoop() {
	defer close(c.done)
	for {
		tok, err := c.token()
		if err != nil || tok.Kind == xmlstream.StreamEnd {
			c.readErr = err
			return
		}
		el := tok.Element
		if el.Name == "iq" && (el.Type() == "set" || el.Type() == "get") {
			if c.answer != nil {
				c.write(c.answer(el))
			} else {
				c.write(fmt.Sprintf("<iq type='result' id='%s' from='%s' to='%s'/>", el.ID(), el.Attr("to"), el.Attr("from")))
			}
		}
		c.got <- el
	}
}

// expectPublish waits for the next pubsub publish.
func (c *testComponent) expectPublish(what string) *stanza.Element {
	c.t.Helper()
	timeout := time.After(15 * time.Second)
	for {
		select {
		case el := <-c.got:
			if el.Name == "iq" && el.Child("http://jabber.org/protocol/pubsub", "pubsub") != nil {
				return el
			}
		case <-timeout:
			c.t.Fatalf("%s: the component got no publish", what)
			return nil
		}
	}
}

// noPublish fails if a publish arrives within d.
func (c *testComponent) noPublish(what string, d time.Duration) {
	c.t.Helper()
	timeout := time.After(d)
	for {
		select {
		case el := <-c.got:
			if el.Name == "iq" && el.Child("http://jabber.org/protocol/pubsub", "pubsub") != nil {
				c.t.Fatalf("%s: unexpected publish %v", what, el)
			}
		case <-timeout:
			return
		}
	}
}

// pushSummary returns the fields of a publish's notification form and its
// node, failing on anything XEP-0357 does not describe.
func pushSummary(t *testing.T, iq *stanza.Element) (node string, fields map[string]string, options map[string]string) {
	t.Helper()
	const ps = "http://jabber.org/protocol/pubsub"
	pub := iq.Child(ps, "pubsub").Child(ps, "publish")
	x := pub.Child(ps, "item").Child("urn:xmpp:push:0", "notification").Child("jabber:x:data", "x")
	fields = map[string]string{}
	for _, f := range x.Children {
		fields[f.Attr("var")] = f.ChildText("jabber:x:data", "value")
	}
	options = map[string]string{}
	if po := iq.Child(ps, "pubsub").Child(ps, "publish-options"); po != nil {
		for _, f := range po.Child("jabber:x:data", "x").Children {
			options[f.Attr("var")] = f.ChildText("jabber:x:data", "value")
		}
	}
	return pub.Attr("node"), fields, options
}

// waitGone waits until the user has no session left on the server.
func (ts *testServer) waitGone(t *testing.T, user string) {
	t.Helper()
	u := jid.MustParse(user)
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if len(ts.reg.Devices(u)) == 0 {
			return
		}
	}
	t.Fatalf("%s still has sessions", user)
}

// waitDetached waits until every session of the user waits for resumption.
func (ts *testServer) waitDetached(t *testing.T, user string) {
	t.Helper()
	u := jid.MustParse(user)
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		devs := ts.reg.Devices(u)
		all := len(devs) > 0
		for _, d := range devs {
			if dd, ok := d.(interface{ Detached() bool }); !ok || !dd.Detached() {
				all = false
			}
		}
		if all {
			return
		}
	}
	t.Fatalf("%s has no detached session", user)
}

func isStreamError(el *stanza.Element, cond string) bool {
	if el == nil || el.Space != stanza.NSStream || el.Name != "error" {
		return false
	}
	return stanza.ParseStreamError(el).Condition == stanza.Condition(cond)
}

func sprintf(format string, args ...any) string { return fmt.Sprintf(format, args...) }
