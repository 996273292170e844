package server

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parley-im/parley/internal/auth"
	"github.com/parley-im/parley/internal/config"
	"github.com/parley-im/parley/internal/feature/groups"
	"github.com/parley-im/parley/internal/proccpu"
	"github.com/parley-im/parley/internal/xmpptest"
)

// BenchmarkGroupFanOut measures the group fan-out path end to end in one
// process: alice posts to a group whose members are all online (XML
// clients on loopback TCP, each reading in its own goroutine); one op is
// one post delivered to every member (alice's own devices included).
// deliveries/s counts member copies received by the clients;
// cpu-ns/delivery is the process's CPU time (getrusage) per copy from the
// first post to the last copy received: the server's and the in-process
// clients' (their XML parsing), the logins excepted.
//
//	go test ./internal/server -run '^$' -bench BenchmarkGroupFanOut -benchmem
func BenchmarkGroupFanOut(b *testing.B) {
	for _, n := range []int{100, 1024} {
		b.Run(fmt.Sprintf("members=%d", n), func(b *testing.B) { benchFanOut(b, n) })
	}
}

func benchFanOut(b *testing.B, n int) {
	s := startBenchServer(b)
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("m%04d", i)
		a, err := auth.NewAccount(names[i]+"@localhost", "pw", 4096)
		if err != nil {
			b.Fatal(err)
		}
		if err := s.store.CreateAccount(context.Background(), a); err != nil {
			b.Fatal(err)
		}
	}
	clients := make([]*xmpptest.Client, n)
	for i, name := range names {
		clients[i] = xmpptest.Dial(b, s.Addrs().C2S, xmpptest.Options{User: name, Password: "pw", Resource: "r"})
		clients[i].SendRaw("<presence/>")
	}
	g := createBenchGroup(b, clients[0], names[1:])
	var got atomic.Int64
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for _, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if el := c.Next(50 * time.Millisecond); el != nil && strings.HasPrefix(el.Body(), "bench ") {
					got.Add(1)
				}
			}
		}()
	}
	defer func() { close(stop); wg.Wait() }()
	alice := clients[0]
	b.ReportAllocs()
	b.ResetTimer()
	start, cpu0 := time.Now(), proccpu.Now()
	for i := 0; i < b.N; i++ {
		alice.SendRaw(fmt.Sprintf("<message to='%s' type='groupchat' id='b%d'><body>bench %d</body></message>", g, i, i))
	}
	want := int64(b.N) * int64(n)
	deadline := time.Now().Add(5 * time.Minute)
	for got.Load() < want {
		if time.Now().After(deadline) {
			b.Fatalf("%d of %d deliveries", got.Load(), want)
		}
		time.Sleep(time.Millisecond)
	}
	el, cpu := time.Since(start), proccpu.Now()-cpu0
	b.StopTimer()
	b.ReportMetric(float64(want)/el.Seconds(), "deliveries/s")
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(want), "cpu-ns/delivery")
}

// createBenchGroup has c create a group with members and returns its
// address.
func createBenchGroup(b *testing.B, c *xmpptest.Client, members []string) string {
	var sb strings.Builder
	sb.WriteString("<iq type='set' id='create' to='groups.localhost'><create xmlns='urn:parley:groups:0' subject='bench'>")
	for _, m := range members {
		fmt.Fprintf(&sb, "<member jid='%s@localhost'/>", m)
	}
	sb.WriteString("</create></iq>")
	c.SendRaw(sb.String())
	r := c.Expect("the group", xmpptest.IsIQResult("create"))
	info := r.Child(groups.NS, "info")
	if info == nil {
		b.Fatalf("create: %v", r)
	}
	return info.Attr("jid")
}

func startBenchServer(b *testing.B) *Server {
	cfg := config.Default()
	cfg.Data = b.TempDir()
	cfg.C2S, cfg.C2STLS, cfg.Native, cfg.HTTP, cfg.Media = "127.0.0.1:0", "", "", "", "127.0.0.1:0"
	cfg.TURN = ""
	return startConfiguredBenchServer(b, cfg)
}

// startConfiguredBenchServer runs a server with cfg until the benchmark ends.
// PARLEY_TEST_LOG=1 shows its log.
func startConfiguredBenchServer(b *testing.B, cfg config.Config) *Server {
	// The level of `parley serve` (info), whose debug lines are not even
	// formatted, unless PARLEY_TEST_LOG shows them all.
	var out io.Writer = io.Discard
	level := slog.LevelInfo
	if os.Getenv("PARLEY_TEST_LOG") != "" {
		out, level = os.Stderr, slog.LevelDebug
	}
	s, err := New(cfg, slog.New(slog.NewTextHandler(out, &slog.HandlerOptions{Level: level})))
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = s.Serve(ctx); close(done) }()
	b.Cleanup(func() { cancel(); <-done })
	return s
}
