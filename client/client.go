package client

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"sync"
	"time"

	"github.com/parley-im/parley/internal/stanza"
)

// ErrClosed is returned by calls on a closed Client.
var ErrClosed = errors.New("client: closed")

// Client is one device's connection to its server. Its methods are safe for
// concurrent use.
type Client struct {
	opts    Options
	account account
	events  chan Event
	closing chan struct{}
	done    chan struct{} // the reader loop has exited

	mu       sync.Mutex
	sess     *session
	jid      string
	closed   bool
	pending  []byte        // encoded stanzas waiting for the writer
	askAck   bool          // pending holds stanzas the server should ack
	wake     chan struct{} // tells the writer there is something pending
	sm       smState
	presence *stanza.Element // the last broadcast presence, re-sent after a fresh login
	calls    map[string]chan *stanza.Element
	history  map[string]*historyCollector // pending archive queries by queryid

	dedupe dedupe // received messages, to drop copies
}

// Dial connects, authenticates and binds a session. The context bounds the
// first connection only.
func Dial(ctx context.Context, o Options) (*Client, error) {
	a, err := o.normalize()
	if err != nil {
		return nil, err
	}
	var initial *stanza.Element
	if o.Available {
		initial = stanza.NewElement(stanza.NSClient, "presence")
	}
	s, err := negotiate(ctx, &o, a, nil, initial)
	if err != nil {
		return nil, err
	}
	c := &Client{
		opts: o, account: a,
		events:  make(chan Event, o.EventBuffer),
		closing: make(chan struct{}),
		done:    make(chan struct{}),
		calls:   map[string]chan *stanza.Element{},
		history: map[string]*historyCollector{},
	}
	c.sm = smState{enabled: s.smID != "", id: s.smID}
	c.install(s)
	if s.initialSent { // it went with the login (Options.Available)
		c.presence = initial
		if c.sm.enabled {
			c.sm.track(initial)
		}
	}
	c.emit(&Connected{JID: s.jid})
	go c.run(s)
	if initial != nil && !s.initialSent {
		if err := c.SetPresence("", ""); err != nil {
			c.Close()
			return nil, err
		}
	}
	return c, nil
}

// JID is the full JID of the current session.
func (c *Client) JID() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.jid
}

// Events delivers everything the server sends, in order. It is closed after
// Close, or after a final disconnection when Reconnect is off.
func (c *Client) Events() <-chan Event { return c.events }

// Close ends the stream properly and releases the connection.
func (c *Client) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		<-c.done
		return nil
	}
	c.closed = true
	close(c.closing)
	s := c.sess
	var tail []byte
	if s != nil {
		tail = append(c.pending, c.sm.ackElement(s.w.codec)...)
		tail = s.w.codec.appendClose(tail)
		c.pending = nil
	}
	c.mu.Unlock()
	if s != nil {
		_ = s.w.conn.SetWriteDeadline(time.Now().Add(2 * time.Second))
		_, _ = s.w.conn.Write(tail)
		if tc, ok := s.w.conn.(interface{ CloseWrite() error }); ok {
			_ = tc.CloseWrite()
		}
		_ = s.w.conn.SetReadDeadline(time.Now().Add(2 * time.Second))
	}
	<-c.done
	return nil
}

// install makes s the current session and starts its writer.
func (c *Client) install(s *session) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.installLocked(s)
}

func (c *Client) installLocked(s *session) {
	c.sess = s
	c.jid = s.jid
	c.pending = c.pending[:0] // bytes for the old connection: what matters is re-sent from the unacked list
	if c.wake != nil {
		close(c.wake) // the old connection's writer ends (every send on wake holds c.mu)
	}
	c.wake = make(chan struct{}, 1)
	go c.writer(s, c.wake)
}

// run reads the current session until the client closes, reconnecting as
// configured.
func (c *Client) run(s *session) {
	defer close(c.done)
	defer close(c.events)
	for {
		err := c.read(s)
		s.w.conn.Close()
		if c.isClosed() {
			return
		}
		c.emit(&Disconnected{Err: err})
		if !c.opts.Reconnect {
			c.mu.Lock()
			c.closed = true
			close(c.closing)
			c.mu.Unlock()
			return
		}
		if s = c.reconnect(firstDelay(err, c.opts.MinBackoff)); s == nil {
			return
		}
	}
}

func (c *Client) isClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

// firstDelay is how long to wait before the first reconnect: the server's
// hint when it gave one (it spreads its devices over time), else the
// minimum backoff with jitter.
func firstDelay(err error, minBackoff time.Duration) time.Duration {
	var se *StreamError
	if errors.As(err, &se) && se.ReconnectAfter > 0 {
		return se.ReconnectAfter
	}
	return jitter(minBackoff)
}

// jitter draws a delay in [d/2, d].
func jitter(d time.Duration) time.Duration { return d/2 + rand.N(d/2+1) }

