package server

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"regexp"
	"runtime/debug"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/parley-im/parley/internal/admin"
	"github.com/parley-im/parley/internal/auth"
	"github.com/parley-im/parley/internal/c2s"
	"github.com/parley-im/parley/internal/component"
	"github.com/parley-im/parley/internal/config"
	"github.com/parley-im/parley/internal/feature/calls"
	"github.com/parley-im/parley/internal/feature/disco"
	"github.com/parley-im/parley/internal/feature/groups"
	"github.com/parley-im/parley/internal/feature/lastactivity"
	"github.com/parley-im/parley/internal/feature/mam"
	"github.com/parley-im/parley/internal/feature/ping"
	"github.com/parley-im/parley/internal/feature/push"
	"github.com/parley-im/parley/internal/feature/roster"
	"github.com/parley-im/parley/internal/feature/upload"
	"github.com/parley-im/parley/internal/feature/version"
	"github.com/parley-im/parley/internal/media"
	"github.com/parley-im/parley/internal/module"
	"github.com/parley-im/parley/internal/router"
	"github.com/parley-im/parley/internal/session"
	"github.com/parley-im/parley/internal/stanza"
	"github.com/parley-im/parley/internal/store"
	"github.com/parley-im/parley/internal/turn"
	"github.com/parley-im/parley/internal/wire/xmlstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Server is one running Parley chat server.
type Server struct {
	cfg          config.Config
	log          *slog.Logger
	store        store.Store
	reg          *router.Registry
	hub          *Hub
	c2s          *c2s.Server
	lastActivity *lastactivity.Feature
	archive      *mam.Feature      // nil with --no-server-history
	components   *component.Server // nil without --component
	push         *push.Feature     // nil when no app server is reachable
	groups       *groups.Feature
	stopGroups   func() // stops the groups' worker; nil before Serve
	metrics      *prometheus.Registry
	admin        *admin.Server
	media        *media.Service
	mediaHTTP    *http.Server
	cluster      *clusterNode // nil without --nats
	relay        *turn.Relay  // nil without --turn
	relaySocks   relaySockets
	calls        *calls.Feature

	c2sLn, c2sTLSLn, nativeLn, httpLn, adminLn, mediaLn net.Listener
	http                                                *http.Server
	cert                                                atomic.Pointer[tls.Certificate] // what new TLS connections get (Reload)
	componentLn                                         net.Listener

	upg      Upgrader             // nil: no live upgrades (tests, server.New)
	storeFS  vfs.FS               // nil: the embedded store on the OS's file system (tests inject disk faults)
	live     liveLimits           // what Reload changes while serving
	failures *auth.FailureLimiter // login failures per address (Reload changes the limit)
	httpIdle time.Duration        // the HTTP listener's IdleTimeout: httpIdleTimeout (tests shorten it)
	handoffs handoffStats         // what the last upgrade's drain did
}

// Addrs are the addresses the server listens on ("" when disabled).
type Addrs struct{ C2S, C2STLS, Native, HTTP, Media, Component, TURN, TURNTLS string }

// Run starts a server with cfg and blocks until ctx is cancelled, then
// shuts it down cleanly.
// Each configuration received on reload is applied with Reload (SIGHUP in
// parley serve); reload may be nil.
func Run(ctx context.Context, cfg config.Config, log *slog.Logger, reload <-chan config.Config) error {
	return RunWith(ctx, cfg, log, RunOptions{Reload: reload})
}

// New opens the store, builds the server and binds its listeners.
func New(cfg config.Config, log *slog.Logger) (*Server, error) { return newServer(cfg, log, nil, nil) }

