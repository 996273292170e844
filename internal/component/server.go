package component

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/parley-im/parley/internal/jid"
	"github.com/parley-im/parley/internal/stanza"
	"github.com/parley-im/parley/internal/wire/xmlstream"
)

// NS is the namespace of component streams.
const NS = "jabber:component:accept"

// Router takes the stanzas components send (the core's router).
type Router interface {
	Route(ctx context.Context, st *stanza.Element) *stanza.Error
}

// Config holds what a Server needs.
type Config struct {
	// Secrets maps each component domain to its shared secret.
	Secrets map[string]string
	Router  Router
	Log     *slog.Logger
	Limits  xmlstream.Limits
	// HandshakeTimeout bounds the stream opening and handshake. Default 10s.
	HandshakeTimeout time.Duration
	// QueueSize bounds the stanzas waiting to be written to one component.
	// Default 4096.
	QueueSize int
}

// Server accepts component connections and routes stanzas to them.
type Server struct {
	cfg Config

	mu     sync.Mutex
	conns  map[string]*conn // by domain; guarded by mu
	closed bool             // guarded by mu
	wg     sync.WaitGroup
}

// ErrClosed is returned by Serve after Shutdown.
var ErrClosed = errors.New("component: server closed")

// NewServer returns a server for cfg.
func NewServer(cfg Config) *Server {
	if cfg.HandshakeTimeout <= 0 {
		cfg.HandshakeTimeout = 10 * time.Second
	}
	if cfg.QueueSize <= 0 {
		cfg.QueueSize = 4096
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	return &Server{cfg: cfg, conns: make(map[string]*conn)}
}

// Domains lists the configured component domains.
func (s *Server) Domains() []string {
	out := make([]string, 0, len(s.cfg.Secrets))
	for d := range s.cfg.Secrets {
		out = append(out, d)
	}
	return out
}

// Serve accepts connections on ln until ln is closed.
func (s *Server) Serve(ln net.Listener) error {
	for {
		nc, err := ln.Accept()
		if err != nil {
			s.mu.Lock()
			closed := s.closed
			s.mu.Unlock()
			if closed || errors.Is(err, net.ErrClosed) {
				return ErrClosed
			}
			return err
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.handle(nc)
		}()
	}
}

// Shutdown ends every component stream with system-shutdown and waits
// for the connections' goroutines (until ctx is done).
func (s *Server) Shutdown(ctx context.Context) {
	s.mu.Lock()
	s.closed = true
	conns := make([]*conn, 0, len(s.conns))
	for _, c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		c.close(stanza.NewStreamError(stanza.StreamSystemShutdown, "the server is shutting down"))
	}
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
	}
}

// Route queues st for the component serving to's domain (router.Config.Remote).
func (s *Server) Route(_ context.Context, st *stanza.Element, to jid.JID) *stanza.Error {
	domain, configured := s.domainOf(to.Domain())
	if !configured {
		return stanza.NewError(stanza.RemoteServerNotFound, "this server talks to no other server")
	}
	s.mu.Lock()
	c := s.conns[domain]
	s.mu.Unlock()
	if c == nil {
		return &stanza.Error{Type: stanza.ErrWait, Condition: "remote-server-timeout", Text: "the component is not connected"}
	}
	if !c.send(st) {
		return stanza.NewError(stanza.ResourceConstraint, "the component is not keeping up")
	}
	return nil
}

// domainOf returns the configured component domain that d is or is a
// subdomain of.
func (s *Server) domainOf(d string) (string, bool) {
	for {
		if _, ok := s.cfg.Secrets[d]; ok {
			return d, true
		}
		_, rest, ok := strings.Cut(d, ".")
		if !ok {
			return "", false
		}
		d = rest
	}
}

// attach registers c for its domain, replacing (and closing) a previous
// connection; false when the server is closing.
func (s *Server) attach(c *conn) bool {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return false
	}
	old := s.conns[c.domain]
	s.conns[c.domain] = c
	s.mu.Unlock()
	if old != nil {
		old.close(stanza.NewStreamError(stanza.StreamConflict, "replaced by a new connection of the component"))
	}
	return true
}

// detach forgets c if it is still its domain's connection.
func (s *Server) detach(c *conn) {
	s.mu.Lock()
	if s.conns[c.domain] == c {
		delete(s.conns, c.domain)
	}
	s.mu.Unlock()
}
