package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/parley-im/parley/client"
	"github.com/parley-im/parley/internal/admin"
	"github.com/parley-im/parley/internal/bench"
)

type benchFlags struct {
	cfg         bench.Config
	transport   string
	scenarios   string
	rates       string
	groupSizes  string
	createUsers bool
	register    bool
	adminSocket string
	jsonOut     string
	quiet       bool
	cpuProfile  string
	upgradeSock string
	upgradeGap  time.Duration
	upgradeDial string
}

func newBenchCmd(a *app) *cobra.Command {
	var f benchFlags
	f.cfg = bench.Defaults()
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Load-test Parley or any XMPP server with simulated devices",
		Long: `Drive many simulated devices, each a real client connection, against a
server and measure it:

  login       a login ramp (logins/s, login latency), --in-flight at a time
  idle        server memory per idle, available device (needs --server-pid)
  throughput  one-to-one messages between pairs of devices, open loop: each
              --rates step is offered for --step whatever the server does;
              delivered/s, end-to-end latency p50/p90/p99/p99.9 from
              timestamps in the messages, lost/duplicated/reordered, server
              CPU per delivered message (needs --server-pid); stops after
              the first step that is not flat (>= 97% delivered, p99 <= 50 ms)
  keepalive   (only when named) every device sends a keep-alive pulse every
              --keepalive-interval for --keepalive-duration (a space in XML,
              an empty frame in the binary protocol): the server's CPU to
              hold that many live connections (needs --server-pid)
  closed      closed loop: each device keeps --window messages in flight
  offline     --offline-messages stored for offline devices, then drained
              when they log in
  groups      Parley only, not run unless named: for each --group-sizes, a
              group of that many devices whose first posts --group-posts
              messages at --group-rate/s (in bursts of --group-burst),
              all members online and then half offline (logging in after
              the posts); deliveries/s, latency p50/p99 to online members,
              server CPU per delivery and deliveries/s per core (needs
              --server-pid), the offline half's drain time; --devices must
              be at least the largest size.
              With --muc-service (any XMPP server): the same over XEP-0045,
              members of a members-only room there, all online
  upgrade     (only when named) --upgrade-rate msg/s for --upgrade-duration
              with a live upgrade of the server (parley upgrade through
              --upgrade-socket) at --upgrade-at: refused connections (a
              dialer loop), lost, duplicated, the longest time without a
              delivery, the time until every device is back

The accounts must exist: --users-format with the device number (bench0,
bench1, ...) at --domain, all with --password. Against Parley,
--create-users creates them through the admin socket of a server running on
this machine; --register creates them by in-band registration (XEP-0077)
on any server that allows it (ejabberd, Prosody, Parley with
--allow-registration). docs/benchmarks.md has the exact setup of the
published comparisons.

Only loopback targets are allowed unless --allow-remote: point a load
generator only at a server you run. On Linux, devices dial a server at an
IPv4 loopback address from 127.0.0.1 to 127.0.0.64 in turn: from one
address, connect() slows to about 1 ms once some 14,000 are open.

The generator reports when it falls behind its own schedule (that step then
measures the generator, not the server). It runs with GOGC=400 unless the
environment sets GOGC. "parley bench sink" is a stand-in server that shows
what the generator itself can offer.`,
		Example: `  # Parley on this machine, plaintext PLAIN as the published comparisons run
  parley serve --allow-plaintext-auth --data /tmp/bench-data &
  parley bench --create-users --data /tmp/bench-data --tls plain \
    --devices 1000 --server-pid $(pgrep -f 'parley serve')

  # Only the login ramp over STARTTLS, JSON to a file
  parley bench --scenarios login --insecure --json login.json`,
		Args: cobra.NoArgs,
		RunE: runE(func(cmd *cobra.Command, _ []string) error {
			return runBench(cmd, a, &f)
		}),
	}
	fs := cmd.Flags()
	c := &f.cfg
	fs.StringVar(&c.Addr, "server", c.Addr, "the server's host:port")
	fs.StringVar(&c.Addr2, "server2", "", "a second node of the same cluster: odd-numbered devices connect there, so that every pair spans two nodes (cross-node latency)")
	fs.StringVar(&c.Domain, "domain", c.Domain, "the accounts' domain")
	fs.StringVar(&c.UserFormat, "users-format", c.UserFormat, "account name with %d for the device number")
	fs.StringVar(&c.Password, "password", c.Password, "the password of every bench account (throwaway accounts only)")
	fs.IntVar(&c.Devices, "devices", c.Devices, "simulated devices (an even number: they form pairs)")
	fs.StringVar(&f.transport, "tls", "starttls", "starttls, direct, or plain (no TLS: the server must allow plaintext auth); xml only")
	fs.BoolVar(&c.Binary, "binary", false, "use Parley's binary protocol (point --server at the native port, 5224; always TLS) instead of XMPP's XML")
	fs.BoolVar(&c.Insecure, "insecure", false, "accept any server certificate (self-signed test servers)")
	fs.StringVar(&c.Mechanism, "mechanism", "", "SASL mechanism: SCRAM-SHA-256, SCRAM-SHA-1 or PLAIN (default: strongest offered)")
	fs.BoolVar(&c.Pipeline, "pipeline", false, "log in with pipelined steps (Parley's servers and others that offer stream management; with --mechanism: three round trips instead of six); --binary always does")
	fs.BoolVar(&c.SASL2, "sasl2", false, "log in with SASL2 and Bind 2 (XEP-0388, XEP-0386: Parley, Prosody, ejabberd); with --pipeline and --mechanism: two round trips; XML only")
	fs.StringVar(&f.scenarios, "scenarios", strings.Join(bench.DefaultScenarios(), ","), "comma-separated scenarios to run (also: groups, upgrade)")
	fs.IntVar(&c.LoginsInFlight, "in-flight", c.LoginsInFlight, "logins in flight during the ramp")
	fs.BoolVar(&c.PrecomputeKeys, "precompute-keys", false, "log every device in once, untimed, before the ramp (and the offline recipients before the offline phase), so that SCRAM logins reuse the derived keys (measures the server, not the generator's PBKDF2)")
	fs.StringVar(&f.rates, "rates", joinInts(c.Rates), "open-loop offered rates in messages/s, comma-separated, ascending")
	fs.DurationVar(&c.StepDuration, "step", c.StepDuration, "how long each open-loop rate is offered")
	fs.DurationVar(&c.Warmup, "warmup", 0, "offer the first rate for this long before the steps, not counted (a server's first seconds of traffic: pools, stacks, the collector's pace)")
	fs.IntVar(&c.Window, "window", c.Window, "closed loop: messages in flight per device")
	fs.DurationVar(&c.ClosedDuration, "closed-duration", c.ClosedDuration, "closed loop: how long")
	fs.IntVar(&c.OfflineTotal, "offline-messages", c.OfflineTotal, "offline: messages stored in all")
	fs.StringVar(&f.groupSizes, "group-sizes", joinInts(c.GroupSizes), "groups: members per group, comma-separated")
	fs.IntVar(&c.GroupPosts, "group-posts", c.GroupPosts, "groups: posts per group and case")
	fs.Float64Var(&c.GroupRate, "group-rate", c.GroupRate, "groups: posts per second")
	fs.IntVar(&c.GroupBurst, "group-burst", c.GroupBurst, "groups: send the posts in bursts of this many, back to back, at --group-rate on average (a busy group)")
	fs.StringVar(&c.MUCService, "muc-service", "", "groups: run over XEP-0045 rooms on this MUC service (conference.localhost; Parley's is groups.<domain>) instead of Parley's group protocol; all members online")
	fs.IntVar(&c.BodySize, "body-size", c.BodySize, "bytes in each message body")
	fs.DurationVar(&c.Settle, "settle", c.Settle, "idle: how long the devices stay idle before the server's memory is read")
	fs.IntVar(&c.ServerPID, "server-pid", 0, "the server's process id, for its memory and CPU (Linux /proc)")
	fs.BoolVar(&c.AllowRemote, "allow-remote", false, "allow a non-loopback server (only one you run)")
	fs.BoolVar(&f.createUsers, "create-users", false, "create the accounts first through a local Parley's admin socket")
	fs.IntVar(&c.RegistrationsInFlight, "register-in-flight", 0, "registrations in flight with --register (default: --in-flight)")
	fs.BoolVar(&f.register, "register", false, "create the accounts first by in-band registration (XEP-0077; any server that allows it)")
	fs.StringVar(&f.adminSocket, "admin-socket", "", "the admin socket for --create-users (default <data>/admin.sock)")
	fs.String("data", "parley-data", "the Parley data directory, to find its admin socket for --create-users")
	fs.StringVar(&f.jsonOut, "json", "", "also write the report as JSON to this file (- for standard output, instead of the table)")
	fs.BoolVar(&f.quiet, "quiet", false, "no progress bars")
	fs.StringVar(&f.upgradeSock, "upgrade-socket", "", "upgrade scenario: the admin socket of the Parley server to upgrade (<data>/admin.sock); a comma-separated list for a rolling upgrade of cluster nodes, one after the other")
	fs.StringVar(&f.upgradeDial, "upgrade-dial", "", "upgrade scenario: more listeners (comma-separated host:port) the refused-connection loop dials, besides --server and --server2")
	fs.DurationVar(&f.upgradeGap, "upgrade-gap", 10*time.Second, "rolling upgrade (several --upgrade-socket): the pause after a node's new process serves before the next node's upgrade")
	fs.DurationVar(&c.UpgradeAt, "upgrade-at", c.UpgradeAt, "upgrade scenario: when to trigger the upgrade, from the start of the traffic")
	fs.IntVar(&c.UpgradeRate, "upgrade-rate", c.UpgradeRate, "upgrade scenario: messages/s offered")
	fs.DurationVar(&c.UpgradeDuration, "upgrade-duration", c.UpgradeDuration, "upgrade scenario: how long traffic is offered")
	fs.DurationVar(&c.KeepAliveInterval, "keepalive-interval", c.KeepAliveInterval, "keepalive scenario: each device's pulse interval")
	fs.DurationVar(&c.KeepAliveDuration, "keepalive-duration", c.KeepAliveDuration, "keepalive scenario: how long the pulses are measured")
	fs.DurationVar(&c.UpgradeDrain, "upgrade-drain", c.UpgradeDrain, "upgrade scenario: how long to wait after the traffic for everything sent to arrive")
	fs.StringVar(&f.cpuProfile, "cpuprofile", "", "write a CPU profile of the generator itself to this file (go tool pprof)")
	fs.SortFlags = false
	cmd.AddCommand(newBenchCompareCmd(a), newBenchSinkCmd(a))
	return cmd
}

func newBenchCompareCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:     "compare NAME=REPORT.json...",
		Short:   "Print reports of parley bench --json side by side as a Markdown table",
		Example: `  parley bench compare parley=out/parley.json ejabberd=out/ejabberd.json prosody=out/prosody.json`,
		Args:    cobra.MinimumNArgs(1),
		RunE: runE(func(_ *cobra.Command, args []string) error {
			var runs []bench.Named
			for _, arg := range args {
				name, path, ok := strings.Cut(arg, "=")
				if !ok || name == "" || path == "" {
					return usagef("invalid %q: want NAME=REPORT.json", arg)
				}
				b, err := os.ReadFile(path)
				if err != nil {
					return err
				}
				var r bench.Report
				if err := json.Unmarshal(b, &r); err != nil {
					return fmt.Errorf("%s: not a parley bench JSON report: %w", path, err)
				}
				runs = append(runs, bench.Named{Name: name, Report: &r})
			}
			return bench.WriteComparison(a.stdout, runs)
		}),
	}
}

func joinInts(v []int) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = strconv.Itoa(x)
	}
	return strings.Join(s, ",")
}

func (f *benchFlags) parse(cmd *cobra.Command) ([]string, error) {
	switch f.transport {
	case "starttls":
		f.cfg.Transport = client.STARTTLS
	case "direct":
		f.cfg.Transport = client.DirectTLS
	case "plain":
		f.cfg.Transport = client.Plaintext
	default:
		return nil, usagef("invalid --tls %q: want starttls, direct or plain", f.transport)
	}
	f.cfg.Rates = nil
	for _, r := range strings.Split(f.rates, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(r))
		if err != nil || n <= 0 || n > 10_000_000 {
			return nil, usagef("invalid --rates %q: want positive numbers of messages per second, like 1000,5000", f.rates)
		}
		f.cfg.Rates = append(f.cfg.Rates, n)
	}
	f.cfg.GroupSizes = nil
	for _, g := range strings.Split(f.groupSizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(g))
		if err != nil || n < 2 || n > 1_000_000 {
			return nil, usagef("invalid --group-sizes %q: want member counts of 2 or more, like 10,100,1024", f.groupSizes)
		}
		f.cfg.GroupSizes = append(f.cfg.GroupSizes, n)
	}
	if f.adminSocket == "" {
		f.adminSocket = cmd.Flags().Lookup("data").Value.String() + "/admin.sock"
	}
	if f.upgradeSock != "" {
		socks, gap, log := strings.Split(f.upgradeSock, ","), f.upgradeGap, cmd.ErrOrStderr()
		f.cfg.Upgrade = func(ctx context.Context) (int, int, error) { return upgradeRolling(ctx, socks, gap, log) }
		if f.cfg.Addr2 != "" {
			f.cfg.DialAddrs = append(f.cfg.DialAddrs, f.cfg.Addr2)
		}
		for _, d := range strings.Split(f.upgradeDial, ",") {
			if d = strings.TrimSpace(d); d != "" {
				f.cfg.DialAddrs = append(f.cfg.DialAddrs, d)
			}
		}
	}
	var scenarios []string
	for _, s := range strings.Split(f.scenarios, ",") {
		scenarios = append(scenarios, strings.TrimSpace(s))
	}
	return scenarios, nil
}

