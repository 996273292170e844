package natstest

import (
	"fmt"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// Server is one NATS server of a test cluster.
type Server struct {
	*server.Server
	URL string // nats://127.0.0.1:port for clients
}

// Cluster starts n NATS servers forming one cluster and returns them once
// every route is up. Each listens on ports the kernel picks when it
// starts (a port picked beforehand and closed could be taken meanwhile,
// by any socket of the test process) and routes to the ones started
// before it; NATS's gossip completes the mesh.
func Cluster(tb testing.TB, n int) []*Server {
	tb.Helper()
	var routes []*url.URL
	out := make([]*Server, n)
	for i := range n {
		opts := &server.Options{
			ServerName: fmt.Sprintf("nats-%d", i), Host: "127.0.0.1", Port: server.RANDOM_PORT,
			NoSigs: true, NoLog: true,
			Cluster: server.ClusterOpts{Name: "parley-test", Host: "127.0.0.1", Port: server.RANDOM_PORT},
			Routes:  slices.Clone(routes),
		}
		s, err := server.NewServer(opts)
		if err != nil {
			tb.Fatal(err)
		}
		s.Start()
		tb.Cleanup(func() { s.Shutdown(); s.WaitForShutdown() })
		if !s.ReadyForConnections(10 * time.Second) {
			tb.Fatalf("NATS server %d did not start", i)
		}
		routes = append(routes, &url.URL{Scheme: "nats", Host: s.ClusterAddr().String()})
		out[i] = &Server{Server: s, URL: s.ClientURL()}
	}
	deadline := time.Now().Add(10 * time.Second)
	for _, s := range out {
		for s.NumRoutes() < n-1 {
			if time.Now().After(deadline) {
				tb.Fatalf("NATS cluster: %s has %d routes, want %d", s.Name(), s.NumRoutes(), n-1)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	return out
}
