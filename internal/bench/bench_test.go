package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-im/parley/client"
	"github.com/parley-im/parley/internal/config"
	"github.com/parley-im/parley/internal/servertest"
)

// startBenchServer runs a Parley server with n bench accounts, allowing
// PLAIN without TLS (as the published comparisons run).
func startBenchServer(t *testing.T, n int) (*servertest.Server, Config) {
	srv := servertest.Start(t, func(c *config.Config) { c.AllowPlaintextAuth = true })
	cfg := Config{Addr: srv.C2S, Devices: n, Password: "pw", Transport: client.Plaintext, Mechanism: "PLAIN"}
	if err := cfg.fill(); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() { defer wg.Done(); srv.AddUser(t, cfg.jid(i), "pw") }()
	}
	wg.Wait()
	return srv, cfg
}

// TestEveryScenarioAgainstParley runs the whole generator, small, against
// a real server: every message arrives once, in order, and the figures add
// up.
func TestEveryScenarioAgainstParley(t *testing.T) {
	_, cfg := startBenchServer(t, 20)
	cfg.Rates = []int{200, 400}
	cfg.StepDuration, cfg.ClosedDuration, cfg.Drain, cfg.Settle = time.Second, time.Second, 2*time.Second, 10*time.Millisecond
	cfg.OfflineTotal = 500
	cfg.ServerPID = os.Getpid() // the server runs in this process
	r, err := Run(context.Background(), cfg, DefaultScenarios())
	if err != nil {
		t.Fatal(err)
	}
	if r.Login == nil || r.Login.Devices != 20 || r.Login.PerSecond <= 0 || r.Login.GeneratorCPUPerLoginUS <= 0 || r.Login.GeneratorCPUPercent <= 0 {
		t.Fatalf("login: %+v", r.Login)
	}
	if r.Idle == nil || r.Idle.RSSAfterBytes <= 0 {
		t.Fatalf("idle: %+v", r.Idle)
	}
	// The second step runs only if the first was flat (p99 <= 50 ms), which
	// a loaded test machine under -race does not promise.
	if len(r.Steps) == 0 || len(r.Steps) > 2 || (len(r.Steps) == 1 && r.Steps[0].Flat) {
		t.Fatalf("open loop steps: %+v", r.Steps)
	}
	for _, s := range append(r.Steps, *r.Closed) {
		if s.Sent == 0 || s.Lost != 0 || s.Duplicated != 0 || s.Reordered != 0 || s.Delivered != s.Sent {
			t.Errorf("step %+v", s)
		}
		if s.Latency.P50 <= 0 || s.Latency.P99 < s.Latency.P50 || s.ServerCPUPerMsgUS <= 0 {
			t.Errorf("figures %+v", s)
		}
	}
	if s := r.Steps[0]; s.SentPerSecond < 150 || s.SentPerSecond > 250 {
		t.Errorf("offered 200/s, sent %.0f/s", s.SentPerSecond)
	}
	o := r.Offline
	if o == nil || o.Messages != 500 || o.Delivered != 500 || o.Lost != 0 || o.Duplicated != 0 || o.Reordered != 0 {
		t.Fatalf("offline: %+v", o)
	}
	var text bytes.Buffer
	if err := r.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"login ramp", "one-to-one", "closed loop", "offline"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, text.String())
		}
	}
	if _, err := json.Marshal(r); err != nil {
		t.Fatal(err)
	}
	t.Logf("\n%s", text.String())
}

// TestTrackerCountsDuplicatesAndReordering: the receiver-side checks that
// make "0 duplicated, 0 reordered" mean something.
func TestTrackerCountsDuplicatesAndReordering(t *testing.T) {
	var tr tracker
	for _, seq := range []int64{0, 1, 3, 2, 3, 5000} {
		tr.record(seq)
	}
	if tr.unique.Load() != 5 || tr.dups.Load() != 1 || tr.reordered.Load() != 1 {
		t.Fatalf("unique %d dups %d reordered %d", tr.unique.Load(), tr.dups.Load(), tr.reordered.Load())
	}
}