// newServer opens the store, binds the listeners (through upg when it is
// not nil) and builds the server. A process started by an upgrade instead
// inherits the listeners from the old process, checks its certificate,
// signals readiness (the old process then drains), and only then opens the
// store, waiting for the old process to release it: what can fail before
// readiness (configuration, listeners, certificate) is checked first, so
// that a bad new binary leaves the old process serving.
//
// storeFS, when not nil, is the file system under the embedded store.
func newServer(cfg config.Config, log *slog.Logger, upg Upgrader, storeFS vfs.FS) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := MakeDataDir(cfg.Data, log); err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, log: log, reg: router.NewRegistry(), metrics: prometheus.NewRegistry(), upg: upg, storeFS: storeFS,
		failures: auth.NewFailureLimiter(cfg.AuthFailuresPerMinute, time.Minute), httpIdle: httpIdleTimeout}
	s.live.set(cfg)
	takeover := upg != nil && upg.HasParent()
	if !takeover { // a first start: the store (and its lock) before the listeners, as always
		st, err := openStore(context.Background(), cfg, log, storeFS)
		if err != nil {
			return nil, err
		}
		s.store = st
	}
	if err := s.prepare(takeover); err != nil {
		s.closeListeners()
		if s.store != nil {
			_ = s.store.Close()
		}
		return nil, err
	}
	st := s.store
	if err := s.build(); err != nil {
		s.closeListeners()
		_ = st.Close()
		return nil, err
	}
	if err := s.startCluster(); err != nil {
		s.closeListeners()
		_ = st.Close()
		return nil, err
	}
	return s, nil
}

// prepare binds the listeners, loads the certificate and signals
// readiness; with takeover (a process started by an upgrade) it then opens
// the store, waiting for the old process to release it.
func (s *Server) prepare(takeover bool) error {
	if err := s.listen(); err != nil {
		return err
	}
	if err := s.loadCertificate(); err != nil {
		return err
	}
	if err := s.takeOver(); err != nil {
		return err
	}
	if !takeover {
		return nil
	}
	st, err := s.openStore()
	if err != nil {
		return err
	}
	s.store = st
	return nil
}

// goCollector exports the Go runtime's metrics: the defaults, and how long
// goroutines waited to run once runnable (go_sched_latencies_seconds): on a
// server whose CPU is saturated that wait is most of a message's latency,
// before its connection's goroutine even reads it, which no metric of the
// server's own code sees (parley_delivery_wait_seconds starts after
// routing). Read at each scrape only.
func goCollector() prometheus.Collector {
	return collectors.NewGoCollector(collectors.WithGoCollectorRuntimeMetrics(
		collectors.GoRuntimeMetricsRule{Matcher: regexp.MustCompile(`^/sched/latencies:seconds$`)}))
}

