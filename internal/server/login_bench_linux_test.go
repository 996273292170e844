package server

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/parley-im/parley/client"
	"github.com/parley-im/parley/internal/config"
)

// BenchmarkLogin measures the server's whole path of one login and logout,
// through real loopback sockets, as `parley bench --scenarios login
// --pipeline --tls plain --mechanism SCRAM-SHA-256 --precompute-keys`
// drives it: the connection accepted, the stream opened, SCRAM-SHA-256
// (the client's keys derived once, before the timer), the stream
// restarted, a resource bound, stream management enabled, the initial
// presence handled (the roster read for its subscribers, the offline queue
// for what waits), then the stream closed. 100 logins are in flight, over
// 1,000 accounts in turn.
//
// The clients (the client library, as `parley bench` uses it) run in a
// process of their own (this test binary again, TestLoginClientProcess),
// so allocs/op and B/op are the server's, server-µs/op its CPU (getrusage)
// per login, goroutines/op the goroutines it started, reads/op and
// writes/op its read and write system calls; clients-µs/op is the client
// process's CPU.
//
//	go test -c -o server.test ./internal/server && cd internal/server && \
//	  PARLEY_BENCH_CLIENT_CPUS=0 taskset -c 1 ../../server.test -test.run '^$' \
//	    -test.bench Login -test.benchtime 20000x
func BenchmarkLogin(b *testing.B) {
	const accounts, inflight = 1000, 100
	cfg := config.Default()
	cfg.Data = b.TempDir()
	cfg.C2S, cfg.C2STLS, cfg.Native, cfg.HTTP, cfg.Media, cfg.TURN = "127.0.0.1:0", "", "", "", "", ""
	cfg.AllowPlaintextAuth = true
	cfg.NoServerHistory = true // as `parley bench` is run against the peers
	s := startConfiguredBenchServer(b, cfg)
	createBenchAccounts(b, s, accounts)
	clients := startLoginClientProcess(b, s.Addrs().C2S, accounts, inflight)
	clients.run(b, 2*accounts) // warm up: every account's keys, the pools
	reportServerShare(b, clients)
}

// loginClientEnv set to "addr accounts inflight" makes TestLoginClientProcess
// the client process of BenchmarkLogin: it says oneToOneReady, then for each
// number n read from its stdin logs n devices in and out (inflight at a
// time) and says oneToOneDone with its CPU in nanoseconds.
const loginClientEnv = "PARLEY_LOGIN_CLIENT"

func TestLoginClientProcess(t *testing.T) {
	var addr string
	var accounts, inflight int
	clientProcessArgs(t, loginClientEnv, "BenchmarkLogin", &addr, &accounts, &inflight)
	keys := client.NewKeyCache()
	next := 0
	serveRuns(t, func(n int) error {
		err := loginMany(addr, keys, next, n, accounts, inflight)
		next += n
		return err
	})
}

// loginMany logs n devices in and out, inflight at a time, the first with
// account first (modulo accounts).
func loginMany(addr string, keys *client.KeyCache, first, n, accounts, inflight int) error {
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	slots := make(chan struct{}, inflight)
	for i := range n {
		slots <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-slots; wg.Done() }()
			o := client.Options{JID: fmt.Sprintf("u%d@localhost/bench", (first+i)%accounts), Password: "pw",
				Addr: addr, Encoding: client.XML, Transport: client.Plaintext, Mechanism: "SCRAM-SHA-256",
				Pipeline: true, Available: true, KeyCache: keys, TCPKeepAlive: -1, DialTimeout: time.Minute}
			c, err := client.Dial(context.Background(), o)
			if err == nil {
				err = c.Close()
			}
			if err != nil {
				mu.Lock()
				if firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return firstErr
}

func startLoginClientProcess(b *testing.B, addr string, accounts, inflight int) *clientProcess {
	return startBenchClients(b, "TestLoginClientProcess", fmt.Sprintf("%s=%s %d %d", loginClientEnv, addr, accounts, inflight))
}
