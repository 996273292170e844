package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/parley-im/parley/internal/config"
	"github.com/parley-im/parley/internal/router"
	"github.com/parley-im/parley/internal/session"
	"github.com/parley-im/parley/internal/stanza"
	"github.com/parley-im/parley/internal/store"
)

// A live upgrade (docs/operations.md, "Upgrading without downtime"):
//
//  1. The running process (old) starts the new binary, which inherits every
//     listening socket (Upgrader, cloudflare/tableflip in parley serve),
//     checks its configuration and certificate and signals readiness.
//  2. The old process stops accepting (connections wait in the kernel's
//     listen backlog, which both processes share) and hands its sessions
//     off: each device is asked to acknowledge what it got, then told to
//     reconnect after a delay spread over the sessions (session.Handoff);
//     it closes the store.
//  3. The new process opens the store as soon as the old one released it,
//     and starts accepting: the devices log in again and get what they had
//     not acknowledged from their offline queues.

// Upgrader hands the listening sockets over to a new process. parley serve
// gives one backed by cloudflare/tableflip; nil disables live upgrades.
type Upgrader interface {
	// Listen returns the listener inherited from the process being
	// upgraded for network and addr, or a new one.
	Listen(network, addr string) (net.Listener, error)
	// ListenWithCallback is Listen with a listener not inherited made by
	// listen (to bind it with a net.ListenConfig of the caller's).
	ListenWithCallback(network, addr string, listen func(network, addr string) (net.Listener, error)) (net.Listener, error)
	// ListenPacket is Listen for packet sockets (the TURN relay's UDP).
	ListenPacket(network, addr string) (net.PacketConn, error)
	// HasParent reports whether this process was started by an upgrade.
	HasParent() bool
	// Ready tells the process being upgraded that this one holds the
	// listeners: it stops accepting and drains.
	Ready() error
	// Upgrade starts the new binary and waits until it is ready (or has
	// failed: then this process keeps serving); it returns its pid.
	Upgrade() (pid int, err error)
	// Exit is closed once a new process is ready: this one must drain
	// and exit.
	Exit() <-chan struct{}
}

// RunOptions are what Run needs besides the configuration.
type RunOptions struct {
	// Reload receives each configuration to apply (SIGHUP); may be nil.
	Reload <-chan config.Config
	// Upgrader enables live upgrades; nil disables them.
	Upgrader Upgrader
}

// Timing of a handoff. The drain is bounded: a device that does not
// acknowledge in time is closed anyway (what it had not acknowledged is
// delivered again from its queue after it logs in).
const (
	// handoffAckWait is how long a device has to acknowledge what it got.
	handoffAckWait = 3 * time.Second
	// handoffDrainTimeout bounds the whole drain.
	handoffDrainTimeout = 10 * time.Second
	// reconnectRate is the login rate the reconnect delays aim at: n
	// devices are spread over n/reconnectRate seconds.
	reconnectRate = 2000
	// maxReconnectSpread caps that spread.
	maxReconnectSpread = 30 * time.Second
	// storeTakeoverTimeout bounds how long a new process waits for the
	// old one to release the embedded store.
	storeTakeoverTimeout = handoffDrainTimeout + 50*time.Second
)

// handoffStats counts what the last drain did (for the log and tests).
type handoffStats struct {
	sessions atomic.Int64
}

// RunWith is Run with live upgrades: it starts a server with cfg (taking
// over from the process that started this one, if any) and blocks until
// ctx is cancelled or a new process took over, then shuts down or hands
// off cleanly.
func RunWith(ctx context.Context, cfg config.Config, log *slog.Logger, o RunOptions) error {
	s, err := newServer(cfg, log, o.Upgrader, nil)
	if err != nil {
		return err
	}
	go s.applyReloads(o.Reload)
	return s.Serve(ctx)
}

// applyReloads applies each configuration received until the channel closes.
func (s *Server) applyReloads(reload <-chan config.Config) {
	for c := range reload {
		if restart, err := s.Reload(c); err != nil {
			s.log.Error("reloading the configuration", "err", err)
		} else if len(restart) > 0 {
			s.log.Warn("these settings changed and take a restart to apply", "settings", restart)
		}
	}
}

