package tlsrecord

import (
	"bytes"
	"crypto/tls"
	"encoding/hex"
	"io"
	"net"
	"slices"
)

// Acceptor runs server handshakes and hands TLS 1.3 connections to the
// record layer.
type Acceptor struct {
	cfg  *tls.Config
	pool *Pool
}

// NewAcceptor returns an Acceptor for the configuration base, which it
// does not modify. Base's own GetConfigForClient, if any, still chooses
// the configuration of each connection.
func NewAcceptor(base *tls.Config, pool *Pool) *Acceptor {
	a := &Acceptor{pool: pool}
	a.cfg = base.Clone()
	chosen := base.GetConfigForClient
	a.cfg.GetConfigForClient = func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
		cfg := base
		if chosen != nil {
			c, err := chosen(hello)
			if err != nil {
				return nil, err
			}
			if c != nil {
				cfg = c
			}
		}
		return connectionConfig(cfg, hello), nil
	}
	return a
}

// connectionConfig is the configuration of one handshake: for a client
// that offers TLS 1.3, a clone of cfg that takes the application traffic
// secrets into the connection's keys and sends no session tickets; cfg
// itself (shared, as before) otherwise.
func connectionConfig(cfg *tls.Config, hello *tls.ClientHelloInfo) *tls.Config {
	hc, ok := hello.Conn.(*handshakeConn)
	offers13 := slices.Contains(hello.SupportedVersions, tls.VersionTLS13) &&
		(cfg.MaxVersion == 0 || cfg.MaxVersion >= tls.VersionTLS13)
	if !ok || !offers13 {
		return cfg
	}
	c := cfg.Clone()
	c.GetConfigForClient = nil
	c.KeyLogWriter = &hc.secrets
	c.SessionTicketsDisabled = true
	return c
}

// Server runs crypto/tls's server handshake on raw and returns the
// connection to use after it: a *Conn when TLS 1.3 was negotiated with a
// suite this package implements, else the *tls.Conn. The read deadline
// of raw bounds the handshake. Application data that came in the
// handshake's last read (a pipelining client sends its first bytes right
// after its Finished) is already opened: the *Conn's Read returns it
// first, TakeRead hands it over.
func (a *Acceptor) Server(raw net.Conn) (net.Conn, tls.ConnectionState, error) {
	hc := &handshakeConn{Conn: raw, pool: a.pool}
	tc := tls.Server(hc, a.cfg)
	err := tc.Handshake()
	if err != nil {
		hc.secrets.clear()
		hc.release()
		return nil, tls.ConnectionState{}, err
	}
	st := tc.ConnectionState()
	s, ok := suiteFor(st.CipherSuite)
	if st.Version != tls.VersionTLS13 || !ok || hc.secrets.client == nil || hc.secrets.server == nil {
		hc.secrets.clear()
		hc.handedOver = true // crypto/tls reads on, unbounded, what hc holds first
		return tc, st, nil
	}
	c, err := newConn(raw, s, hc.secrets.client, hc.secrets.server, a.pool)
	hc.secrets = secrets{}
	if err != nil {
		hc.release()
		return nil, tls.ConnectionState{}, err
	}
	if rest := hc.unread(); len(rest) > 0 {
		_ = c.Feed(rest, c.keepRead) // a failure stays in c.rerr for the next read
	}
	hc.release()
	return c, st, nil
}

// handshakeConn is the socket as crypto/tls sees it during the handshake.
// It reads the socket into a buffer from the pool, as much as is there
// (a client's flight in one read), and returns bytes of one record at
// most per Read (its header, or what is left of its body), so crypto/tls
// never buffers bytes past the record it is reading: after the client's
// Finished, what the buffer still holds is the client's first
// application data, intact for the record layer.
type handshakeConn struct {
	net.Conn
	pool       *Pool
	secrets    secrets
	handedOver bool // TLS 1.2 or an other suite: crypto/tls keeps the connection
	buf        *[]byte
	start, end int // buf[start:end] is read from the socket, not returned yet
	header     [headerLen]byte
	headerN    int // bytes of the current record's header returned
	body       int // bytes of the current record's body still to return
}

func (h *handshakeConn) Read(p []byte) (int, error) {
	if h.start == h.end {
		if h.handedOver {
			return h.Conn.Read(p)
		}
		if err := h.fill(); err != nil {
			return 0, err
		}
	}
	b := h.unread()
	if !h.handedOver {
		b = b[:min(len(b), h.recordLeft())]
	}
	n := copy(p, b)
	h.advance(p[:n])
	return n, nil
}

// fill reads the socket once into the buffer.
func (h *handshakeConn) fill() error {
	if h.buf == nil {
		h.buf = h.pool.get()
	}
	n, err := h.Conn.Read(*h.buf)
	if n == 0 {
		h.release()
		if err == nil {
			err = io.ErrNoProgress
		}
		return err
	}
	h.start, h.end = 0, n
	return nil
}

// recordLeft is how many bytes Read may return before the current
// record's end: what is left of its header, else of its body.
func (h *handshakeConn) recordLeft() int {
	if h.body > 0 {
		return h.body
	}
	return headerLen - h.headerN
}

// advance accounts for b, returned by Read: the current record's header
// and body, and the buffer (given back once it is all returned).
func (h *handshakeConn) advance(b []byte) {
	h.start += len(b)
	if h.start == h.end {
		h.release()
	}
	if h.handedOver {
		return
	}
	if h.body > 0 {
		h.body -= len(b)
		return
	}
	copy(h.header[h.headerN:], b)
	h.headerN += len(b)
	if h.headerN == headerLen {
		h.headerN, h.body = 0, int(h.header[3])<<8|int(h.header[4])
	}
}

// unread is what was read from the socket and not returned yet.
func (h *handshakeConn) unread() []byte {
	if h.buf == nil {
		return nil
	}
	return (*h.buf)[h.start:h.end]
}

// release gives the buffer back.
func (h *handshakeConn) release() {
	if h.buf != nil {
		h.pool.put(h.buf)
		h.buf, h.start, h.end = nil, 0, 0
	}
}

// secrets is the KeyLogWriter of one TLS 1.3 handshake: it keeps the two
// application traffic secrets (NSS key log format, one line per secret)
// and ignores the rest. Nothing is logged.
type secrets struct{ client, server []byte }

func (s *secrets) Write(line []byte) (int, error) {
	label, rest, _ := bytes.Cut(line, []byte(" "))
	_, secretHex, _ := bytes.Cut(rest, []byte(" "))
	secretHex = bytes.TrimSpace(secretHex)
	var dst *[]byte
	switch string(label) {
	case "CLIENT_TRAFFIC_SECRET_0":
		dst = &s.client
	case "SERVER_TRAFFIC_SECRET_0":
		dst = &s.server
	default:
		return len(line), nil
	}
	b := make([]byte, hex.DecodedLen(len(secretHex)))
	if _, err := hex.Decode(b, secretHex); err != nil {
		return len(line), nil // the secret stays missing: crypto/tls keeps the connection
	}
	*dst = b
	return len(line), nil
}

func (s *secrets) clear() {
	clear(s.client)
	clear(s.server)
	*s = secrets{}
}
