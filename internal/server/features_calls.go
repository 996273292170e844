package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/parley-im/parley/internal/config"
	"github.com/parley-im/parley/internal/feature/calls"
	"github.com/parley-im/parley/internal/feature/extdisco"
	"github.com/parley-im/parley/internal/jid"
	"github.com/parley-im/parley/internal/media"
	"github.com/parley-im/parley/internal/module"
	"github.com/parley-im/parley/internal/stanza"
	"github.com/parley-im/parley/internal/turn"
)

// relaySockets are the bound sockets of a TURN relay.
type relaySockets struct {
	udp      net.PacketConn
	tcp, tls net.Listener
}

func (r relaySockets) close() {
	if r.udp != nil {
		_ = r.udp.Close()
	}
	for _, ln := range []net.Listener{r.tcp, r.tls} {
		if ln != nil {
			_ = ln.Close()
		}
	}
}

// turnSecret reads (or creates, on first start) the shared secret of
// chat servers and relays. It is never logged.
func turnSecret(cfg config.Config, log *slog.Logger) ([]byte, error) {
	path := config.TURNSecretPath(cfg)
	secret, created, err := media.LoadOrCreateSecret(path)
	if err != nil {
		return nil, fmt.Errorf("--turn-secret-file: %w", err)
	}
	if created {
		log.Info("created the TURN shared secret; give this file to every chat server and relay of the deployment", "file", path)
	}
	return secret, nil
}

// binder binds sockets: directly, or through a live upgrader (inherited
// from the old process).
type binder struct {
	listen       func(network, addr string) (net.Listener, error)
	listenPacket func(network, addr string) (net.PacketConn, error)
}

// direct binds with the net package.
func direct() binder { return binder{listen: net.Listen, listenPacket: net.ListenPacket} }

// bindRelay binds --turn (UDP and TCP) and --turn-tls (TCP; startRelay
// adds TLS).
func bindRelay(cfg config.Config, b binder) (relaySockets, error) {
	var socks relaySockets
	var err error
	if socks.udp, socks.tcp, err = turn.ListenUDPAndTCPWith(cfg.TURN, b.listenPacket, b.listen); err != nil {
		return socks, fmt.Errorf("listening on --turn %s: %w", cfg.TURN, err)
	}
	if cfg.TURNTLS != "" {
		if socks.tls, err = b.listen("tcp", cfg.TURNTLS); err != nil {
			socks.close()
			return relaySockets{}, fmt.Errorf("listening on --turn-tls %s: %w", cfg.TURNTLS, err)
		}
	}
	return socks, nil
}

// startRelay runs a relay on socks (bound by bindRelay).
func startRelay(cfg config.Config, socks relaySockets, secret []byte, tlsCfg *tls.Config, reg prometheus.Registerer, log *slog.Logger) (*turn.Relay, relaySockets, error) {
	if socks.tls != nil {
		socks.tls = tls.NewListener(socks.tls, tlsCfg)
	}
	ip, err := config.TURNRelayIP(cfg, socks.udp.LocalAddr().String())
	if err != nil {
		socks.close()
		return nil, relaySockets{}, err
	}
	lo, hi, _ := config.TURNPortRange(cfg) // validated
	bind, _, _ := net.SplitHostPort(cfg.TURN)
	r, err := turn.New(turn.Config{UDP: socks.udp, TCP: socks.tcp, TLS: socks.tls, Realm: cfg.Domain, Secret: secret,
		RelayIP: ip, RelayBind: bind, PortMin: lo, PortMax: hi, MaxAllocationsPerUser: cfg.TURNMaxAllocations,
		Bandwidth: cfg.TURNBandwidth, Metrics: turn.NewMetrics(reg), Log: log})
	if err != nil {
		socks.close()
		return nil, relaySockets{}, err
	}
	return r, socks, nil
}

// buildRelay starts the embedded relay (unless --turn is empty) and
// returns the XEP-0215 feature announcing it, or the relay of
// --turn-public; nil when there is none.
func (s *Server) buildRelay() (module.Feature, error) {
	if s.cfg.TURN == "" && s.cfg.TURNPublic == "" {
		return nil, nil
	}
	secret, err := turnSecret(s.cfg, s.log)
	if err != nil {
		return nil, err
	}
	var bound, boundTLS string
	if s.cfg.TURN != "" {
		tlsCfg := &tls.Config{GetCertificate: s.certificate, MinVersion: tls.VersionTLS12}
		if s.relay, s.relaySocks, err = startRelay(s.cfg, s.relaySocks, secret, tlsCfg, s.metrics, s.log.With("component", "turn")); err != nil {
			return nil, err
		}
		bound = s.relaySocks.udp.LocalAddr().String()
		if s.relaySocks.tls != nil {
			boundTLS = s.relaySocks.tls.Addr().String()
		}
	}
	ttl := s.cfg.TURNCredentialTTL
	return extdisco.New(extdisco.Options{
		Services: announced(s.cfg, bound, boundTLS),
		Issue: func(user string) extdisco.Credential {
			c := turn.Issue(secret, user, ttl, time.Now())
			return extdisco.Credential{Username: c.Username, Password: c.Password, Expires: c.Expires}
		},
	})
}