func TestRemoteTargetsAreRefused(t *testing.T) {
	cfg := Config{Addr: "192.0.2.1:5222"}
	if err := cfg.fill(); err == nil || !strings.Contains(err.Error(), "--allow-remote") {
		t.Fatalf("got %v", err)
	}
	cfg = Config{Addr: "192.0.2.1:5222", AllowRemote: true}
	if err := cfg.fill(); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []Config{{Devices: 3}, {BodySize: 10}} {
		if err := bad.fill(); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}

func TestBodyRoundTrip(t *testing.T) {
	f := newFleet(&Config{Devices: 2, BodySize: 100, Domain: "x", UserFormat: "u%d", Window: 1})
	now := time.Now()
	b := f.body(7, 42, now)
	run, from, seq, at, ok := parseBody(b)
	if len(b) != 100 || !ok || run != f.run || from != 7 || seq != 42 || !at.Equal(time.Unix(0, now.UnixNano())) {
		t.Fatalf("%q -> %s %d %d %v %v", b, run, from, seq, at, ok)
	}
	if _, _, _, _, ok := parseBody("nope"); ok {
		t.Fatal("garbage parsed")
	}
}

func TestRegisterCreatesTheAccounts(t *testing.T) {
	srv := servertest.Start(t, func(c *config.Config) {
		c.AllowRegistration, c.RegistrationsPerHour, c.AllowPlaintextAuth = true, 1000, true
	})
	cfg := Config{Addr: srv.C2S, Devices: 6, Transport: client.Plaintext, Mechanism: "PLAIN", Rates: []int{10}, StepDuration: 500 * time.Millisecond}
	if err := Register(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	if err := Register(context.Background(), cfg); err != nil { // existing accounts are fine
		t.Fatal(err)
	}
	r, err := Run(context.Background(), cfg, []string{ScenarioLogin, ScenarioThroughput})
	if err != nil || r.Login.Devices != 6 || r.Steps[0].Lost != 0 {
		t.Fatalf("%v %+v", err, r)
	}
}

// TestOfflineDrainReusesPrecomputedKeys: with SCRAM and PrecomputeKeys,
// every recipient's keys are derived before the drain (the senders' at
// their login, the recipients' at an untimed login first), so that the
// drain's logins measure the server, not the generator's PBKDF2; and the
// phase still delivers every message once, in order.
func TestOfflineDrainReusesPrecomputedKeys(t *testing.T) {
	_, cfg := startBenchServer(t, 10)
	cfg.Mechanism, cfg.PrecomputeKeys, cfg.OfflineTotal, cfg.Drain = "SCRAM-SHA-256", true, 50, time.Second
	cached := -1
	cfg.beforeDrain = func() { cached = cfg.keys.Len() }
	r, err := Run(context.Background(), cfg, []string{ScenarioOffline})
	if err != nil {
		t.Fatal(err)
	}
	if cached != cfg.Devices {
		t.Fatalf("%d of %d devices' keys derived before the drain, want all", cached, cfg.Devices)
	}
	if o := r.Offline; o.Delivered != 50 || o.Lost != 0 || o.Duplicated != 0 || o.Reordered != 0 {
		t.Fatalf("offline: %+v", o)
	}
}

// TestBinaryProtocolAgainstParley runs the throughput scenario over
// Parley's binary protocol (TLS on the native port).
func TestBinaryProtocolAgainstParley(t *testing.T) {
	srv, cfg := startBenchServer(t, 10)
	cfg.Addr, cfg.Binary, cfg.Transport, cfg.Mechanism, cfg.Insecure = srv.Native, true, client.STARTTLS, "", true
	cfg.PrecomputeKeys = true // SCRAM: a first, untimed login of every device
	cfg.Rates, cfg.StepDuration, cfg.Drain = []int{300}, time.Second, 2*time.Second
	r, err := Run(context.Background(), cfg, []string{ScenarioLogin, ScenarioThroughput})
	if err != nil {
		t.Fatal(err)
	}
	s := r.Steps[0]
	if s.Sent < 200 || s.Lost != 0 || s.Duplicated != 0 || s.Reordered != 0 || s.GeneratorCPUPerMsgUS <= 0 {
		t.Fatalf("%+v", s)
	}
}

func TestComparisonTable(t *testing.T) {
	a := &Report{Devices: 10, Login: &LoginResult{PerSecond: 1234}, Steps: []StepResult{
		{OfferedPerSecond: 100, Flat: true, ServerCPUPerMsgUS: 12.5, DeliveredPerSecond: 100},
		{OfferedPerSecond: 200, Flat: false, DeliveredPerSecond: 150, Lost: 3},
	}}
	b := &Report{Devices: 10}
	var out strings.Builder
	if err := WriteComparison(&out, []Named{{"parley", a}, {"peer", b}}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"| figure | parley | peer |", "| logins/s (100 in flight) | 1234 | – |",
		"| highest flat rate (>= 97% delivered, p99 <= 50 ms), msg/s | 100 | – |",
		"at the highest flat rate (µs) | 12.5 | – |", "| not delivered within the drain window (lost or late) / duplicated / reordered | 3 / 0 / 0 | 0 / 0 / 0 |"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("missing %q in\n%s", want, out.String())
		}
	}
}

// Posts in bursts go together, the bursts spaced to keep the average
// rate: bursts of 4 at 10 ms a post on average go at 0, 40, 80 ms.
func TestGroupPostsGoInBursts(t *testing.T) {
	gap := 10 * time.Millisecond
	for i, ms := range []int{0, 0, 0, 0, 40, 40, 40, 40, 80} {
		if got, want := postTime(i, 4, gap), time.Duration(ms)*time.Millisecond; got != want {
			t.Fatalf("post %d of bursts of 4 goes at %v, want %v", i, got, want)
		}
	}
	for i := range 5 {
		if got := postTime(i, 1, gap); got != time.Duration(i)*gap {
			t.Fatalf("post %d without bursts goes at %v, want %v", i, got, time.Duration(i)*gap)
		}
	}
}

// TestGroupsScenarioAgainstParley runs the groups scenario, small, with
// posts in bursts of 4: every online member gets every post once, the offline half gets them at login
// once, and a size larger than the fleet is skipped with a note.
func TestGroupsScenarioAgainstParley(t *testing.T) {
	_, cfg := startBenchServer(t, 20)
	cfg.GroupSizes, cfg.GroupPosts, cfg.GroupRate = []int{6, 20, 40}, 40, 200 // 200 ms a case: /proc counts CPU in 10 ms ticks
	cfg.GroupBurst = 4
	cfg.Drain = 300 * time.Millisecond
	cfg.ServerPID = os.Getpid()
	r, err := Run(context.Background(), cfg, []string{ScenarioGroups})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Groups) != 4 {
		t.Fatalf("want 4 cases (6 and 20 members, online and half offline), got %+v", r.Groups)
	}
	for _, g := range r.Groups {
		if g.Expected == 0 || g.Delivered != g.Expected || g.Duplicated != 0 || g.OfflineDelivered != g.OfflineExpected || g.PostBurst != 4 ||
			g.DeliveriesPerSecond <= 0 || g.Latency.P99 <= 0 || (g.HalfOffline && (g.OfflineExpected == 0 || g.DrainSeconds <= 0)) {
			t.Errorf("case %+v", g)
		}
		// Server and generator are one process here: both see its CPU.
		if g.ServerCPUPercent <= 0 || g.GeneratorCPUPercent <= 0 || g.GeneratorCPUPerDelivUS <= 0 {
			t.Errorf("case %+v: no server or generator CPU", g)
		}
	}
	if len(r.Notes) != 1 || !strings.Contains(r.Notes[0], "40 members") {
		t.Errorf("notes: %q", r.Notes)
	}
	var out bytes.Buffer
	if err := r.WriteText(&out); err != nil || !strings.Contains(out.String(), "deliveries/s") || !strings.Contains(out.String(), "burst") ||
		!strings.Contains(out.String(), "gen µs/deliv") || strings.Contains(out.String(), "MISSING") {
		t.Fatalf("report: %v\n%s", err, out.String())
	}
	t.Log("\n" + out.String())
}