// listenOn binds a listener with lc, inherited through the upgrader when
// there is one. An inherited TCP listener is net.FileListener's, which
// has Go's default TCP keep-alive whatever lc says (the net package gives
// no way to set it on a listener made from a file).
func (s *Server) listenOn(lc net.ListenConfig, network, addr string) (net.Listener, error) {
	listen := func(network, addr string) (net.Listener, error) {
		return lc.Listen(context.Background(), network, addr)
	}
	if s.upg != nil {
		return s.upg.ListenWithCallback(network, addr, listen)
	}
	return listen(network, addr)
}

// streamListenConfig binds the listeners of client streams (XMPP over TCP,
// direct TLS, the binary protocol) without Go's TCP keep-alive: the
// server's keep-alive sweep pings quiet sessions and closes those that do
// not answer (--ping-interval, --ping-timeout), which also finds dead
// peers, and the kernel's probes would add four setsockopt calls to every
// accepted connection (a login's CPU, docs/benchmarks.md). A negotiating
// connection has its own deadline (c2s.Config.NegotiationTimeout).
func streamListenConfig() net.ListenConfig { return net.ListenConfig{KeepAlive: -1} }

// binder binds through the upgrader when there is one.
func (s *Server) binder() binder {
	if s.upg != nil {
		return binder{listen: s.upg.Listen, listenPacket: s.upg.ListenPacket}
	}
	return direct()
}

// loadCertificate loads (or creates) the TLS certificate new connections get.
func (s *Server) loadCertificate() error {
	cert, created, err := loadOrCreateCertificate(s.cfg.TLSCert, s.cfg.TLSKey, s.cfg.Data, s.cfg.Domain)
	if err != nil {
		return err
	}
	if created {
		s.log.Info("created a self-signed TLS certificate", "dir", filepath.Join(s.cfg.Data, "tls"))
	}
	s.cert.Store(&cert)
	return nil
}

// takeOver signals readiness to the upgrader: the process being upgraded,
// if any, stops accepting and drains.
func (s *Server) takeOver() error {
	if s.upg == nil {
		return nil
	}
	if err := s.upg.Ready(); err != nil {
		return fmt.Errorf("live upgrade: signalling readiness: %w", err)
	}
	if s.upg.HasParent() {
		s.log.Info("live upgrade: listeners taken over; waiting for the old process to release the store")
	}
	return nil
}