// build creates the hub, the features and the connection server.
func (s *Server) build() error {
	s.metrics.MustRegister(goCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	s.metrics.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "parley_sessions_active",
		Help: "Bound sessions (connected devices, and detached ones waiting for resumption)."},
		func() float64 { return float64(s.reg.Len()) }))
	s.metrics.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "parley_store_refusing_writes",
		Help: "1 while the store refuses writes after its disk failed one (docs/operations.md, \"A full or failing disk\")."},
		func() float64 {
			if s.storeWriteError() != nil {
				return 1
			}
			return 0
		}))
	if dw, ok := s.store.(interface{ DurableWaits() uint64 }); ok {
		s.metrics.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "parley_store_durable_waits_total",
			Help: "Waits for the embedded store's WAL sync (each shared with concurrent writers); messages stored per wait show the batching."},
			func() float64 { return float64(dw.DurableWaits()) }))
	}
	if ws, ok := s.store.(interface{ WALSyncs() uint64 }); ok {
		s.metrics.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "parley_store_wal_syncs_total",
			Help: "Syncs (fdatasync) of the embedded store's write-ahead log; durable waits per sync show how many writers each one served."},
			func() float64 { return float64(ws.WALSyncs()) }))
	}
	if qw, ok := s.store.(interface{ QueueWrites() uint64 }); ok {
		s.metrics.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "parley_store_queue_writes_total",
			Help: "Batches (Pebble commits) that appended to offline queues; stanzas per write show the batching."},
			func() float64 { return float64(qw.QueueWrites()) }))
	}
	limits := xmlstream.DefaultLimits()
	limits.MaxStanzaBytes = s.cfg.MaxStanzaBytes
	sessCfg := &session.Config{
		Domain: s.cfg.Domain, MailboxSize: s.cfg.MailboxSize, ResumeTimeout: s.cfg.ResumeTimeout,
		Queue: s.store, Resumptions: s.store, Codec: xmlCodec{limits: limits}, Log: s.log.With("component", "session"),
		Metrics: session.NewMetrics(s.metrics), Now: time.Now, Mailbox: s.live.mailboxSize,
	}
	h := &Hub{domain: s.cfg.Domain, log: s.log, accounts: s.store, reg: s.reg, sessCfg: sessCfg,
		iq: make(map[iqKey]module.IQHandler), resumable: make(map[string]*session.Session)}
	h.router = router.New(router.Config{Domain: s.cfg.Domain, Registry: s.reg, Queue: s.store,
		Codec: sessCfg.Codec, Users: h, Log: s.log.With("component", "router"), Local: h.local,
		Filter: h.filter, Delivered: h.delivered, DeliveredAll: h.deliveredAll, Remote: s.remote,
		AckWindow: s.cfg.AckWindow})
	pending := h.router.Pending()
	s.metrics.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "parley_messages_acked_before_stored_total",
		Help: "Messages delivered before they were stored and acknowledged by a device within --ack-window: never stored."},
		func() float64 { return float64(pending.Acked()) }))
	s.metrics.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "parley_messages_stored_after_delivery_total",
		Help: "Messages delivered before they were stored and stored after all: no ack within --ack-window, or the device went away."},
		func() float64 { return float64(pending.Stored()) }))
	sessCfg.Router = h.router
	sessCfg.Logs = h.router
	s.hub = h

	s.lastActivity = lastactivity.New(s.store, nil)
	rost := roster.New(s.store)
	h.presenceInbound = rost.Inbound
	features := []module.Feature{disco.New(), version.New(Version()), ping.New(), s.lastActivity, rost}
	var err error
	if s.components, err = s.componentServer(limits, h.router); err != nil {
		return err
	}
	med, err := s.buildMedia()
	if err != nil {
		return err
	}
	s.media = med
	features = append(features, upload.New(mediaSlots{s.media}, s.media.MaxFileSize()))
	mobile, registrar, err := mobileFeatures(s.cfg.AllowRegistration, s.cfg.RegistrationsPerHour, s.store, sessCfg.Codec)
	if err != nil {
		return err
	}
	features = append(features, mobile...)
	h.carbons = carbonsFeature(mobile)
	if s.archive, err = s.archiveFeature(sessCfg.Codec); err != nil {
		return err
	}
	if s.archive != nil {
		features = append(features, s.archive)
	}
	if s.push, err = s.pushFeature(); err != nil {
		return err
	}
	if s.push != nil {
		features = append(features, s.push)
	}
	linked, err := s.devicesFeature()
	if err != nil {
		return err
	}
	features = append(features, linked)
	s.groups = s.groupsFeature(sessCfg.Codec)
	features = append(features, s.groups)
	callFeatures, err := s.callFeatures()
	if err != nil {
		return err
	}
	features = append(features, callFeatures...)
	for _, f := range features {
		if err := f.Register(hubHost{Hub: h, log: s.log.With("feature", f.Name())}); err != nil {
			return fmt.Errorf("feature %s: %w", f.Name(), err)
		}
	}
	h.AddDiscoFeature(stanza.NSOffline)
	h.AddDiscoFeature(stanza.NSSID)
	if err := h.HandleIQ(stanza.NSSession, module.ToServer, legacySession); err != nil {
		return err
	}

	tlsCfg := &tls.Config{GetCertificate: s.certificate, MinVersion: tls.VersionTLS12,
		NextProtos: []string{"xmpp-client"}}
	s.c2s = c2s.NewServer(c2s.Config{
		Domain: s.cfg.Domain, TLS: tlsCfg, AllowPlaintextAuth: s.cfg.AllowPlaintextAuth, Limits: limits,
		Auth:     auth.NewAuthenticator(s.store),
		Failures: s.failures,
		Binder:   h, Log: s.log.With("component", "c2s"), Registerer: s.metrics, Registration: registrar,
		StreamFeatures: h.streamFeatures, Devices: s.store, Pairing: linked,
	})
	return nil
}

