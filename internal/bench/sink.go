package bench

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parley-im/parley/internal/selfsigned"
	"github.com/parley-im/parley/internal/stanza"
	"github.com/parley-im/parley/internal/wire/binary"
)

// Sink is a stand-in for a server that measures the load generator, not a
// server: it speaks just enough of Parley's binary protocol for the
// generator's devices (TLS, any PLAIN login, binding, stream management),
// acknowledges every message with a "sent" tick and forwards it to its
// recipient's connection. It stores nothing and checks no password, so it
// absorbs far more messages per core than any real server: with it, a run
// of `parley bench` shows what the generator itself can offer
// (docs/benchmarks.md, "The generator on one core").
type Sink struct {
	domain string
	tls    *tls.Config

	mu    sync.Mutex
	conns map[string]*sinkConn // by bare JID: the last bound device wins

	Messages atomic.Int64 // messages received from devices
}

// NewSink returns a sink for domain with a fresh self-signed certificate.
func NewSink(domain string) (*Sink, error) {
	cert, err := selfsigned.Certificate(domain)
	if err != nil {
		return nil, err
	}
	return &Sink{
		domain: domain,
		tls:    &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12},
		conns:  make(map[string]*sinkConn),
	}, nil
}

// Serve accepts connections on ln until ctx ends or ln fails.
func (s *Sink) Serve(ctx context.Context, ln net.Listener) error {
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		nc, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		c := &sinkConn{sink: s, conn: tls.Server(nc, s.tls), wake: make(chan struct{}, 1), done: make(chan struct{})}
		wg.Add(2)
		go func() { defer wg.Done(); c.writeLoop() }()
		go func() { defer wg.Done(); c.readLoop(ctx) }()
	}
}

func (s *Sink) register(jid string, c *sinkConn) {
	s.mu.Lock()
	s.conns[jid] = c
	s.mu.Unlock()
}

func (s *Sink) unregister(jid string, c *sinkConn) {
	s.mu.Lock()
	if s.conns[jid] == c {
		delete(s.conns, jid)
	}
	s.mu.Unlock()
}

func (s *Sink) lookup(jid string) *sinkConn {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conns[jid]
}

// sinkConn is one device's connection to the sink. Whatever is written to
// it is appended to out and flushed by writeLoop, so that everything that
// queued since the last write leaves in one write.
type sinkConn struct {
	sink *Sink
	conn net.Conn
	enc  *binary.Encoder // guarded by mu once bound (peers forward through it)

	mu   sync.Mutex
	out  []byte
	wake chan struct{}
	done chan struct{}

	user, full string // set at login, then read-only
	inH        uint32 // stanzas handled (XEP-0198), reader only
	nextID     uint64 // reader only
}

