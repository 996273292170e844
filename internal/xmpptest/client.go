package xmpptest

import (
	"crypto/tls"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parley-im/parley/internal/stanza"
	"github.com/parley-im/parley/internal/wire/xmlstream"
	"github.com/xdg-go/scram"
)

// Options say how to connect.
type Options struct {
	Domain    string
	User      string // localpart
	Password  string
	Resource  string // "" lets the server choose
	Mechanism string // "PLAIN" (default), "SCRAM-SHA-1", "SCRAM-SHA-256"
	DirectTLS bool   // TLS from the first byte (XEP-0368)
	NoTLS     bool   // stay in plaintext (server needs --allow-plaintext-auth)
	EnableSM  bool   // enable stream management with resumption
	// AcksBeforeClose promises, in the <enable/>, an ack before the
	// stream closes (Parley's <acks-before-close/>): the server then asks
	// for acks lazily (docs/protocol/binary.md, "Acknowledgements").
	AcksBeforeClose bool
	NoBind          bool // stop after authentication (for resumption)
	// NoReader starts no background reader after binding: the caller
	// reads Conn itself (benchmarks that must not parse what they get).
	NoReader bool
}

// Client is a connected test client.
type Client struct {
	t      testing.TB
	opts   Options
	conn   net.Conn
	parser *xmlstream.Parser
	buf    []byte
	JID    string // full JID after binding
	// Features are the stream features offered after authentication.
	Features *stanza.Element
	SMID     string // stream-management resumption id
	wmu      sync.Mutex
	in       chan *stanza.Element
	done     chan struct{}
	readErr  error
	handled  atomic.Int64 // stanzas received since stream management was enabled
}

// Dial connects and negotiates; it fails the test on any error.
func Dial(t testing.TB, addr string, o Options) *Client {
	t.Helper()
	c, err := Connect(t, addr, o)
	if err != nil {
		t.Fatalf("connecting %s@%s: %v", o.User, o.Domain, err)
	}
	return c
}

// Connect is Dial returning the error instead of failing the test.
func Connect(t testing.TB, addr string, o Options) (*Client, error) {
	if o.Domain == "" {
		o.Domain = "localhost"
	}
	if o.Mechanism == "" {
		o.Mechanism = "PLAIN"
	}
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, err
	}
	c := &Client{t: t, opts: o, conn: conn, parser: xmlstream.NewParser(xmlstream.DefaultLimits()),
		buf: make([]byte, 8192), in: make(chan *stanza.Element, 4096), done: make(chan struct{})}
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if err := c.negotiate(); err != nil {
		conn.Close()
		return nil, err
	}
	_ = conn.SetDeadline(time.Time{})
	if !o.NoBind && !o.NoReader {
		c.StartReading()
	}
	t.Cleanup(func() { c.conn.Close() })
	return c, nil
}

