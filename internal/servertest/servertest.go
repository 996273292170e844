package servertest

import (
	"context"
	"io"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/parley-im/parley/internal/admin"
	"github.com/parley-im/parley/internal/config"
	"github.com/parley-im/parley/internal/server"
)

// Server is a running test server.
type Server struct {
	server.Addrs
	Config config.Config
	stop   func()
}

// Start runs a server with the default configuration on loopback ports
// chosen by the kernel, its data in a temporary directory; tweak may change
// the configuration first. PARLEY_TEST_LOG=1 shows its log. The server
// stops when the test ends.
func Start(t testing.TB, tweak func(*config.Config)) *Server {
	t.Helper()
	var out io.Writer = io.Discard
	if os.Getenv("PARLEY_TEST_LOG") != "" {
		out = os.Stderr
	}
	return StartLogged(t, tweak, out)
}

// StartLogged is Start with the server's debug log written to out (tests
// that check what the server logs; out must be safe for concurrent use).
func StartLogged(t testing.TB, tweak func(*config.Config), out io.Writer) *Server {
	t.Helper()
	cfg := config.Default()
	cfg.Data = t.TempDir()
	cfg.C2S, cfg.C2STLS, cfg.Native, cfg.HTTP, cfg.Media = "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0"
	cfg.TURN, cfg.TURNPorts = "127.0.0.1:0", "" // ephemeral UDP and TCP ports
	cfg.MinFreeDiskMB = 0                       // the test machine's disk may be small; the floor has its own tests
	if tweak != nil {
		tweak(&cfg)
	}
	s, err := server.New(cfg, slog.New(slog.NewTextHandler(out, &slog.HandlerOptions{Level: slog.LevelDebug})))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = s.Serve(ctx); close(done) }()
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			cancel()
			<-done
		}
	}
	t.Cleanup(stop)
	return &Server{Addrs: s.Addrs(), Config: cfg, stop: stop}
}

// Stop shuts the server down and waits for it (tests that check what
// clients see at shutdown).
func (s *Server) Stop() { s.stop() }

// AddUser creates an account through the server's admin socket.
func (s *Server) AddUser(t testing.TB, jid, password string) {
	t.Helper()
	c, err := admin.Dial(config.AdminSocketPath(s.Config))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := c.CreateUser(ctx, jid, password); err != nil {
		t.Fatalf("creating %s: %v", jid, err)
	}
}