// generatorGCPercent is the generator's GOGC unless the environment sets
// one: its garbage collection took a third of its core at 100,000 msg/s
// with the runtime's default (100), and its memory is not what is measured.
const generatorGCPercent = 400

func relaxGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(generatorGCPercent)
	}
}

func runBench(cmd *cobra.Command, a *app, f *benchFlags) error {
	scenarios, err := f.parse(cmd)
	if err != nil {
		return err
	}
	parent := cmd.Context()
	raiseFileLimit(slog.New(slog.NewTextHandler(io.Discard, nil)))
	relaxGC()
	ctx, stop := signal.NotifyContext(parent, os.Interrupt, syscall.SIGTERM)
	defer stop()
	if !f.quiet && isTerminal(a.stderr) {
		f.cfg.Progress = a.stderr
	}
	if f.createUsers {
		if err := createBenchUsers(ctx, a, f); err != nil {
			return err
		}
	}
	if f.register {
		if err := bench.Register(ctx, f.cfg); err != nil {
			return err
		}
	}
	if f.cpuProfile != "" {
		stopProfile, err := startCPUProfile(f.cpuProfile)
		if err != nil {
			return err
		}
		defer stopProfile()
	}
	report, err := bench.Run(ctx, f.cfg, scenarios)
	if report != nil {
		if werr := writeBenchReport(a, f, report); werr != nil && err == nil {
			err = werr
		}
	}
	return err
}

