package c2s

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parley-im/parley/internal/jid"
	"github.com/parley-im/parley/internal/session"
	"github.com/parley-im/parley/internal/stanza"
	"github.com/parley-im/parley/internal/tlsrecord"
	"github.com/parley-im/parley/internal/wire/xmlstream"
)

const readBufferSize = 4096

// conn is one client connection, from accept to close.
type conn struct {
	srv *Server
	nc  net.Conn // the current connection (TLS over raw once TLS starts)
	raw net.Conn // the TCP socket
	// rec is set when TLS 1.3 runs on Parley's record layer (then nc is
	// rec, and the reader reads raw and feeds rec); nil for plain TCP and
	// for crypto/tls connections (TLS 1.2, WebSocket over HTTPS).
	rec *tlsrecord.Conn
	// conn's fields are ordered so that it fits a smaller size class
	// (TestConnSizeClass): an idle device holds one.
	directTLS bool // the TLS handshake starts with the connection (XEP-0368)
	secure    bool // TLS is on (or the connection is trusted as secure)
	kind      Kind
	// hasPending tells without wmu that pending (below) holds something.
	hasPending atomic.Bool
	fr         framing
	in         inbound     // decodes what the client sends
	idle       *idleWaiter // set once the session runs: idle reads hold no buffer
	remoteIP   netip.Addr
	tlsState   *tls.ConnectionState

	user   jid.JID // authenticated bare JID, zero before SASL success
	device string  // linked device id after X-PARLEY-DEVICE success, else ""
	// pairCancel ends the pairing running on this stream (nil: none);
	// only the negotiation goroutine uses it.
	pairCancel context.CancelFunc
	streamID   string
	out        []byte // negotiation output

	// pending is the end of negotiation's output (the stream features and
	// the bind result), which the session's first write carries with it:
	// a pipelined login's last step is answered in one write. runSession
	// writes it alone if the session has nothing to add before waiting.
	// Guarded by wmu; hasPending tells without the lock.
	pending []byte

	wmu  sync.Mutex // serializes writes to nc (session writes, pongs)
	tr   transport  // the session's view of it (&c.tr, one address for the connection's life)
	sess *session.Session
	// parkID names the connection in the server's parker (guarded by the
	// parker's mutex); armed is set once its socket is in the parker's
	// epoll set. It is atomic: the epoll event can fire (and another
	// goroutine run the session and park it again) before the goroutine
	// that armed the socket has returned from arm.
	parkID uint64
	armed  atomic.Bool
	// flags holds connFlagClosing and connFlagBound.
	flags atomic.Uint32
	// unreadSeen is how many unread bytes the socket queued at the last
	// unreadTraffic call (keep-alives left for the poller).
	unreadSeen atomic.Int32
	// writeDeadline is the socket's write deadline, in whole seconds on
	// the server's clock (Server.epoch), rounded down; guarded by wmu.
	// A write moves it only when less than half of WriteTimeout is left
	// (refreshWriteDeadline).
	writeDeadline uint32
}

// The bits of conn.flags.
const (
	// connFlagClosing is set by transport.Close before it closes the
	// socket, for the poller, which may hold a parked connection for a
	// moment.
	connFlagClosing = 1 << iota
	// connFlagBound is set once sess is (read by Server.Shutdown from
	// another goroutine, which must not read sess itself).
	connFlagBound
)

// has tells whether flag is set.
func (c *conn) has(flag uint32) bool { return c.flags.Load()&flag != 0 }

func newConn(srv *Server, nc net.Conn, kind Kind) *conn {
	raw := nc
	if tc, ok := nc.(*tls.Conn); ok { // a hijacked HTTPS connection
		raw = tc.NetConn()
	}
	c := &conn{srv: srv, nc: nc, raw: raw, kind: kind}
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
		c.in = newXMLInbound(srv)
	}
	c.tr = transport{c: c}
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

// read feeds the next bytes from the client to the decoder, blocking
// (negotiation, and sessions where idleWaiter is unavailable) with a pooled
// buffer.
func (c *conn) read() (int, error) {
	if err := c.recordErr(); err != nil {
		return 0, err
	}
	buf := c.srv.bufs.get()
	defer c.srv.bufs.put(buf)
	src := c.nc
	if c.rec != nil {
		src = c.raw
	}
	n, err := src.Read(*buf)
	if n > 0 {
		return n, c.feedRaw((*buf)[:n])
	}
	return n, err
}

