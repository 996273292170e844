package component

import (
	"context"
	"crypto/rand"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/parley-im/parley/internal/jid"
	"github.com/parley-im/parley/internal/stanza"
	"github.com/parley-im/parley/internal/wire/xmlstream"
)

// writeTimeout bounds one write to a component.
const writeTimeout = 30 * time.Second

// conn is one authenticated (or authenticating) component connection.
type conn struct {
	srv    *Server
	nc     net.Conn
	parser *xmlstream.Parser
	domain string
	out    chan *stanza.Element

	closeOnce sync.Once
	done      chan struct{}
	mu        sync.Mutex          // guards err
	err       *stanza.StreamError // sent before the stream end; guarded by mu
}

// handle runs one connection: handshake, then the read loop.
func (s *Server) handle(nc net.Conn) {
	c := &conn{srv: s, nc: nc, parser: xmlstream.NewParser(s.cfg.Limits),
		out: make(chan *stanza.Element, s.cfg.QueueSize), done: make(chan struct{})}
	defer nc.Close()
	if err := c.handshake(); err != nil {
		var se *stanza.StreamError
		if errors.As(err, &se) {
			c.fail(se)
		}
		s.cfg.Log.Info("component handshake failed", "remote", nc.RemoteAddr().String(), "domain", c.domain, "err", err)
		return
	}
	if !s.attach(c) {
		c.fail(stanza.NewStreamError(stanza.StreamSystemShutdown, "the server is shutting down"))
		return
	}
	s.cfg.Log.Info("component connected", "domain", c.domain, "remote", nc.RemoteAddr().String())
	writerDone := make(chan struct{})
	go func() { c.writeLoop(); close(writerDone) }()
	err := c.readLoop()
	s.detach(c)
	var se *stanza.StreamError
	if errors.As(err, &se) {
		c.close(se)
	} else {
		c.close(nil)
	}
	<-writerDone
	s.cfg.Log.Info("component disconnected", "domain", c.domain, "err", err)
}

// handshake reads the stream header and the <handshake/> (XEP-0114).
func (c *conn) handshake() error {
	_ = c.nc.SetDeadline(time.Now().Add(c.srv.cfg.HandshakeTimeout))
	defer func() { _ = c.nc.SetDeadline(time.Time{}) }()
	tok, err := c.next()
	if err != nil {
		return err
	}
	if tok.Kind != xmlstream.StreamStart || tok.Header.DefaultNS != NS {
		return stanza.NewStreamError(stanza.StreamInvalidNamespace, "a component stream is in "+NS)
	}
	c.domain = tok.Header.To
	secret, ok := c.srv.cfg.Secrets[c.domain]
	id := rand.Text()
	hdr := xmlstream.AppendStreamHeader(nil, xmlstream.StreamHeader{From: c.domain, ID: id, DefaultNS: NS})
	if _, err := c.nc.Write(hdr); err != nil {
		return err
	}
	if !ok {
		return stanza.NewStreamError(stanza.StreamHostUnknown, "no component is configured for this domain")
	}
	tok, err = c.next()
	if err != nil {
		return err
	}
	if tok.Kind != xmlstream.Stanza || tok.Element.Space != NS || tok.Element.Name != "handshake" {
		return stanza.NewStreamError(stanza.StreamNotAuthorized, "send <handshake/> first")
	}
	if !validDigest(id, secret, tok.Element.Text) {
		time.Sleep(time.Second) // slow down guessing
		return stanza.NewStreamError(stanza.StreamNotAuthorized, "wrong handshake")
	}
	_, err = c.nc.Write([]byte("<handshake/>"))
	return err
}

// Digest is the handshake value of a stream id and a secret: hex SHA-1.
func Digest(streamID, secret string) string {
	sum := sha1.Sum([]byte(streamID + secret))
	return hex.EncodeToString(sum[:])
}

func validDigest(id, secret, got string) bool {
	want := Digest(id, secret)
	return subtle.ConstantTimeCompare([]byte(want), []byte(strings.ToLower(strings.TrimSpace(got)))) == 1
}

// next returns the next token, reading from the socket as needed.
func (c *conn) next() (xmlstream.Token, error) {
	var buf [4096]byte
	for {
		tok, err := c.parser.Next()
		if err == nil {
			return tok, nil
		}
		if !errors.Is(err, xmlstream.ErrNeedMore) {
			return tok, err
		}
		n, rerr := c.nc.Read(buf[:])
		if n > 0 {
			c.parser.Feed(buf[:n])
			continue
		}
		if rerr == nil {
			rerr = io.ErrUnexpectedEOF
		}
		return tok, rerr
	}
}

