package natstest

import (
	"fmt"
	"net"
	"net/url"
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
// every route is up.
func Cluster(tb testing.TB, n int) []*Server {
	tb.Helper()
	clusterPorts := make([]int, n)
	for i := range clusterPorts {
		clusterPorts[i] = freePort(tb)
	}
	var routes []*url.URL
	for _, p := range clusterPorts {
		routes = append(routes, &url.URL{Scheme: "nats", Host: fmt.Sprintf("127.0.0.1:%d", p)})
	}
	out := make([]*Server, n)
	for i := range n {
		opts := &server.Options{
			ServerName: fmt.Sprintf("nats-%d", i), Host: "127.0.0.1", Port: server.RANDOM_PORT,
			NoSigs: true, NoLog: true,
			Cluster: server.ClusterOpts{Name: "parley-test", Host: "127.0.0.1", Port: clusterPorts[i]},
			Routes:  routes,
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

func freePort(tb testing.TB) int {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