// tryRead is idleWaiter.tryRead for this connection: nothing is read
// once the record layer failed.
func (c *conn) tryRead() (wouldBlock bool, err error) {
	if err := c.recordErr(); err != nil {
		return false, err
	}
	return c.idle.tryRead(c.srv.bufs, c.feedRaw)
}

// readFor is idleWaiter.readFor for this connection: nothing is read
// once the record layer failed.
func (c *conn) readFor(d time.Duration) error {
	if err := c.recordErr(); err != nil {
		return err
	}
	return c.idle.readFor(d, c.srv.bufs, c.feedRaw)
}

// feedRaw hands bytes read from the socket to the decoder, through the
// TLS record layer when it runs. The record layer's failure (or the
// client's close_notify) is returned by the next read, after what was
// delivered before it is handled.
func (c *conn) feedRaw(b []byte) error {
	if c.rec == nil {
		c.feed(b)
		return nil
	}
	_ = c.rec.Feed(b, c.feed)
	return c.rec.FlushKeyUpdate()
}

// recordErr is the record layer's failure, if any; it also sends the
// KeyUpdate the client asked for while the connection was parked.
func (c *conn) recordErr() error {
	if c.rec == nil {
		return nil
	}
	if err := c.rec.Err(); err != nil {
		return err
	}
	return c.rec.FlushKeyUpdate()
}

// feed hands bytes from the client to the decoder.
func (c *conn) feed(b []byte) {
	if c.sess != nil {
		c.sess.Touch()
	}
	c.in.feed(b)
}

// write sends b with the write deadline, after what is pending.
func (c *conn) write(b []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.hasPending.Load() {
		b = append(c.pending, b...)
		c.pending = nil
		c.hasPending.Store(false)
	}
	if len(b) == 0 {
		return nil
	}
	if err := c.refreshWriteDeadline(); err != nil {
		return err
	}
	_, err := c.nc.Write(b)
	return err
}

// refreshWriteDeadline sets the socket's write deadline WriteTimeout from
// now when less than half of that is left: a write gets between half of
// WriteTimeout and all of it. Setting the deadline at every write moved
// a runtime timer each time, 3.5-5% of the server's CPU when a group
// post went out to every member one write at a time.
func (c *conn) refreshWriteDeadline() error {
	now := time.Now()
	timeout := c.srv.cfg.WriteTimeout
	if time.Duration(c.writeDeadline)*time.Second-now.Sub(c.srv.epoch) >= timeout/2 {
		return nil
	}
	at := now.Add(timeout)
	if err := c.nc.SetWriteDeadline(at); err != nil {
		return err
	}
	c.writeDeadline = uint32(at.Sub(c.srv.epoch) / time.Second)
	return nil
}

// deferNegotiationOutput leaves negotiation's output for the next write
// (see pending). It runs before the session exists: from then on other
// goroutines may write.
func (c *conn) deferNegotiationOutput() {
	if len(c.out) == 0 {
		return
	}
	c.wmu.Lock()
	c.pending = c.out
	c.hasPending.Store(true)
	c.wmu.Unlock()
	c.out = nil
}