// TestGroupsOverMUCAgainstParley runs the groups scenario over XEP-0045
// against Parley's MUC view of groups: the owner creates a members-only
// room by joining, the others become members and join, and every member
// gets every groupchat post once.
func TestGroupsOverMUCAgainstParley(t *testing.T) {
	_, cfg := startBenchServer(t, 20)
	cfg.GroupSizes, cfg.GroupPosts, cfg.GroupRate = []int{6, 20}, 10, 200
	cfg.Drain = 300 * time.Millisecond
	cfg.MUCService = "groups." + cfg.Domain
	r, err := Run(context.Background(), cfg, []string{ScenarioGroups})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Groups) != 2 {
		t.Fatalf("want 2 cases (6 and 20 members, all online), got %+v", r.Groups)
	}
	for _, g := range r.Groups {
		if g.MUCService != cfg.MUCService || g.HalfOffline || g.Expected != int64(10*(g.Members-1)) ||
			g.Delivered != g.Expected || g.Duplicated != 0 || g.DeliveriesPerSecond <= 0 || g.Latency.P99 <= 0 {
			t.Errorf("case %+v", g)
		}
	}
	var out bytes.Buffer
	if err := r.WriteText(&out); err != nil || !strings.Contains(out.String(), cfg.MUCService) {
		t.Fatalf("report: %v\n%s", err, out.String())
	}
	t.Log("\n" + out.String())
}

