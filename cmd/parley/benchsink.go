package main

import (
	"fmt"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/parley-im/parley/internal/bench"
)

func newBenchSinkCmd(a *app) *cobra.Command {
	var listen, domain string
	var allowRemote bool
	cmd := &cobra.Command{
		Use:   "sink",
		Short: "Run a stand-in server that absorbs the load generator's messages (to measure the generator itself)",
		Long: `Run a sink: a stand-in for a server, for measuring the load generator, never a
server. It speaks just enough of Parley's binary protocol over TLS (a fresh
self-signed certificate) for parley bench's devices: it accepts any PLAIN
login, acknowledges every message with a "sent" tick and forwards it to its
recipient's connection, storing nothing. It absorbs far more messages per core
than a real server, so a run against it shows what the generator can offer.
It prints the messages it received per second until interrupted.`,
		Example: `  taskset -c 1 parley bench sink --listen 127.0.0.1:6990 &
  GOMAXPROCS=1 taskset -c 0 parley bench --server 127.0.0.1:6990 --binary --insecure \
    --mechanism PLAIN --devices 200 --scenarios throughput --rates 100000 --step 10s`,
		Args: cobra.NoArgs,
		RunE: runE(func(cmd *cobra.Command, _ []string) error {
			host, _, err := net.SplitHostPort(listen)
			if err != nil {
				return usagef("invalid --listen %q: %v", listen, err)
			}
			if ip := net.ParseIP(host); !allowRemote && (ip == nil || !ip.IsLoopback()) {
				return usagef("--listen %s is not a loopback address: pass --allow-remote to listen elsewhere", listen)
			}
			sink, err := bench.NewSink(domain)
			if err != nil {
				return err
			}
			ln, err := net.Listen("tcp", listen)
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			fmt.Fprintf(a.stderr, "sink for %s listening on %s (binary protocol, TLS, any PLAIN login)\n", domain, ln.Addr())
			go reportSinkRate(ctx.Done(), a, sink)
			return sink.Serve(ctx, ln)
		}),
	}
	cmd.Flags().StringVar(&listen, "listen", "127.0.0.1:6990", "address to listen on")
	cmd.Flags().StringVar(&domain, "domain", "localhost", "the XMPP domain of the devices' JIDs")
	cmd.Flags().BoolVar(&allowRemote, "allow-remote", false, "allow a --listen address that is not loopback")
	return cmd
}

// reportSinkRate prints the messages received each second in which some
// arrived.
func reportSinkRate(done <-chan struct{}, a *app, sink *bench.Sink) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	var last int64
	for {
		select {
		case <-done:
			return
		case <-t.C:
		}
		n := sink.Messages.Load()
		if n != last {
			fmt.Fprintf(a.stderr, "%d messages/s (%d in all)\n", n-last, n)
		}
		last = n
	}
}