// legacySession answers the RFC 3921 session establishment some clients still send.
func legacySession(context.Context, *stanza.Element) (*stanza.Element, error) { return nil, nil }

func (s *Server) listen() error {
	for _, l := range []struct {
		addr, flag string
		ln         *net.Listener
		lc         net.ListenConfig
	}{
		{s.cfg.C2S, "--c2s", &s.c2sLn, streamListenConfig()}, {s.cfg.C2STLS, "--c2s-tls", &s.c2sTLSLn, streamListenConfig()},
		{s.cfg.Native, "--native", &s.nativeLn, streamListenConfig()},
		{s.cfg.HTTP, "--http", &s.httpLn, net.ListenConfig{}}, {s.cfg.Media, "--media", &s.mediaLn, net.ListenConfig{}},
		{s.cfg.Component, "--component", &s.componentLn, net.ListenConfig{}},
	} {
		if l.addr == "" {
			continue
		}
		ln, err := s.listenOn(l.lc, "tcp", l.addr)
		if err != nil {
			return fmt.Errorf("listening on %s %s: %w", l.flag, l.addr, err)
		}
		if s.upg != nil && s.upg.HasParent() {
			ln = holdListener(ln, s.loginsFull) // accept while the old process drains
		}
		*l.ln = ln
	}
	if s.cfg.TURN != "" { // before readiness: a live upgrade's sockets not claimed by then are closed
		var err error
		if s.relaySocks, err = bindRelay(s.cfg, s.binder()); err != nil {
			return err
		}
	}
	sock := config.AdminSocketPath(s.cfg)
	if s.upg == nil || !s.upg.HasParent() {
		_ = os.Remove(sock) // stale from a crash: the store lock proves no server runs here
	}
	var err error
	if s.adminLn, err = s.listenOn(net.ListenConfig{}, "unix", sock); err != nil {
		return fmt.Errorf("admin socket %s: %w", sock, err)
	}
	return os.Chmod(sock, 0o600)
}

// loginsFull reports that maxLoginsInFlight connections are negotiating.
func (s *Server) loginsFull() bool {
	return s.c2s != nil && s.c2s.Negotiating() >= maxLoginsInFlight
}

// Addrs returns the bound addresses.
func (s *Server) Addrs() Addrs {
	var a Addrs
	if s.c2sLn != nil {
		a.C2S = s.c2sLn.Addr().String()
	}
	if s.c2sTLSLn != nil {
		a.C2STLS = s.c2sTLSLn.Addr().String()
	}
	if s.nativeLn != nil {
		a.Native = s.nativeLn.Addr().String()
	}
	if s.httpLn != nil {
		a.HTTP = s.httpLn.Addr().String()
	}
	if s.mediaLn != nil {
		a.Media = s.mediaLn.Addr().String()
	}
	if s.componentLn != nil {
		a.Component = s.componentLn.Addr().String()
	}
	a.TURN, a.TURNTLS = s.relayAddrs()
	return a
}