func writeBenchReport(a *app, f *benchFlags, r *bench.Report) error {
	if f.jsonOut == "-" {
		enc := json.NewEncoder(a.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	if err := r.WriteText(a.stdout); err != nil {
		return err
	}
	if f.jsonOut == "" {
		return nil
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(f.jsonOut, append(b, '\n'), 0o644)
}

// createBenchUsers creates the accounts through the admin socket, a few at
// a time (each costs a key derivation on the server).
func createBenchUsers(ctx context.Context, a *app, f *benchFlags) error {
	c := f.cfg
	fmt.Fprintf(a.stderr, "creating %d accounts through %s\n", c.Devices, f.adminSocket)
	jobs := make(chan int)
	errs := make(chan error, 8)
	var wg sync.WaitGroup
	for range 8 {
		ac, err := admin.Dial(f.adminSocket)
		if err != nil {
			return fmt.Errorf("--create-users needs a running parley serve: %w", err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer ac.Close()
			for i := range jobs {
				user := fmt.Sprintf(c.UserFormat, i) + "@" + c.Domain
				if err := ac.CreateUser(ctx, user, c.Password); err != nil && !strings.Contains(err.Error(), "exists") {
					errs <- fmt.Errorf("creating %s: %w", user, err)
					return
				}
			}
		}()
	}
	start := time.Now()
feed:
	for i := range c.Devices {
		select {
		case jobs <- i:
		case err := <-errs:
			close(jobs)
			wg.Wait()
			return err
		case <-ctx.Done():
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	select {
	case err := <-errs:
		return err
	default:
	}
	fmt.Fprintf(a.stderr, "created in %v\n", time.Since(start).Round(time.Millisecond))
	return ctx.Err()
}

// startCPUProfile profiles this process until the returned func is called.
func startCPUProfile(path string) (func(), error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

// upgradeThrough runs a live upgrade through the admin socket sock and
// waits until the new process serves; it returns the old and new pids.
func upgradeThrough(ctx context.Context, sock string) (oldPID, newPID int, err error) {
	c, err := admin.Dial(sock)
	if err != nil {
		return 0, 0, err
	}
	old, err := c.Info(ctx)
	if err == nil {
		newPID, err = c.Upgrade(ctx)
	}
	c.Close()
	if err != nil {
		return 0, 0, err
	}
	_, err = waitForPID(ctx, sock, newPID)
	return old.PID, newPID, err
}