func (c *Client) negotiate() error {
	if c.opts.DirectTLS {
		c.conn = tls.Client(c.conn, &tls.Config{InsecureSkipVerify: true, ServerName: c.opts.Domain})
	}
	features, err := c.open()
	if err != nil {
		return err
	}
	if !c.opts.DirectTLS && !c.opts.NoTLS {
		if features.Child(stanza.NSTLS, "starttls") == nil {
			return fmt.Errorf("no STARTTLS offered")
		}
		c.SendRaw("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
		if el, err := c.next(); err != nil || el.Name != "proceed" {
			return fmt.Errorf("starttls: %v %v", el, err)
		}
		c.conn = tls.Client(c.conn, &tls.Config{InsecureSkipVerify: true, ServerName: c.opts.Domain})
		c.parser.Reset()
		if features, err = c.open(); err != nil {
			return err
		}
	}
	if err := c.authenticate(features); err != nil {
		return err
	}
	c.parser.Reset()
	if c.Features, err = c.open(); err != nil {
		return err
	}
	if c.opts.NoBind {
		return nil
	}
	return c.bind()
}

// open sends a stream header and returns the server's features.
func (c *Client) open() (*stanza.Element, error) {
	c.SendRaw(fmt.Sprintf("<?xml version='1.0'?><stream:stream to='%s' version='1.0' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>", c.opts.Domain))
	for {
		tok, err := c.token()
		if err != nil {
			return nil, err
		}
		if tok.Kind == xmlstream.Stanza {
			if tok.Element.Name == "features" {
				return tok.Element, nil
			}
			return nil, fmt.Errorf("expected features, got %v", tok.Element)
		}
	}
}

func (c *Client) authenticate(features *stanza.Element) error {
	switch c.opts.Mechanism {
	case "PLAIN":
		resp := base64.StdEncoding.EncodeToString([]byte("\x00" + c.opts.User + "\x00" + c.opts.Password))
		c.SendRaw("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>" + resp + "</auth>")
		return c.saslOutcome(nil)
	case "SCRAM-SHA-1", "SCRAM-SHA-256":
		hg := scram.SHA256
		if c.opts.Mechanism == "SCRAM-SHA-1" {
			hg = scram.SHA1
		}
		cl, err := hg.NewClient(c.opts.User, c.opts.Password, "")
		if err != nil {
			return err
		}
		conv := cl.NewConversation()
		first, _ := conv.Step("")
		c.SendRaw("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='" + c.opts.Mechanism + "'>" +
			base64.StdEncoding.EncodeToString([]byte(first)) + "</auth>")
		return c.saslOutcome(conv)
	}
	return fmt.Errorf("unknown mechanism %s", c.opts.Mechanism)
}

func (c *Client) saslOutcome(conv *scram.ClientConversation) error {
	for {
		el, err := c.next()
		if err != nil {
			return err
		}
		data, _ := base64.StdEncoding.DecodeString(el.Text)
		switch el.Name {
		case "challenge":
			resp, err := conv.Step(string(data))
			if err != nil {
				return err
			}
			c.SendRaw("<response xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>" + base64.StdEncoding.EncodeToString([]byte(resp)) + "</response>")
		case "success":
			if conv != nil {
				if _, err := conv.Step(string(data)); err != nil {
					return fmt.Errorf("server signature: %w", err)
				}
			}
			return nil
		case "failure":
			return &AuthError{Condition: firstChildName(el)}
		default:
			return fmt.Errorf("unexpected %v", el)
		}
	}
}

// AuthError is a SASL failure.
type AuthError struct{ Condition string }

func (e *AuthError) Error() string { return "sasl failure: " + e.Condition }

func firstChildName(el *stanza.Element) string {
	if len(el.Children) > 0 {
		return el.Children[0].Name
	}
	return ""
}

func (c *Client) bind() error {
	res := ""
	if c.opts.Resource != "" {
		res = "<resource>" + c.opts.Resource + "</resource>"
	}
	c.SendRaw("<iq type='set' id='bind1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>" + res + "</bind></iq>")
	el, err := c.next()
	if err != nil {
		return err
	}
	if el.Type() != "result" {
		return fmt.Errorf("bind failed: %v", el)
	}
	c.JID = el.Child(stanza.NSBind, "bind").ChildText(stanza.NSBind, "jid")
	if c.opts.EnableSM {
		promise := ""
		if c.opts.AcksBeforeClose {
			promise = "<acks-before-close xmlns='urn:parley:0'/>"
		}
		c.SendRaw("<enable xmlns='urn:xmpp:sm:3' resume='true'>" + promise + "</enable>")
		el, err := c.next()
		if err != nil || el.Name != "enabled" {
			return fmt.Errorf("sm enable: %v %v", el, err)
		}
		c.SMID = el.Attr("id")
	}
	return nil
}

// StartReading starts the background reader (Dial does it after binding;
// call it yourself after Resume).
func (c *Client) StartReading() { go c.readLoop() }

// Resume resumes a previous stream-management session after authenticating.
func (c *Client) Resume(previd string, h int) (*stanza.Element, error) {
	c.SendRaw(fmt.Sprintf("<resume xmlns='urn:xmpp:sm:3' previd='%s' h='%d'/>", previd, h))
	return c.next()
}

// token reads the next token synchronously (negotiation only).
func (c *Client) token() (xmlstream.Token, error) {
	for {
		tok, err := c.parser.Next()
		if err == nil {
			return tok, nil
		}
		if err != xmlstream.ErrNeedMore {
			return tok, err
		}
		n, err := c.conn.Read(c.buf)
		if n > 0 {
			c.parser.Feed(c.buf[:n])
			continue
		}
		if err != nil {
			return tok, err
		}
	}
}

func (c *Client) next() (*stanza.Element, error) {
	for {
		tok, err := c.token()
		if err != nil {
			return nil, err
		}
		switch tok.Kind {
		case xmlstream.Stanza:
			return tok.Element, nil
		case xmlstream.StreamEnd:
			return nil, io.EOF
		}
	}
}

func (c *Client) readLoop() {
	defer close(c.done)
	for {
		el, err := c.next()
		if err != nil {
			c.readErr = err
			return
		}
		if c.SMID != "" && isStanza(el) {
			c.handled.Add(1)
		}
		c.in <- el
	}
}

// Handled is the number of stanzas received since stream management was
// enabled: the h a real client would report when it resumes.
func (c *Client) Handled() int { return int(c.handled.Load()) }

func isStanza(el *stanza.Element) bool {
	return el.Name == "message" || el.Name == "presence" || el.Name == "iq"
}

// AckProcessed acknowledges h stanzas (XEP-0198) and returns once the
// server has processed the ack: the server answers an <r/> sent after
// it, in order. A test that drops or hands off the stream right after a
// bare <a/> races with the server's reading of it. Elements read before
// the answer are lost, as with Expect; an answer to an earlier <r/> not
// read yet would end the wait too early.
func (c *Client) AckProcessed(h int) {
	c.t.Helper()
	c.SendRaw(fmt.Sprintf("<a xmlns='%s' h='%d'/><r xmlns='%s'/>", stanza.NSSM, h, stanza.NSSM))
	c.Expect("the server's answer to <r/>", func(el *stanza.Element) bool {
		return el.Space == stanza.NSSM && el.Name == "a"
	})
}

// Conn is the client's connection, for a caller that reads the stream
// itself (Options.NoReader).
func (c *Client) Conn() net.Conn { return c.conn }

// SendRaw writes raw bytes.
func (c *Client) SendRaw(s string) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_, _ = io.WriteString(c.conn, s)
}