// readLoop hands each stanza of the component to the router until the
// stream ends or fails.
func (c *conn) readLoop() error {
	for {
		tok, err := c.next()
		if err != nil {
			return err
		}
		switch tok.Kind {
		case xmlstream.StreamEnd:
			return nil
		case xmlstream.Stanza:
			if err := c.inbound(tok.Element); err != nil {
				return err
			}
		}
	}
}

// inbound routes one stanza from the component.
func (c *conn) inbound(el *stanza.Element) error {
	if el.Space != NS || (el.Name != stanza.KindMessage && el.Name != stanza.KindPresence && el.Name != stanza.KindIQ) {
		return stanza.NewStreamError(stanza.StreamUnsupportedStanza, "")
	}
	st := convertNS(el, NS, stanza.NSClient)
	from, err := st.From()
	if err != nil || from.IsZero() || !c.owns(from) {
		return stanza.NewStreamError("invalid-from", "stanzas must be from the component's domain")
	}
	if _, err := st.To(); err != nil || st.Attr("to") == "" {
		c.reply(st, stanza.NewError(stanza.JIDMalformed, "a stanza from a component needs a valid 'to'"))
		return nil
	}
	if serr := c.srv.cfg.Router.Route(context.Background(), st); serr != nil {
		c.reply(st, serr)
	}
	return nil
}

// owns reports whether j is the component's domain or a subdomain of it.
func (c *conn) owns(j jid.JID) bool {
	d := j.Domain()
	return d == c.domain || strings.HasSuffix(d, "."+c.domain)
}

// reply sends the component the error answer to st.
func (c *conn) reply(st *stanza.Element, e *stanza.Error) {
	if r := stanza.ErrorReply(st, e); r != nil {
		c.send(r)
	}
}

// send queues st (in jabber:client) for the component; false when the
// queue is full or the connection is closing.
func (c *conn) send(st *stanza.Element) bool {
	select {
	case <-c.done:
		return false
	default:
	}
	select {
	case c.out <- st:
		return true
	default:
		return false
	}
}

// writeLoop writes queued stanzas, as many as are waiting in one write,
// until the connection closes; then it writes the stream end.
func (c *conn) writeLoop() {
	var buf []byte
	for {
		select {
		case st := <-c.out:
			buf = c.appendStanza(buf[:0], st)
			for more := true; more; {
				select {
				case st := <-c.out:
					buf = c.appendStanza(buf, st)
				default:
					more = false
				}
			}
			if c.write(buf) != nil {
				c.close(nil)
			}
		case <-c.done:
			c.mu.Lock()
			se := c.err
			c.mu.Unlock()
			c.fail(se)
			return
		}
	}
}

func (c *conn) appendStanza(dst []byte, st *stanza.Element) []byte {
	return xmlstream.AppendElement(dst, convertNS(st, stanza.NSClient, NS), NS)
}

func (c *conn) write(b []byte) error {
	_ = c.nc.SetWriteDeadline(time.Now().Add(writeTimeout))
	_, err := c.nc.Write(b)
	return err
}

// fail writes se (if any) and the stream end, then closes the socket.
func (c *conn) fail(se *stanza.StreamError) {
	var b []byte
	if se != nil {
		b = xmlstream.AppendElement(b, se.Element(), NS)
	}
	b = xmlstream.AppendStreamEnd(b)
	_ = c.write(b)
	_ = c.nc.Close()
}

// close ends the connection with se (nil: a plain stream end); the writer
// sends it. Safe to call more than once.
func (c *conn) close(se *stanza.StreamError) {
	c.closeOnce.Do(func() {
		c.mu.Lock()
		c.err = se
		c.mu.Unlock()
		close(c.done)
	})
}

// convertNS returns st with its own namespace and its children's (at any
// depth) changed from "from" to "to": stanzas are jabber:client inside
// Parley and jabber:component:accept on a component stream. st is copied
// only when something changes.
func convertNS(st *stanza.Element, from, to string) *stanza.Element {
	if !usesNS(st, from) {
		return st
	}
	cp := st.Copy()
	var walk func(e *stanza.Element)
	walk = func(e *stanza.Element) {
		if e.Space == from {
			e.Space = to
		}
		for _, ch := range e.Children {
			walk(ch)
		}
	}
	walk(cp)
	return cp
}

func usesNS(e *stanza.Element, ns string) bool {
	if e.Space == ns {
		return true
	}
	for _, ch := range e.Children {
		if usesNS(ch, ns) {
			return true
		}
	}
	return false
}
