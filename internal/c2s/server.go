package c2s

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parley-im/parley/internal/auth"
	"github.com/parley-im/parley/internal/jid"
	"github.com/parley-im/parley/internal/session"
	"github.com/parley-im/parley/internal/stanza"
	"github.com/parley-im/parley/internal/tlsrecord"
	"github.com/parley-im/parley/internal/wire/xmlstream"
	"github.com/prometheus/client_golang/prometheus"
)

// Binder creates and resumes sessions (implemented by the server).
type Binder interface {
	// Bind registers a new session for full on tr; a session already bound
	// to the same full JID is closed with a conflict stream error.
	Bind(ctx context.Context, full jid.JID, tr session.Transport) *session.Session
	// Resume attaches tr to the user's session with the given resumption id
	// and acknowledges h; ok is false when there is no such session.
	Resume(ctx context.Context, user jid.JID, id string, h uint32, tr session.Transport) (*session.Session, bool)
}

// Registrar handles in-band registration (XEP-0077) before authentication.
type Registrar interface {
	Register(ctx context.Context, ip netip.Addr, iq *stanza.Element) *stanza.Element
}

// DeviceStore is what the connection layer needs of linked devices:
// checking their credentials (X-PARLEY-DEVICE) and recording their logins.
// store.Devices satisfies it.
type DeviceStore interface {
	auth.DeviceStore
	TouchDevice(ctx context.Context, user, id string, t time.Time) error
}

// Pairer runs the new device's side of pairing (docs/protocol/devices.md)
// on an unauthenticated stream; the devices feature provides it.
type Pairer interface {
	// StartPairing answers an iq carrying <pair/>. When it accepts, it
	// returns the result and when the pairing expires, and pushes the next
	// references and finally the sealed credential with push, from its own
	// goroutine, until ctx ends. When it refuses, expires is zero and
	// reply is an error.
	StartPairing(ctx context.Context, ip netip.Addr, iq *stanza.Element, push func(*stanza.Element) error) (reply *stanza.Element, expires time.Time)
}

// Config is the connection layer's configuration.
type Config struct {
	Domain             string
	TLS                *tls.Config // nil: no TLS (only with AllowPlaintextAuth)
	AllowPlaintextAuth bool
	Limits             xmlstream.Limits
	Auth               *auth.Authenticator
	Failures           *auth.FailureLimiter
	Binder             Binder
	Registration       Registrar // nil: registration off
	// Devices enables X-PARLEY-DEVICE on TLS connections (nil: off).
	Devices DeviceStore
	// Pairing enables QR-code pairing of new devices (nil: off).
	Pairing Pairer
	// StreamFeatures are offered with resource binding (features' own,
	// such as XEP-0352's <csi/>); they are only read.
	StreamFeatures     []*stanza.Element
	Log                *slog.Logger
	NegotiationTimeout time.Duration
	// WriteTimeout bounds a write to a client that does not read: it
	// fails after between half of WriteTimeout and all of it (default
	// 30 s; see conn.refreshWriteDeadline).
	WriteTimeout time.Duration
	Registerer   prometheus.Registerer
}

// Server accepts client connections.
type Server struct {
	cfg  Config
	auth *auth.Authenticator
	deep deepCalls // runs the SASL mechanisms' first steps, presences and IQs (deepcalls.go)
	// features holds the stream features offered, built on first use for
	// each featureKey (conn.features).
	features [featureKinds]atomic.Pointer[stanza.Element]
	failures *auth.FailureLimiter
	metrics  *metrics
	ctx      context.Context
	cancel   context.CancelFunc

	mu      sync.Mutex
	conns   map[*conn]struct{} // guarded by mu
	stopped bool               // Shutdown began: no more connections; guarded by mu
	wg      sync.WaitGroup     // Add only under mu and before stopped, so never during Shutdown's Wait
	bufs    *readBufferPool
	scratch *xmlstream.ScratchPool // the XML parsers' per-stanza memory, lent while they parse
	tls     *tlsrecord.Acceptor    // nil without TLS
	// parker holds idle connections without goroutines (nil where the
	// platform has none: a goroutine per idle connection waits instead).
	parker *parker
	// negotiating counts the connections negotiating (not yet bound or
	// resumed, nor failed).
	negotiating atomic.Int64
	// lingering bounds the connections lingering before they park
	// (lingerLimit); lingerFor is how long one lingers (parkAfter).
	lingering lingerSlots
	lingerFor time.Duration
	// epoch is the server's clock for what connections keep in whole
	// seconds (conn.writeDeadline); monotonic.
	epoch time.Time
}