// openStore opens the store in a process started by an upgrade: it retries
// while the old process still holds the embedded store's lock.
func (s *Server) openStore() (store.Store, error) {
	ctx := context.Background()
	start := time.Now()
	for {
		st, err := openStore(ctx, s.cfg, s.log, s.storeFS)
		if err == nil {
			s.log.Info("live upgrade: store opened", "waited", time.Since(start).Round(time.Millisecond))
			return st, nil
		}
		if time.Since(start) > storeTakeoverTimeout {
			return nil, fmt.Errorf("live upgrade: the old process did not release the store in %v: %w", storeTakeoverTimeout, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// upgradeExit is closed when a new process took over (never without an upgrader).
func (s *Server) upgradeExit() <-chan struct{} {
	if s.upg == nil {
		return nil
	}
	return s.upg.Exit()
}

// Upgrade starts the new binary, which takes over this server's listeners,
// and returns its pid once it is ready; this server then drains and Serve
// returns. It fails (and this server keeps serving) when live upgrades are
// off or the new binary does not start.
func (s *Server) Upgrade() (int, error) {
	if s.upg == nil {
		return 0, errors.New("live upgrade: this server was started without upgrade support")
	}
	s.log.Info("live upgrade: starting the new binary")
	pid, err := s.upg.Upgrade()
	if err != nil {
		s.log.Error("live upgrade failed; still serving", "err", err)
		return 0, fmt.Errorf("live upgrade: %w", err)
	}
	s.log.Info("live upgrade: the new process is ready; handing off", "pid", pid)
	return pid, nil
}

// handOff ends every session for an upgrade: each device acknowledges what
// it received, then gets a system-shutdown stream error carrying Parley's
// reconnect hint with a delay drawn over the spread. It waits at most
// handoffDrainTimeout for the sessions to end.
func (s *Server) handOff() {
	n := s.reg.Len()
	spread := min(time.Duration(n)*time.Second/reconnectRate, maxReconnectSpread)
	s.hub.closing.Store(true)
	s.log.Info("live upgrade: handing off sessions", "sessions", n, "reconnect_spread", spread)
	start := time.Now()
	s.reg.Each(func(d router.Device) {
		if sess, ok := d.(*session.Session); ok {
			sess.Handoff(reconnectError(spread), handoffAckWait)
			s.handoffs.sessions.Add(1)
		}
	})
	s.waitSessions(handoffDrainTimeout)
	s.log.Info("live upgrade: sessions handed off", "sessions", n, "left", s.reg.Len(),
		"took", time.Since(start).Round(time.Millisecond))
}

// waitSessions waits until no session is left, at most d.
func (s *Server) waitSessions(d time.Duration) {
	deadline := time.Now().Add(d)
	for s.reg.Len() > 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
}

// reconnectError is the stream error of a handoff: system-shutdown with
// <reconnect xmlns='urn:parley:0' after-ms='N'/>, N drawn in [0, spread].
func reconnectError(spread time.Duration) *stanza.StreamError {
	after := time.Duration(0)
	if spread > 0 {
		after = rand.N(spread)
	}
	e := stanza.NewStreamError(stanza.StreamSystemShutdown, "the server is being upgraded: reconnect")
	e.App = stanza.NewElement(stanza.NSParley, "reconnect", "after-ms", strconv.FormatInt(after.Milliseconds(), 10))
	return e
}

// pid is this process's id (in /healthz and the admin server's info).
func pid() int { return os.Getpid() }

// heldListener accepts connections as soon as a process started by an
// upgrade holds its listeners, and hands them out once it serves: while
// the old process drains and releases the store, devices that reconnect
// wait as accepted connections instead of filling the kernel's listen
// backlog (beyond which their SYNs are dropped and retried only after
// seconds of exponential backoff).
//
// Held connections are handed out at reconnectRate per second at most,
// and only while fewer than maxLoginsInFlight connections are negotiating:
// released all at once when the store opens, thousands of logins would
// compete for the CPU, and at a fixed rate beyond what the core carries
// (a loaded machine) they pile up the same way; each then takes longer
// than its client waits (30 s for dial and login in parley's client), the
// client dials again, and the server spends its core on logins nobody
// waits for any more.
type heldListener struct {
	net.Listener
	conns chan net.Conn
	err   chan error // the error that ended accepting, once
	next  time.Time  // pacing: the earliest time of the next hand-out; used by Accept's caller only
	// busy reports that the login path is full (nil: never).
	busy func() bool
}

// maxLoginsInFlight bounds the negotiations (authentication, resume) that
// held connections are handed to: at about 1 ms of CPU each (PLAIN's
// PBKDF2 on a quiet core) they finish within a second or so.
const maxLoginsInFlight = 256

// maxHeld bounds the connections accepted before serving (each is a file
// descriptor); past it, new ones wait in the kernel's backlog again.
const maxHeld = 1 << 16

func holdListener(ln net.Listener, busy func() bool) *heldListener {
	h := &heldListener{Listener: ln, conns: make(chan net.Conn, maxHeld), err: make(chan error, 1), busy: busy}
	go h.acceptLoop()
	return h
}

func (h *heldListener) acceptLoop() {
	defer close(h.conns)
	var backoff time.Duration
	for {
		c, err := h.Listener.Accept()
		if errors.Is(err, net.ErrClosed) {
			h.err <- err
			return
		}
		if err != nil { // out of file descriptors, or the like: wait and retry
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			time.Sleep(backoff)
			continue
		}
		backoff = 0
		h.conns <- c
	}
}

// Accept returns the next held or new connection, paced while a queue of
// held ones remains. It is called from one goroutine (the accept loop of
// the server using the listener).
func (h *heldListener) Accept() (net.Conn, error) {
	if c, ok := <-h.conns; ok {
		if len(h.conns) > 0 {
			if wait := time.Until(h.next); wait > 0 {
				time.Sleep(wait)
			}
			for h.busy != nil && h.busy() {
				time.Sleep(time.Millisecond)
			}
			h.next = time.Now().Add(time.Second / reconnectRate)
		}
		return c, nil
	}
	select {
	case err := <-h.err:
		h.err <- err // for later calls
		return nil, err
	default:
		return nil, net.ErrClosed
	}
}

// Close stops accepting and closes the connections still held.
func (h *heldListener) Close() error {
	err := h.Listener.Close()
	go func() {
		for c := range h.conns {
			_ = c.Close()
		}
	}()
	return err
}