// Serve runs the server until ctx is cancelled, then shuts down.
func (s *Server) Serve(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errc := make(chan error, 6)
	if s.c2sLn != nil {
		go func() { errc <- s.c2s.ServeTCP(s.c2sLn, false) }()
	}
	if s.c2sTLSLn != nil {
		go func() { errc <- s.c2s.ServeTCP(s.c2sTLSLn, true) }()
	}
	if s.nativeLn != nil {
		go func() { errc <- s.c2s.ServeNative(s.nativeLn) }()
	}
	if s.httpLn != nil {
		s.http = newHTTPServer(s.httpHandler(), s.httpIdle)
		go func() {
			if err := s.http.Serve(s.httpLn); !errors.Is(err, http.ErrServerClosed) {
				errc <- err
			}
		}()
	}
	s.admin = admin.NewServer(admin.StoreAccounts(s.store, auth.DefaultIterations), s.log.With("component", "admin")).
		WithInfo(admin.Info{PID: pid(), Version: Version()})
	if s.upg != nil {
		s.admin.WithUpgrade(s.Upgrade)
	}
	if cp, ok := s.store.(checkpointer); ok {
		s.admin.WithBackup(func(_ context.Context, dir string) error { return cp.Checkpoint(dir) })
	}
	go func() { _ = s.admin.Serve(s.adminLn) }()
	go s.keepAlive(ctx)
	go s.flushLoop(ctx)
	if s.mediaLn != nil {
		s.mediaHTTP = mediaServer(s.media)
		go func() {
			if err := s.mediaHTTP.Serve(s.mediaLn); !errors.Is(err, http.ErrServerClosed) {
				errc <- err
			}
		}()
	}
	go s.media.RunSweeper(ctx, sweepInterval)
	if s.archive != nil {
		go s.archive.RunSweeper(ctx, archiveSweepInterval)
	}
	if s.push != nil {
		go s.push.Run(ctx)
	}
	if s.componentLn != nil {
		go func() { _ = s.components.Serve(s.componentLn) }()
	}
	s.stopGroups = s.runGroups(ctx)
	go s.groupsLease(ctx)
	a := s.Addrs()
	s.log.Info("parley is serving", "domain", s.cfg.Domain, "c2s", a.C2S, "c2s_tls", a.C2STLS, "native", a.Native, "http", a.HTTP, "media", a.Media, "component", a.Component, "turn", a.TURN,
		"data", s.cfg.Data, "version", Version())

	var err error
	upgrading := false
	select {
	case <-ctx.Done():
	case <-s.upgradeExit():
		upgrading = true
	case err = <-errc:
		s.log.Error("listener failed", "err", err)
	}
	s.shutdown(upgrading)
	return err
}

// The HTTP listeners' timeouts. A client has httpReadHeaderTimeout to send
// a request's headers; a kept-alive connection waiting for its next
// request is closed after httpIdleTimeout, where it would otherwise wait
// for ever and hold a file descriptor and a goroutine (browsers keep idle
// connections, and anyone can open many). A WebSocket, once upgraded, is
// no longer the HTTP server's, so neither bounds it.
const (
	httpReadHeaderTimeout = 10 * time.Second
	httpIdleTimeout       = 2 * time.Minute
)

// newHTTPServer is an http.Server for h with the listeners' timeouts and
// idle as its IdleTimeout.
func newHTTPServer(h http.Handler, idle time.Duration) *http.Server {
	return &http.Server{Handler: h, ReadHeaderTimeout: httpReadHeaderTimeout, IdleTimeout: idle}
}

func (s *Server) httpHandler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/xmpp-websocket", s.checkOrigin(s.c2s))
	mux.Handle("/ws", s.checkOrigin(http.HandlerFunc(s.c2s.ServeBinaryWebSocket)))
	mux.Handle("/", s.webClient())
	s.operatorEndpoints(mux)
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		health := map[string]any{"status": "ok", "sessions": s.reg.Len(), "version": Version(), "pid": pid()}
		s.clusterHealth(health)
		if err := s.storeWriteError(); err != nil {
			health["status"], health["store"] = "degraded", err.Error()
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		_ = json.NewEncoder(w).Encode(health)
	})
	return clientAddress(config.TrustedProxyList(s.cfg), mux)
}