// flushPending writes what negotiation left pending, if the session has
// not written it yet.
func (c *conn) flushPending() {
	if c.hasPending.Load() {
		_ = c.write(nil) // an error shows at the next read
	}
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

// serve runs the connection to its end. The session phase may move to
// other goroutines (runSession); whichever ends the session untracks it.
func (c *conn) serve(ctx context.Context) {
	c.srv.negotiating.Add(1)
	err := c.negotiate(ctx)
	c.srv.negotiating.Add(-1)
	if err != nil {
		c.failNegotiation(err)
		c.srv.untrack(c)
		return
	}
	c.idle = newIdleWaiter(c.nc, c.raw)
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

// runSession feeds the bound session what the client sent. When nothing
// is left to read it does not wait: it parks the connection (Server.park)
// and returns, so that an idle connection keeps no goroutine at all (or,
// where there is no parker, only a fresh goroutine's small stack, not the
// one this goroutine grew while routing messages).
func (c *conn) runSession() { c.runSessionFrom(c.in.next()) }

// runSessionFrom is runSession from a token (or error) already taken
// from the decoder (the poller's, in absorbKeepAliveStanzas).
func (c *conn) runSessionFrom(tok xmlstream.Token, err error) {
	s := c.sess
	for ; ; tok, err = c.in.next() {
		if errors.Is(err, xmlstream.ErrNeedMore) {
			s.Flush()
			c.flushPending()
			var gone bool
			if gone, err = c.readMore(); gone {
				return
			}
			if err == nil {
				continue
			}
		}
		if err != nil {
			c.endSession(err)
			return
		}
		if !c.handleToken(tok) {
			c.srv.untrack(c)
			return
		}
	}
}

// readMore feeds the decoder what the client sends next, or lingers and
// parks the connection when it sends nothing: gone reports that this
// goroutine no longer runs the connection (parked, or ended) and must
// return.
//
// With the parker it lingers at once: the linger's wait begins with a
// non-blocking read (or, with crypto/tls, a peek), so a read before it
// would be a second system call on an empty socket for every burst a
// quiet client sends (3 read system calls per burst instead of 2).
// crypto/tls connections first take what crypto/tls already decrypted
// (drainTLS, no system call), which the linger's wait cannot see.
func (c *conn) readMore() (gone bool, err error) {
	switch {
	case c.idle == nil:
		_, err = c.read()
		return false, err
	case c.srv.parker == nil:
		wouldBlock, err := c.tryRead()
		if err == nil && wouldBlock {
			return !c.lingerHere(), nil
		}
		return false, err
	case c.idle.tls != nil:
		if n, err := c.idle.drainTLS(c.srv.bufs, c.feedRaw); n > 0 || err != nil {
			return false, err
		}
	}
	return !c.lingerHere(), nil
}

// resumeWhenReadable (without a parker) waits, holding no buffer, for the client to send
// more, then runs the session on.
func (c *conn) resumeWhenReadable() {
	if err := c.idle.wait(); err != nil {
		c.endSession(err)
		return
	}
	c.runSession()
}

// parkAfter is how long a connection that just went quiet keeps a
// goroutine waiting in the runtime's netpoller before it is parked in the
// epoll set. A device in a conversation (or logging in) sends again within
// it and is woken the cheap way; parking at once made every stanza of an
// active device pay an epoll round and the poller's scheduling delay
// (login ramp: 1,250 -> 750 logins/s on one core).
const parkAfter = time.Second

// lingerThenPark waits, holding no buffer, up to parkAfter for the client
// to send more (and reads it), then parks the connection (no goroutine
// while idle).
func (c *conn) lingerThenPark() {
	if c.lingerHere() {
		c.runSession()
	}
}

// lingerHere is lingerThenPark in the goroutine that ran the session, so
// that its stack, grown by the routing path, serves the next stanza: a
// fresh goroutine started from a small stack and grew it again for every
// stanza of a conversation (copystack, 2-16% of the server's CPU under
// load). It reports whether the client sent more; otherwise the
// connection was parked (or ended) and the goroutine must return. Without
// a parker the connection waits in a fresh goroutine with no deadline, as
// before: an idle connection must not hold a grown stack. When lingerLimit
// connections linger already, it parks at once (readOrPark).
func (c *conn) lingerHere() bool {
	if c.srv.parker == nil {
		c.sessionIdle()
		c.srv.park(c)
		return false
	}
	if !c.srv.lingering.take() { // lingerLimit: park at once
		return c.readOrPark()
	}
	err := c.readFor(c.srv.lingerFor)
	c.srv.lingering.give()
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded):
		c.sessionIdle()
		c.srv.parker.park(c)
		return false
	case err != nil:
		c.endSession(err)
		return false
	}
	return true
}

// readOrPark is lingerHere when lingerLimit connections linger already:
// it reads what the client sent, if anything, and otherwise parks the
// connection (false, as lingerHere). Parking it without the read left a
// connection woken by its client's bytes unread while all slots were
// taken: the parker woke it again at once, and it parked again, for as
// long as they stayed taken.
func (c *conn) readOrPark() bool {
	wouldBlock, err := c.tryRead()
	switch {
	case err != nil:
		c.endSession(err)
		return false
	case !wouldBlock:
		return true
	}
	c.sessionIdle()
	c.srv.parker.park(c)
	return false
}