// Negotiating is how many connections are negotiating a stream (TLS,
// authentication, bind or resume) at this moment.
func (s *Server) Negotiating() int { return int(s.negotiating.Load()) }

// NewServer returns a connection server.
func NewServer(cfg Config) *Server {
	if cfg.NegotiationTimeout == 0 {
		cfg.NegotiationTimeout = 30 * time.Second
	}
	if cfg.WriteTimeout == 0 {
		cfg.WriteTimeout = 30 * time.Second
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{cfg: cfg, auth: cfg.Auth, failures: cfg.Failures, metrics: newMetrics(cfg.Registerer),
		ctx: ctx, cancel: cancel, conns: make(map[*conn]struct{}), bufs: newReadBufferPool(),
		scratch: xmlstream.NewScratchPool(), lingering: lingerSlots{limit: lingerLimit}, lingerFor: parkAfter, epoch: time.Now()}
	if cfg.TLS != nil {
		s.tls = tlsrecord.NewAcceptor(cfg.TLS, tlsrecord.NewPool())
	}
	p, err := newParker()
	if err != nil {
		cfg.Log.Warn("no epoll parker: each idle connection keeps a goroutine", "err", err)
	}
	s.parker = p
	s.metrics.registerParked(cfg.Registerer, s.parkedCount)
	return s
}

// park leaves an idle connection, whose goroutine returns right after,
// to the parker (or to a goroutine waiting for its socket).
func (s *Server) park(c *conn) {
	if s.parker == nil {
		go c.resumeWhenReadable()
		return
	}
	go c.lingerThenPark()
}

func (s *Server) parkedCount() float64 { return float64(s.ParkedConnections()) }

// ParkedConnections is the number of idle connections parked (no
// goroutine): parley_c2s_parked_connections.
func (s *Server) ParkedConnections() int {
	if s.parker == nil {
		return 0
	}
	return s.parker.count()
}

// ServeTCP accepts XMPP connections on ln until it is closed. With
// directTLS the TLS handshake starts at once (XEP-0368); otherwise clients
// use STARTTLS.
func (s *Server) ServeTCP(ln net.Listener, directTLS bool) error {
	return s.serveListener(ln, directTLS, XMLStream)
}

// ServeNative accepts connections in Parley's binary encoding on ln until
// it is closed: TLS from the first byte, unless the server has no TLS
// (loopback benchmarks with plaintext authentication allowed).
func (s *Server) ServeNative(ln net.Listener) error {
	return s.serveListener(ln, s.cfg.TLS != nil, Binary)
}

func (s *Server) serveListener(ln net.Listener, directTLS bool, kind Kind) error {
	var delay time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			// Out of file descriptors or similar: back off, keep serving.
			delay = min(max(2*delay, 5*time.Millisecond), time.Second)
			s.cfg.Log.Warn("accept failed", "err", err, "retry_in", delay)
			time.Sleep(delay)
			continue
		}
		delay = 0
		c := newConn(s, nc, kind)
		c.directTLS = directTLS
		s.start(c)
	}
}

// ServeHTTP upgrades an HTTP request to XMPP over WebSocket (RFC 7395).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.upgrade(w, r, "xmpp", WebSocket)
}

// ServeBinaryWebSocket upgrades an HTTP request to Parley's binary
// encoding over WebSocket (subprotocol "parley").
func (s *Server) ServeBinaryWebSocket(w http.ResponseWriter, r *http.Request) {
	s.upgrade(w, r, "parley", BinaryWebSocket)
}