// operatorEndpoints serves /metrics and, with --pprof, Go's profiler, to
// the clients of --metrics-allow only (allowOnly). /healthz stays open to
// all: load balancers probe it from wherever they are.
func (s *Server) operatorEndpoints(mux *http.ServeMux) {
	allowed := config.MetricsAllowList(s.cfg)
	handle := func(path string, h http.Handler) { mux.Handle(path, allowOnly(allowed, h)) }
	if s.cfg.Pprof {
		handle("/debug/pprof/", http.HandlerFunc(pprof.Index))
		handle("/debug/pprof/profile", http.HandlerFunc(pprof.Profile))
		handle("/debug/pprof/symbol", http.HandlerFunc(pprof.Symbol))
		handle("/debug/pprof/trace", http.HandlerFunc(pprof.Trace))
	}
	mux.Handle("/metrics", metricsHandler(s.cfg, s.metrics))
}

// metricsHandler serves reg's metrics to the clients of --metrics-allow
// (the chat server's, and the standalone media server's and relay's).
func metricsHandler(cfg config.Config, reg *prometheus.Registry) http.Handler {
	return allowOnly(config.MetricsAllowList(cfg), promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
}

// storeWriteError is why the store refuses writes now, or nil.
func (s *Server) storeWriteError() error {
	if wh, ok := s.store.(store.WriteHealth); ok {
		return wh.WriteError()
	}
	return nil
}

// shutdown stops accepting, ends every session with a proper stream end,
// flushes lazily kept state and closes the store.
// With upgrading, a new process has taken over the listeners: sessions are
// handed off instead (see handOff).
func (s *Server) shutdown(upgrading bool) {
	s.log.Info("shutting down", "sessions", s.reg.Len(), "upgrade", upgrading)
	s.closeListeners()
	for _, hs := range []*http.Server{s.http, s.mediaHTTP} {
		if hs != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			_ = hs.Shutdown(ctx)
			cancel()
		}
	}
	if upgrading {
		s.handOff()
	} else {
		s.closeSessions()
	}
	// Connections left after their sessions ended only feed closed
	// sessions; during an upgrade the new process waits for the store, so
	// wait for them briefly.
	wait := 5 * time.Second
	if upgrading {
		wait = time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	s.c2s.Shutdown(ctx)
	if s.components != nil {
		s.components.Shutdown(ctx)
	}
	cancel()
	if err := s.lastActivity.Flush(context.Background()); err != nil {
		s.log.Error("flushing last activity", "err", err)
	}
	if s.stopGroups != nil {
		s.stopGroups()
	}
	s.stopCluster()
	if s.admin != nil {
		_ = s.admin.Close()
	}
	if err := s.store.Close(); err != nil {
		s.log.Error("closing the store", "err", err)
	}
	s.log.Info("stopped")
}

// closeSessions ends every session with system-shutdown and waits (a
// bounded time) for them to end.
func (s *Server) closeSessions() {
	s.hub.closing.Store(true)
	bye := stanza.NewStreamError(stanza.StreamSystemShutdown, "the server is shutting down")
	s.reg.Each(func(d router.Device) {
		if sess, ok := d.(*session.Session); ok {
			sess.Close(bye, false)
		}
	})
	s.waitSessions(5 * time.Second)
}

func (s *Server) closeListeners() {
	if s.relay != nil {
		_ = s.relay.Close()
	} else {
		s.relaySocks.close() // bound, the relay not started yet
	}
	for _, ln := range []net.Listener{s.c2sLn, s.c2sTLSLn, s.nativeLn, s.httpLn, s.adminLn, s.mediaLn, s.componentLn} {
		if ln != nil {
			_ = ln.Close()
		}
	}
}

// checkpointer is a store that takes consistent online snapshots (Pebble).
type checkpointer interface{ Checkpoint(dir string) error }

// Version returns the module version and VCS revision of this binary.
func Version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	v := bi.Main.Version
	for _, kv := range bi.Settings {
		if kv.Key == "vcs.revision" && len(kv.Value) >= 12 {
			v += "+" + kv.Value[:12]
		}
	}
	return v
}