// TestScheduleMeasuresHowFarTheSenderTrails: a sender that keeps up trails
// by about one tick; one paused for half a second is flagged.
func TestScheduleMeasuresHowFarTheSenderTrails(t *testing.T) {
	t0 := time.Now()
	s := schedule{rate: 1000, start: t0}
	for ms := 1; ms <= 100; ms++ {
		s.sent += s.due(t0.Add(time.Duration(ms) * time.Millisecond))
	}
	if lag := s.maxLagMS(); lag < 1 || lag > 2 || lag > maxScheduleLagMS {
		t.Fatalf("a sender that keeps up: lag %v ms", lag)
	}
	if due := s.due(t0.Add(600 * time.Millisecond)); due != 500 {
		t.Fatalf("after a 500 ms pause %d sends are due, want 500", due)
	}
	if lag := s.maxLagMS(); lag != 500 || lag <= maxScheduleLagMS {
		t.Fatalf("after a 500 ms pause: lag %v ms, want 500 (behind)", lag)
	}
}

// TestKeepAliveScenario: devices of both encodings send their pulses to a
// real server, which keeps every one of them connected, and the scenario
// reports the server's CPU for them.
func TestKeepAliveScenario(t *testing.T) {
	srv, cfg := startBenchServer(t, 10)
	cfg.KeepAliveInterval, cfg.KeepAliveDuration = 100*time.Millisecond, time.Second
	cfg.ServerPID = os.Getpid() // the server runs in this process
	for _, binary := range []bool{false, true} {
		c := cfg
		if binary {
			c.Addr, c.Binary, c.Insecure, c.Transport = srv.Native, true, true, client.DirectTLS
		}
		r, err := Run(context.Background(), c, []string{ScenarioKeepAlive})
		if err != nil {
			t.Fatalf("binary %v: %v", binary, err)
		}
		k := r.KeepAlive
		if k == nil || k.Devices != 10 || k.Pulses < 50 || k.Disconnected != 0 || k.ServerCPUPercent <= 0 {
			t.Fatalf("binary %v: %+v", binary, k)
		}
	}
}