func (s *Server) upgrade(w http.ResponseWriter, r *http.Request, subprotocol string, kind Kind) {
	accept, err := wsAccept(r, subprotocol)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	hj, ok := w.(http.Hijacker)
	if !ok {
		http.Error(w, "connection cannot be upgraded", http.StatusInternalServerError)
		return
	}
	nc, rw, err := hj.Hijack()
	if err != nil {
		return
	}
	resp := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Accept: " + accept + "\r\nSec-WebSocket-Protocol: " + subprotocol + "\r\n\r\n"
	if _, err := nc.Write([]byte(resp)); err != nil {
		_ = nc.Close()
		return
	}
	c := newConn(s, nc, kind)
	// The socket's peer decides whether the connection is secure (a
	// reverse proxy on loopback terminated TLS); the client's address is
	// the request's, which the HTTP handler may have taken from a trusted
	// proxy's X-Forwarded-For, so that per-address limits count each
	// client behind the proxy apart.
	c.secure = r.TLS != nil || isLoopback(c.remoteIP)
	if ap, err := netip.ParseAddrPort(r.RemoteAddr); err == nil {
		c.remoteIP = ap.Addr().Unmap()
	}
	if r.TLS != nil {
		c.tlsState = r.TLS
	}
	if n := rw.Reader.Buffered(); n > 0 { // bytes the client sent right after the request
		b, _ := rw.Reader.Peek(n)
		c.in.feed(b)
	}
	s.start(c)
}

func isLoopback(ip netip.Addr) bool { return ip.IsLoopback() }

func (s *Server) start(c *conn) {
	s.mu.Lock()
	if s.stopped { // a WebSocket upgrade that raced with Shutdown
		s.mu.Unlock()
		_ = c.nc.Close()
		return
	}
	s.conns[c] = struct{}{}
	s.wg.Add(1)
	s.mu.Unlock()
	s.metrics.connections.Inc()
	go c.serve(s.ctx)
}

func (s *Server) untrack(c *conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
	s.metrics.connections.Dec()
	s.wg.Done()
}

// Shutdown stops negotiations in progress and waits up to the context's
// deadline for connection goroutines to end. Sessions are closed by the
// server (which owns them) before calling Shutdown.
func (s *Server) Shutdown(ctx context.Context) {
	s.cancel()
	s.mu.Lock()
	s.stopped = true
	for c := range s.conns {
		if !c.has(connFlagBound) {
			_ = c.raw.SetReadDeadline(time.Now())
		}
	}
	s.mu.Unlock()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		if s.parker != nil {
			s.parker.close()
		}
	case <-ctx.Done():
	}
}

type metrics struct {
	connections prometheus.Gauge
	keepAlives  prometheus.Counter
	pongs       prometheus.Counter
	wakes       prometheus.Counter
	authOK      prometheus.Counter
	authFailed  prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		connections: prometheus.NewGauge(prometheus.GaugeOpts{Name: "parley_c2s_connections",
			Help: "Open client connections (negotiating or bound)."}),
		authOK: prometheus.NewCounter(prometheus.CounterOpts{Name: "parley_auth_success_total",
			Help: "Successful SASL authentications."}),
		authFailed: prometheus.NewCounter(prometheus.CounterOpts{Name: "parley_auth_failures_total",
			Help: "Failed SASL authentications."}),
		keepAlives: prometheus.NewCounter(prometheus.CounterOpts{Name: "parley_c2s_parked_keepalives_total",
			Help: "Keep-alive pulses of parked connections (plain TCP, TLS 1.3) absorbed without waking them."}),
		pongs: prometheus.NewCounter(prometheus.CounterOpts{Name: "parley_c2s_parked_pongs_total",
			Help: "Answers to the keep-alive ping and stream-management acks that parked connections received, handled without waking them."}),
		wakes: prometheus.NewCounter(prometheus.CounterOpts{Name: "parley_c2s_parked_wakes_total",
			Help: "Parked connections handed back to a goroutine: input the poller could not take, an end of stream or an error."}),
	}
	if reg != nil {
		reg.MustRegister(m.connections, m.authOK, m.authFailed, m.keepAlives, m.pongs, m.wakes)
	}
	return m
}

// registerParked exports the number of parked (idle) connections.
func (m *metrics) registerParked(reg prometheus.Registerer, count func() float64) {
	if reg == nil {
		return
	}
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "parley_c2s_parked_connections",
		Help: "Idle client connections parked in the epoll set (no goroutine)."}, count))
}

func (m *metrics) authSuccess() { m.authOK.Inc() }
func (m *metrics) authFailure() { m.authFailed.Inc() }