// sessionIdle tells the session that its device went quiet (it drops what
// it reuses while active) before the connection parks.
func (c *conn) sessionIdle() {
	if c.sess != nil {
		c.sess.Idle()
	}
}

// handleToken gives one token to the session; false when the session ended.
func (c *conn) handleToken(tok xmlstream.Token) bool {
	s, tr := c.sess, &c.tr
	switch tok.Kind {
	case xmlstream.Stanza:
		if goesDeep(tok.Element) {
			c.srv.deep.do(func() { s.HandleInbound(tok.Element) })
		} else {
			s.HandleInbound(tok.Element)
		}
		return true
	case xmlstream.StreamEnd:
		s.Flush()
		s.StreamClosed(tr)
	case xmlstream.StreamStart:
		s.HandleStreamError(tr, stanza.NewStreamError(stanza.StreamNotWellFormed, "unexpected stream restart"))
	}
	return false
}

// endSession reports a failed read to the session and ends the connection.
func (c *conn) endSession(err error) {
	var se *stanza.StreamError
	if errors.As(err, &se) {
		c.sess.HandleStreamError(&c.tr, se)
	} else {
		c.sess.TransportLost(&c.tr)
	}
	c.srv.untrack(c)
}

// transport is the session.Transport of a conn.
type transport struct{ c *conn }

func (t *transport) AppendElement(dst []byte, e *stanza.Element) []byte {
	return t.c.fr.appendElement(dst, e)
}

// WritesStoredXML implements session.StoredXMLWriter: an XML stream over
// TCP (or TLS) writes a stanza as xmlstream.AppendElement in jabber:client.
func (t *transport) WritesStoredXML() bool {
	_, ok := t.c.fr.(tcpFraming)
	return ok
}

func (t *transport) AppendClose(dst []byte, err *stanza.StreamError) []byte {
	return t.c.fr.appendClose(dst, err)
}

func (t *transport) Write(b []byte) error { return t.c.write(b) }

// Close closes the connection. A parked connection has no goroutine that
// would see the socket fail, so Close ends its session itself.
func (t *transport) Close() error {
	t.c.flags.Or(connFlagClosing)
	err := t.c.nc.Close()
	if p := t.c.srv.parker; p != nil && p.unpark(t.c) {
		go t.c.endSession(net.ErrClosed)
	}
	return err
}

// CloseLingering ends the connection without losing what was just written
// (session.LingeringCloser): it sends TLS's close_notify and a TCP FIN,
// and closes the socket after linger. Closing at once with input from the
// client still unread would reset the connection, and a reset can discard
// the client's unread copy of the last writes (a handoff's final ack and
// stream error). The connection's reader goes on reading (and ignoring:
// the session is over) until the client closes its side.
func (t *transport) CloseLingering(linger time.Duration) error {
	nc, raw := t.c.nc, t.c.raw
	t.c.wmu.Lock()
	_ = nc.SetWriteDeadline(time.Now().Add(time.Second))
	if tw, ok := nc.(closeWriter); ok && nc != raw {
		_ = tw.CloseWrite() // TLS's close_notify
	}
	cw, ok := raw.(closeWriter)
	t.c.wmu.Unlock()
	if !ok || cw.CloseWrite() != nil {
		return nc.Close()
	}
	time.AfterFunc(linger, func() { _ = nc.Close() })
	return nil
}

// UnreadTraffic reports whether the client sent bytes not read yet since
// the last call (session.UnreadTrafficReporter).
func (t *transport) UnreadTraffic() bool { return t.c.unreadTraffic() }

// OutputDrained reports whether the client has read all that was written
// to it and no negotiation output waits (session.OutputDrainedReporter):
// the keep-alive sweep then writes its ping itself.
func (t *transport) OutputDrained() bool { return !t.c.hasPending.Load() && t.c.outputDrained() }

type closeWriter interface{ CloseWrite() error }

// LinkedDevice is the linked device's id when the connection logged in
// with X-PARLEY-DEVICE (session.LinkedTransport).
func (t *transport) LinkedDevice() string { return t.c.device }

// ParleyExtensions reports whether the client speaks Parley's protocol
// extensions (session.ExtensionsTransport): clients of the binary encoding
// do.
func (t *transport) ParleyExtensions() bool {
	return t.c.kind == Binary || t.c.kind == BinaryWebSocket
}