// queue appends el to the connection's output.
func (c *sinkConn) queue(el *stanza.Element) {
	c.mu.Lock()
	if c.enc != nil {
		c.out = c.enc.AppendStanza(c.out, el)
	}
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

func (c *sinkConn) writeLoop() {
	var buf []byte
	for {
		select {
		case <-c.wake:
		case <-c.done:
			return
		}
		c.mu.Lock()
		buf, c.out = c.out, buf[:0]
		c.mu.Unlock()
		if len(buf) == 0 {
			continue
		}
		if _, err := c.conn.Write(buf); err != nil {
			c.conn.Close()
			return
		}
	}
}

func (c *sinkConn) readLoop(ctx context.Context) {
	defer close(c.done)
	defer c.conn.Close()
	dec := binary.NewDecoder(binary.DefaultLimits())
	buf := make([]byte, 64<<10)
	for ctx.Err() == nil {
		n, err := c.conn.Read(buf)
		dec.Feed(buf[:n])
		if !c.handleAll(dec) || err != nil {
			break
		}
	}
	if c.user != "" {
		c.sink.unregister(c.user, c)
	}
}

// handleAll handles every complete frame buffered in dec; false ends the
// connection.
func (c *sinkConn) handleAll(dec *binary.Decoder) bool {
	for {
		tok, err := dec.Next()
		if errors.Is(err, binary.ErrNeedMore) {
			return true
		}
		if err != nil {
			return false
		}
		switch tok.Kind {
		case binary.StreamStart:
			if !c.start() {
				return false
			}
		case binary.StreamEnd:
			return false
		case binary.Stanza:
			if !c.handle(tok.Element) {
				return false
			}
		}
	}
}

// start answers the device's preamble with the sink's.
func (c *sinkConn) start() bool {
	enc, err := binary.NewEncoder(binary.Preamble{Version: binary.Version, Dictionary: binary.LatestDictionary, Strings: []string{c.sink.domain}})
	if err != nil {
		return false
	}
	c.mu.Lock()
	c.enc = enc
	c.out = enc.AppendPreamble(c.out)
	c.mu.Unlock()
	return true
}

// handle is the sink's whole protocol: the login steps, then messages
// (acknowledged and forwarded), <r/> (answered) and iq (an empty result).
func (c *sinkConn) handle(el *stanza.Element) bool {
	switch {
	case el.Space == stanza.NSFraming && el.Name == "open":
		c.open()
	case el.Space == stanza.NSSASL && el.Name == "auth":
		return c.auth(el)
	case el.Space == stanza.NSSM:
		c.streamManagement(el)
	case el.Name == "iq":
		c.inH++
		c.iq(el)
	case el.Name == "message":
		c.inH++
		c.message(el)
	default: // presence
		c.inH++
	}
	return true
}

func (c *sinkConn) open() {
	c.queue(stanza.NewElement(stanza.NSFraming, "open", "from", c.sink.domain, "id", "sink", "version", "1.0"))
	features := stanza.NewElement(stanza.NSStream, "features")
	if c.user == "" {
		mechs := stanza.NewElement(stanza.NSSASL, "mechanisms")
		m := stanza.NewElement(stanza.NSSASL, "mechanism")
		m.Text = "PLAIN"
		mechs.AddChild(m)
		features.AddChild(mechs)
	} else {
		features.AddChild(stanza.NewElement(stanza.NSBind, "bind"))
		features.AddChild(stanza.NewElement(stanza.NSSM, "sm"))
	}
	c.queue(features)
}

// auth accepts any PLAIN credentials: the sink measures the generator.
func (c *sinkConn) auth(el *stanza.Element) bool {
	raw, err := base64.StdEncoding.DecodeString(el.Text)
	parts := strings.Split(string(raw), "\x00")
	if err != nil || el.Attr("mechanism") != "PLAIN" || len(parts) != 3 || parts[1] == "" {
		f := stanza.NewElement(stanza.NSSASL, "failure")
		f.AddChild(stanza.NewElement(stanza.NSSASL, "not-authorized"))
		c.queue(f)
		return false
	}
	c.user = parts[1] + "@" + c.sink.domain
	c.queue(stanza.NewElement(stanza.NSSASL, "success"))
	return true
}

func (c *sinkConn) iq(el *stanza.Element) {
	res := stanza.NewElement(stanza.NSClient, "iq", "type", "result", "id", el.ID())
	if b := el.Child(stanza.NSBind, "bind"); b != nil && c.user != "" {
		resource := b.ChildText(stanza.NSBind, "resource")
		if resource == "" {
			resource = "sink"
		}
		c.full = c.user + "/" + resource
		jid := stanza.NewElement(stanza.NSBind, "jid")
		jid.Text = c.full
		bound := stanza.NewElement(stanza.NSBind, "bind")
		bound.AddChild(jid)
		res.AddChild(bound)
		c.sink.register(c.user, c)
	}
	c.queue(res)
}

func (c *sinkConn) streamManagement(el *stanza.Element) {
	switch el.Name {
	case "enable":
		c.inH = 0
		c.queue(stanza.NewElement(stanza.NSSM, "enabled", "id", "sink-"+c.full))
	case "r":
		c.queue(stanza.NewElement(stanza.NSSM, "a", "h", strconv.FormatUint(uint64(c.inH), 10)))
	}
}

// message acknowledges el ("sent") and forwards it, stamped, to its
// recipient's connection (dropped if the recipient is not connected).
func (c *sinkConn) message(el *stanza.Element) {
	c.sink.Messages.Add(1)
	c.nextID++
	stanzaID := c.full + "-" + strconv.FormatUint(c.nextID, 36)
	c.queue(stanza.NewElement(stanza.NSParley, "ack", "id", el.ID(), "stanza-id", stanzaID,
		"stamp", time.Now().UTC().Format(time.RFC3339Nano)))
	to, _, _ := strings.Cut(el.Attr("to"), "/")
	peer := c.sink.lookup(to)
	if peer == nil {
		return
	}
	el.SetAttr("from", c.full)
	el.AddChild(stanza.NewElement(stanza.NSSID, "stanza-id", "id", stanzaID, "by", to))
	peer.queue(el)
}