// Send writes one element.
func (c *Client) Send(el *stanza.Element) {
	c.SendRaw(string(xmlstream.AppendElement(nil, el, stanza.NSClient)))
}

// Expect waits for an element that match accepts, skipping others (which
// are lost). It fails the test on timeout.
func (c *Client) Expect(what string, match func(*stanza.Element) bool) *stanza.Element {
	c.t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case el := <-c.in:
			if match(el) {
				return el
			}
		case <-c.done:
			c.t.Fatalf("%s: connection ended while waiting for %s: %v", c.JID, what, c.readErr)
		case <-timeout:
			c.t.Fatalf("%s: timed out waiting for %s", c.JID, what)
		}
	}
}

// Next returns the next element, or nil if none arrives within d.
func (c *Client) Next(d time.Duration) *stanza.Element {
	select {
	case el := <-c.in:
		return el
	case <-time.After(d):
		return nil
	}
}

// Closed waits for the server to end the stream and returns the stream
// error it sent, if any.
func (c *Client) Closed() *stanza.StreamError {
	c.t.Helper()
	var se *stanza.StreamError
	timeout := time.After(10 * time.Second)
	for {
		select {
		case el := <-c.in:
			if el.Space == stanza.NSStream && el.Name == "error" {
				se = stanza.ParseStreamError(el)
			}
		case <-c.done:
			for {
				select {
				case el := <-c.in:
					if el.Space == stanza.NSStream && el.Name == "error" {
						se = stanza.ParseStreamError(el)
					}
				default:
					return se
				}
			}
		case <-timeout:
			c.t.Fatalf("%s: server did not close the stream", c.JID)
			return nil
		}
	}
}

// StreamEnded waits for the connection to end and reports whether the
// server closed the stream properly (</stream:stream>) rather than just
// dropping the connection.
func (c *Client) StreamEnded() bool {
	select {
	case <-c.done:
	case <-time.After(10 * time.Second):
		c.t.Fatalf("%s: server did not close the stream", c.JID)
	}
	return c.readErr == io.EOF
}

// Drop closes the TCP connection without ending the stream (a lost network).
func (c *Client) Drop() { c.conn.Close() }

// Close ends the stream politely.
func (c *Client) Close() {
	c.SendRaw("</stream:stream>")
	select {
	case <-c.done:
	case <-time.After(5 * time.Second):
	}
	c.conn.Close()
}

// IsMessageWithBody matches a message whose body is body.
func IsMessageWithBody(body string) func(*stanza.Element) bool {
	return func(el *stanza.Element) bool { return el.Name == "message" && el.Body() == body }
}

// IsIQResult matches the result (or error) of the iq with this id.
func IsIQResult(id string) func(*stanza.Element) bool {
	return func(el *stanza.Element) bool { return el.Name == "iq" && el.ID() == id }
}