// reconnect redials after first, then with exponential backoff and jitter,
// until it has a session, or the client is closed (nil).
func (c *Client) reconnect(first time.Duration) *session {
	delay := c.opts.MinBackoff
	jittered := first
	for attempt := 1; ; attempt++ {
		select {
		case <-c.closing:
			return nil
		case <-time.After(jittered):
		}
		c.mu.Lock()
		rs := c.sm.resumeState(c.jid)
		c.mu.Unlock()
		s, err := negotiate(context.Background(), &c.opts, c.account, rs, nil)
		if err == nil {
			if !c.afterReconnect(s, attempt) {
				return nil
			}
			return s
		}
		c.opts.Logger.Info("reconnect failed", "err", err, "retry_in", delay)
		var ae *AuthError
		if errors.As(err, &ae) && ae.Condition == "not-authorized" {
			if c.opts.Device != nil { // unlinked: retrying cannot help
				c.emit(&Disconnected{Err: fmt.Errorf("%w: %w", ErrDeviceRevoked, err)})
				c.mu.Lock()
				c.closed = true
				close(c.closing)
				c.mu.Unlock()
				return nil
			}
			c.emit(&Disconnected{Err: err})
		}
		delay = min(delay*2, c.opts.MaxBackoff)
		jittered = jitter(delay)
	}
}

// afterReconnect re-sends what the server has not acknowledged: after a
// resume only what it did not get; after a fresh login everything still
// unacknowledged, and the presence. It holds the lock throughout, so that
// nothing sent concurrently overtakes the re-sent stanzas.
// It reports false, closing s, when the client was closed meanwhile (Close
// did not see this connection).
func (c *Client) afterReconnect(s *session, attempts int) bool {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		_ = s.w.conn.Close()
		return false
	}
	var resend []*stanza.Element
	if s.resumed {
		for _, id := range c.sm.acked(s.h) {
			c.emitLocked(&Sent{ID: id})
		}
		resend = c.sm.takeUnacked()
	} else {
		resend = c.sm.takeUnacked()
		c.sm = smState{enabled: s.smID != "", id: s.smID}
		if c.presence != nil {
			resend = append([]*stanza.Element{c.presence}, resend...)
		}
	}
	c.installLocked(s)
	for _, el := range resend {
		c.queueLocked(el)
	}
	c.mu.Unlock()
	c.emit(&Connected{JID: s.jid, Resumed: s.resumed, Attempts: attempts})
	return true
}

// emit hands an event to the application, giving up when the client closes.
func (c *Client) emit(e Event) {
	select {
	case c.events <- e:
	case <-c.closing:
	}
}

// emitLocked is emit for callers holding c.mu: it never blocks (an event
// that does not fit is dropped and logged; only Sent ticks go this way).
func (c *Client) emitLocked(e Event) {
	select {
	case c.events <- e:
	default:
		c.opts.Logger.Warn("event buffer full: dropped a sent tick")
	}
}

// writer writes whatever is pending on s, coalescing stanzas queued while a
// write was in progress into one write.
func (c *Client) writer(s *session, wake chan struct{}) {
	var buf []byte
	for range wake {
		c.mu.Lock()
		if c.sess != s {
			c.mu.Unlock()
			return
		}
		buf, c.pending = c.pending, buf[:0]
		if c.askAck { // one ack request per write, however many stanzas it carries
			buf = s.w.codec.appendStanza(buf, stanza.NewElement(stanza.NSSM, "r"))
			c.askAck = false
		}
		c.mu.Unlock()
		if len(buf) == 0 {
			continue
		}
		if _, err := s.w.conn.Write(buf); err != nil {
			// The reader notices and reconnects. It first reads what the
			// server sent before it closed (its last acks and a stream
			// error with a reconnect hint): closing here would lose them.
			_ = s.w.conn.SetReadDeadline(time.Now().Add(writeFailedLinger))
			return
		}
	}
}

// writeFailedLinger is how long the reader may still read after a write
// failed.
const writeFailedLinger = 2 * time.Second

// sendElement queues el on the current session. Stanzas are tracked for
// stream management; while disconnected they wait in the unacked list and
// go out after the reconnect.
func (c *Client) sendElement(el *stanza.Element) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return ErrClosed
	}
	c.queueLocked(el)
	return nil
}

func (c *Client) queueLocked(el *stanza.Element) {
	if c.sm.enabled {
		c.sm.track(el)
	}
	s := c.sess
	if s == nil {
		return
	}
	c.pending = s.w.codec.appendStanza(c.pending, el)
	c.askAck = c.askAck || c.sm.enabled
	c.wakeWriterLocked()
}

// sendControl queues a non-stanza element (stream management).
func (c *Client) sendControl(el *stanza.Element) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sess == nil || c.closed {
		return
	}
	c.pending = c.sess.w.codec.appendStanza(c.pending, el)
	c.wakeWriterLocked()
}

// wakeWriterLocked tells the writer that c.pending has bytes; c.mu held.
func (c *Client) wakeWriterLocked() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// KeepAlive sends a keep-alive pulse now: one space in XML (RFC 6120's
// whitespace keep-alive), an empty frame in Parley's binary protocol. The
// server takes it as a sign of life (last seen, its idle checks) at the
// least cost to both sides. While disconnected it does nothing.
func (c *Client) KeepAlive() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return ErrClosed
	}
	if c.sess == nil {
		return nil
	}
	c.pending = c.sess.w.codec.appendKeepAlive(c.pending)
	c.wakeWriterLocked()
	return nil
}

// read handles stanzas from s until its connection fails.
func (c *Client) read(s *session) error {
	for {
		el, err := s.w.read()
		if err != nil {
			var ne net.Error
			if c.isClosed() && (errors.As(err, &ne) || errors.Is(err, net.ErrClosed)) {
				return nil
			}
			return err
		}
		c.handle(el)
	}
}
