package tlsrecord

import (
	"bytes"
	"crypto/tls"
	"encoding/hex"
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
// of raw bounds the handshake.
func (a *Acceptor) Server(raw net.Conn) (net.Conn, tls.ConnectionState, error) {
	hc := &handshakeConn{Conn: raw}
	tc := tls.Server(hc, a.cfg)
	err := tc.Handshake()
	if err != nil {
		hc.secrets.clear()
		return nil, tls.ConnectionState{}, err
	}
	st := tc.ConnectionState()
	s, ok := suiteFor(st.CipherSuite)
	if st.Version != tls.VersionTLS13 || !ok || hc.secrets.client == nil || hc.secrets.server == nil {
		hc.secrets.clear()
		hc.handedOver = true // crypto/tls reads on, unbounded
		return tc, st, nil
	}
	c, err := newConn(raw, s, hc.secrets.client, hc.secrets.server, a.pool)
	hc.secrets = secrets{}
	if err != nil {
		return nil, tls.ConnectionState{}, err
	}
	return c, st, nil
}

// handshakeConn is the socket as crypto/tls sees it during the handshake:
// each Read returns bytes of one record at most (its header, or what is
// left of its body), so crypto/tls never buffers bytes past the record it
// is reading, and after the client's Finished the socket holds the first
// application data intact for the record layer.
type handshakeConn struct {
	net.Conn
	secrets    secrets
	handedOver bool // TLS 1.2 or an other suite: crypto/tls keeps the connection
	header     [headerLen]byte
	headerN    int // bytes of the current record's header read
	body       int // bytes of the current record's body still to come
}

func (h *handshakeConn) Read(p []byte) (int, error) {
	if h.handedOver {
		return h.Conn.Read(p)
	}
	if h.body > 0 {
		n, err := h.Conn.Read(p[:min(len(p), h.body)])
		h.body -= n
		return n, err
	}
	n, err := h.Conn.Read(p[:min(len(p), headerLen-h.headerN)])
	copy(h.header[h.headerN:], p[:n])
	h.headerN += n
	if h.headerN == headerLen {
		h.headerN, h.body = 0, int(h.header[3])<<8|int(h.header[4])
	}
	return n, err
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
