package c2s

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parley-im/parley/internal/jid"
	"github.com/parley-im/parley/internal/session"
	"github.com/parley-im/parley/internal/stanza"
	"github.com/parley-im/parley/internal/wire/xmlstream"
)

const readBufferSize = 4096

// conn is one client connection, from accept to close.
type conn struct {
	srv      *Server
	nc       net.Conn // the current connection (a *tls.Conn after TLS starts)
	kind     Kind
	fr       framing
	in       inbound     // decodes what the client sends
	idle     *idleWaiter // set once the session runs: idle reads hold no buffer
	remoteIP netip.Addr
	secure   bool // TLS is on (or the connection is trusted as secure)
	tlsState *tls.ConnectionState

	user     jid.JID // authenticated bare JID, zero before SASL success
	streamID string
	out      []byte // negotiation output

	wmu  sync.Mutex // serializes writes to nc (session writes, pongs)
	tr   *transport
	sess *session.Session
	// bound is set once sess is (read by Server.Shutdown from another
	// goroutine, which must not read sess itself).
	bound atomic.Bool
}

func newConn(srv *Server, nc net.Conn, kind Kind) *conn {
	c := &conn{srv: srv, nc: nc, kind: kind}
	if ap, err := netip.ParseAddrPort(nc.RemoteAddr().String()); err == nil {
		c.remoteIP = ap.Addr().Unmap()
	}
	pong := func(payload []byte) { _ = c.write(wsAppendFrame(nil, wsOpPong, payload)) }
	lim := srv.cfg.Limits
	switch kind {
	case WebSocket:
		c.fr = wsFraming{}
		c.in = &wsInbound{r: wsReader{maxMessage: lim.MaxStanzaBytes}, limits: lim, pong: pong}
	case Binary:
		c.fr = newBinaryFraming(srv.cfg.Domain, false)
		c.in = newBinaryInbound(lim)
	case BinaryWebSocket:
		c.fr = newBinaryFraming(srv.cfg.Domain, true)
		c.in = &wsBinaryInbound{r: wsReader{maxMessage: lim.MaxStanzaBytes + 16}, bin: newBinaryInbound(lim), pong: pong}
	default:
		c.fr = tcpFraming{}
		c.in = &xmlInbound{p: xmlstream.NewParser(lim)}
	}
	c.tr = &transport{c: c}
	return c
}

// errStreamEnd is returned by next when the client closed its stream.
var errStreamEnd = errors.New("c2s: stream closed by client")

// next returns the next token, reading as needed. beforeBlock runs before
// each read that may block (to flush what was produced so far).
func (c *conn) next(beforeBlock func()) (xmlstream.Token, error) {
	for {
		tok, err := c.in.next()
		if !errors.Is(err, xmlstream.ErrNeedMore) {
			return tok, err
		}
		if beforeBlock != nil {
			beforeBlock()
		}
		if _, err := c.read(); err != nil {
			return xmlstream.Token{}, err
		}
	}
}

// read feeds the next bytes from the client to the decoder: while a
// session runs, waiting without a buffer; during negotiation, a plain
// blocking read into a pooled buffer.
func (c *conn) read() (int, error) {
	feed := func(b []byte) {
		if c.sess != nil {
			c.sess.Touch()
		}
		c.in.feed(b)
	}
	if c.idle != nil {
		return c.idle.read(c.srv.bufs, feed)
	}
	buf := c.srv.bufs.get()
	defer c.srv.bufs.put(buf)
	n, err := c.nc.Read(*buf)
	if n > 0 {
		feed((*buf)[:n])
		return n, nil
	}
	return n, err
}

// write sends b with the write deadline.
func (c *conn) write(b []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if err := c.nc.SetWriteDeadline(time.Now().Add(c.srv.cfg.WriteTimeout)); err != nil {
		return err
	}
	_, err := c.nc.Write(b)
	return err
}

// flushNegotiation writes pending negotiation output.
func (c *conn) flushNegotiation() error {
	if len(c.out) == 0 {
		return nil
	}
	err := c.write(c.out)
	c.out = c.out[:0]
	return err
}

// serve runs the connection to its end.
func (c *conn) serve(ctx context.Context) {
	defer c.srv.untrack(c)
	if err := c.negotiate(ctx); err != nil {
		c.failNegotiation(err)
		return
	}
	c.idle = newIdleWaiter(c.nc)
	c.runSession()
}

// failNegotiation ends a connection that never got a session.
func (c *conn) failNegotiation(err error) {
	var se *stanza.StreamError
	if errors.As(err, &se) {
		c.out = c.fr.appendClose(c.out, se)
		_ = c.flushNegotiation()
		c.srv.cfg.Log.Debug("stream error during negotiation", "remote", c.remoteIP, "err", se)
	} else if !errors.Is(err, io.EOF) && !errors.Is(err, errStreamEnd) && !errors.Is(err, net.ErrClosed) {
		c.srv.cfg.Log.Debug("negotiation ended", "remote", c.remoteIP, "err", err)
	} else if errors.Is(err, errStreamEnd) {
		c.out = c.fr.appendClose(c.out, nil)
		_ = c.flushNegotiation()
	}
	_ = c.nc.Close()
}

// runSession feeds the bound session until the connection ends.
func (c *conn) runSession() {
	s, tr := c.sess, c.tr
	for {
		tok, err := c.next(s.Flush)
		if err != nil {
			var se *stanza.StreamError
			if errors.As(err, &se) {
				s.HandleStreamError(tr, se)
			} else {
				s.TransportLost(tr)
			}
			return
		}
		switch tok.Kind {
		case xmlstream.Stanza:
			s.HandleInbound(tok.Element)
		case xmlstream.StreamEnd:
			s.Flush()
			s.StreamClosed(tr)
			return
		case xmlstream.StreamStart:
			s.HandleStreamError(tr, stanza.NewStreamError(stanza.StreamNotWellFormed, "unexpected stream restart"))
			return
		}
	}
}

// transport is the session.Transport of a conn.
type transport struct{ c *conn }

func (t *transport) AppendElement(dst []byte, e *stanza.Element) []byte {
	return t.c.fr.appendElement(dst, e)
}

func (t *transport) AppendClose(dst []byte, err *stanza.StreamError) []byte {
	return t.c.fr.appendClose(dst, err)
}

func (t *transport) Write(b []byte) error { return t.c.write(b) }

func (t *transport) Close() error { return t.c.nc.Close() }

// ParleyExtensions reports whether the client speaks Parley's protocol
// extensions (session.ExtensionsTransport): clients of the binary encoding
// do.
func (t *transport) ParleyExtensions() bool {
	return t.c.kind == Binary || t.c.kind == BinaryWebSocket
}