// announced lists the services clients are told about: STUN and TURN on
// UDP and TCP, TURN over TLS when it listens here.
func announced(cfg config.Config, bound, boundTLS string) []extdisco.Service {
	host, port, _ := config.TURNAnnounced(cfg, bound)
	out := []extdisco.Service{
		{Type: "stun", Host: host, Port: port, Transport: "udp"},
		{Type: "turn", Host: host, Port: port, Transport: "udp"},
		{Type: "turn", Host: host, Port: port, Transport: "tcp"},
	}
	if boundTLS != "" {
		_, p, _ := net.SplitHostPort(boundTLS)
		n, _ := strconv.Atoi(p)
		out = append(out, extdisco.Service{Type: "turns", Host: host, Port: n, Transport: "tcp"})
	}
	return out
}

// RunTURN runs a standalone relay ("parley turn") until ctx is cancelled:
// --turn (UDP and TCP), --turn-tls with --tls-cert/--tls-key, /metrics and
// /healthz on --http when set.
func RunTURN(ctx context.Context, cfg config.Config, log *slog.Logger) error {
	if cfg.TURN == "" {
		return errors.New("--turn: a listener address is required")
	}
	secret, err := turnSecret(cfg, log)
	if err != nil {
		return err
	}
	var tlsCfg *tls.Config
	if cfg.TURNTLS != "" {
		cert, _, err := loadOrCreateCertificate(cfg.TLSCert, cfg.TLSKey, cfg.Data, cfg.Domain)
		if err != nil {
			return err
		}
		tlsCfg = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	reg := prometheus.NewRegistry()
	socks, err := bindRelay(cfg, direct())
	if err != nil {
		return err
	}
	relay, socks, err := startRelay(cfg, socks, secret, tlsCfg, reg, log)
	if err != nil {
		return err
	}
	defer relay.Close()
	var hs *http.Server
	httpAddr := ""
	if cfg.HTTP != "" {
		ln, err := net.Listen("tcp", cfg.HTTP)
		if err != nil {
			return fmt.Errorf("listening on --http %s: %w", cfg.HTTP, err)
		}
		httpAddr = ln.Addr().String()
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", metricsHandler(cfg, reg))
		mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
			_, _ = fmt.Fprintf(w, `{"status":"ok","allocations":%d}`+"\n", relay.Allocations())
		})
		hs = newHTTPServer(clientAddress(config.TrustedProxyList(cfg), mux), httpIdleTimeout)
		go func() { _ = hs.Serve(ln) }()
	}
	var tlsAddr string
	if socks.tls != nil {
		tlsAddr = socks.tls.Addr().String()
	}
	log.Info("parley turn is serving", "turn", socks.udp.LocalAddr().String(), "turn_tls", tlsAddr, "http", httpAddr,
		"realm", cfg.Domain, "version", Version())
	<-ctx.Done()
	if hs != nil {
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = hs.Shutdown(sctx)
	}
	log.Info("stopped")
	return nil
}

// callFeatures builds the features of calls: call signalling for Parley's
// clients (push wakes a callee with no connected device), XEP-0215 with
// the embedded relay.
func (s *Server) callFeatures() ([]module.Feature, error) {
	opts := calls.Options{RingTimeout: s.cfg.CallRingTimeout}
	if s.push != nil {
		opts.Wake = s.push.Wake
	}
	s.calls = calls.New(s.store, opts)
	out := []module.Feature{s.calls}
	ext, err := s.buildRelay()
	if err != nil {
		return nil, err
	}
	if ext != nil {
		out = append(out, ext)
	}
	return out, nil
}

// Allowed runs the route filters on st without routing it
// (module.RouteChecker).
func (h *Hub) Allowed(ctx context.Context, st *stanza.Element, to jid.JID) (bool, *stanza.Error) {
	return h.filter(ctx, st, to)
}

// relayAddrs are the bound addresses of the embedded relay ("" when off).
func (s *Server) relayAddrs() (udp, tlsAddr string) {
	if s.relay == nil {
		return "", ""
	}
	if s.relaySocks.tls != nil {
		tlsAddr = s.relaySocks.tls.Addr().String()
	}
	return s.relaySocks.udp.LocalAddr().String(), tlsAddr
}
