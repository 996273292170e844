package bench

import (
	"context"
	"fmt"
	"os"
	"time"
)

// Scenario names, in the order Run performs them.
const (
	ScenarioLogin      = "login"
	ScenarioIdle       = "idle"
	ScenarioThroughput = "throughput"
	ScenarioClosed     = "closed"
	ScenarioOffline    = "offline"
	ScenarioGroups     = "groups"
	ScenarioKeepAlive  = "keepalive"
)

// AllScenarios lists every scenario.
func AllScenarios() []string {
	return append(DefaultScenarios(), ScenarioKeepAlive, ScenarioGroups, ScenarioUpgrade)
}

// DefaultScenarios are the scenarios every XMPP server can run (groups
// are Parley's: they run only when asked for).
func DefaultScenarios() []string {
	return []string{ScenarioLogin, ScenarioIdle, ScenarioThroughput, ScenarioClosed, ScenarioOffline}
}

// Run performs the chosen scenarios against a running server whose
// accounts already exist (Config.UserFormat, numbered from 0). The login
// ramp always runs first when an online scenario is chosen.
func Run(ctx context.Context, cfg Config, scenarios []string) (*Report, error) {
	if err := cfg.fill(); err != nil {
		return nil, err
	}
	want := map[string]bool{}
	for _, s := range scenarios {
		switch s {
		case ScenarioLogin, ScenarioIdle, ScenarioThroughput, ScenarioClosed, ScenarioOffline, ScenarioGroups, ScenarioUpgrade, ScenarioKeepAlive:
			want[s] = true
		default:
			return nil, fmt.Errorf("unknown scenario %q (known: %v)", s, AllScenarios())
		}
	}
	target := cfg.Addr
	if cfg.Addr2 != "" {
		target += " and " + cfg.Addr2 + " (pairs span the two nodes)"
	}
	r := &Report{Target: target, Date: time.Now().UTC(), Devices: cfg.Devices, BodySize: cfg.BodySize}
	meter := procMeter{pid: cfg.ServerPID}
	cfg.Reconnect = cfg.Reconnect || want[ScenarioUpgrade]
	if want[ScenarioLogin] || want[ScenarioIdle] || want[ScenarioKeepAlive] || want[ScenarioThroughput] || want[ScenarioClosed] || want[ScenarioUpgrade] {
		if err := runOnline(ctx, &cfg, want, meter, r); err != nil {
			return r, err
		}
	}
	if want[ScenarioOffline] {
		res, err := runOffline(ctx, &cfg, meter)
		r.Offline = res
		if err != nil {
			return r, err
		}
	}
	if want[ScenarioGroups] {
		res, notes, err := runGroups(ctx, &cfg, meter)
		r.Groups, r.Notes = res, append(r.Notes, notes...)
		if err != nil {
			return r, err
		}
	}
	return r, nil
}

// runOnline logs every device in, then measures idle memory and traffic.
func runOnline(ctx context.Context, cfg *Config, want map[string]bool, meter procMeter, r *Report) error {
	f := newFleet(cfg)
	defer f.close()
	before, measured := meter.sample()
	login, err := loginRamp(ctx, f, meter)
	r.Login = login
	if err != nil {
		return err
	}
	if want[ScenarioIdle] {
		if !measured {
			r.Notes = append(r.Notes, "idle: no --server-pid, so the server's memory was not measured")
		} else {
			r.Idle = idleMemory(ctx, cfg, meter, before)
		}
	}
	if want[ScenarioKeepAlive] {
		res, err := keepAliveStep(ctx, f, meter)
		r.KeepAlive = res
		if err != nil {
			return err
		}
	}
	if want[ScenarioThroughput] {
		if cfg.Warmup > 0 {
			if _, err := openLoopStep(ctx, f, meter, cfg.Rates[0], cfg.Warmup); err != nil {
				return err
			}
			r.Notes = append(r.Notes, fmt.Sprintf("throughput: %v at %d msg/s before the steps, not counted (--warmup)", cfg.Warmup, cfg.Rates[0]))
		}
		for _, rate := range cfg.Rates {
			step, err := openLoopStep(ctx, f, meter, rate, cfg.StepDuration)
			if err != nil {
				return err
			}
			r.Steps = append(r.Steps, step)
			if step.BehindSchedule {
				r.Notes = append(r.Notes, fmt.Sprintf("at %d msg/s the generator fell behind its schedule (sent %.0f/s, up to %.0f ms late): that step measures the generator, not the server", rate, step.SentPerSecond, step.MaxLagMS))
			}
			if !step.Flat {
				break // past the knee: the next, higher rates would only overload more
			}
		}
	}
	if want[ScenarioClosed] {
		step, err := closedLoop(ctx, f, meter)
		if err != nil {
			return err
		}
		r.Closed = &step
	}
	if want[ScenarioUpgrade] {
		res, err := upgradeStep(ctx, f)
		r.Upgrade = res
		if err != nil {
			return err
		}
	}
	return nil
}

func loginRamp(ctx context.Context, f *fleet, meter procMeter) (*LoginResult, error) {
	all := make([]int, len(f.devs))
	for i := range all {
		all[i] = i
	}
	if f.cfg.PrecomputeKeys {
		var warm Histogram
		bar := newBar(f.cfg.Progress, len(all), "deriving keys (untimed)")
		err := f.login(ctx, all, false, &warm, bar.add)
		bar.done()
		f.close()
		if err != nil {
			return nil, err
		}
	}
	bar := newBar(f.cfg.Progress, len(all), "logging in")
	var lat Histogram
	cpu := startCPUMeter(meter)
	start := time.Now()
	err := f.login(ctx, all, true, &lat, bar.add)
	secs := time.Since(start).Seconds()
	bar.done()
	res := &LoginResult{
		Devices: int(lat.Count()), InFlight: f.cfg.LoginsInFlight, Seconds: secs,
		PerSecond: float64(lat.Count()) / secs, Latency: quantiles(&lat),
	}
	if n := lat.Count(); n > 0 {
		srv, gen := cpu.stop()
		res.ServerCPUPerLoginUS, res.ServerCPUPercent = srv.perEvent(n), srv.percent()
		res.GeneratorCPUPerLoginUS, res.GeneratorCPUPercent = gen.perEvent(n), gen.percent()
	}
	return res, err
}

func idleMemory(ctx context.Context, cfg *Config, meter procMeter, before procSample) *IdleResult {
	select {
	case <-ctx.Done():
	case <-time.After(cfg.Settle):
	}
	after, _ := meter.sample()
	return &IdleResult{
		Devices: cfg.Devices, RSSBeforeBytes: before.rss, RSSAfterBytes: after.rss,
		BytesPerDevice: (after.rss - before.rss) / int64(cfg.Devices),
	}
}

// stepMeter takes the before and after of one traffic step.
type stepMeter struct {
	f       *fleet
	meter   procMeter
	start   time.Time
	before  totals
	proc    procSample
	hasProc bool
	self    procSample // the generator itself
	hasSelf bool
}

func beginStep(f *fleet, meter procMeter) *stepMeter {
	f.latency.Reset()
	m := &stepMeter{f: f, meter: meter, start: time.Now(), before: f.totals()}
	m.proc, m.hasProc = meter.sample()
	m.self, m.hasSelf = procMeter{pid: os.Getpid()}.sample()
	return m
}

// drain waits until everything sent has arrived, or the drain time passed.
func (m *stepMeter) drain(ctx context.Context) {
	deadline := time.Now().Add(m.f.cfg.Drain)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		t := m.f.totals()
		if t.unique-m.before.unique >= t.sent-m.before.sent {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// end computes the step's figures; sending lasted for d.
func (m *stepMeter) end(d time.Duration) StepResult {
	t := m.f.totals()
	s := StepResult{
		Sent:       t.sent - m.before.sent,
		Delivered:  t.unique - m.before.unique,
		Duplicated: t.dups - m.before.dups,
		Reordered:  t.reordered - m.before.reordered,
		Latency:    quantiles(&m.f.latency),
	}
	s.Lost = s.Sent - s.Delivered
	s.SentPerSecond = float64(s.Sent) / d.Seconds()
	s.DeliveredPerSecond = float64(s.Delivered) / d.Seconds()
	if after, ok := m.meter.sample(); ok && m.hasProc {
		cpu := after.cpu - m.proc.cpu
		s.ServerCPUPercent = 100 * cpu.Seconds() / after.at.Sub(m.proc.at).Seconds()
		if s.Delivered > 0 {
			s.ServerCPUPerMsgUS = float64(cpu.Microseconds()) / float64(s.Delivered)
		}
	}
	if self, ok := (procMeter{pid: os.Getpid()}).sample(); ok && m.hasSelf && s.Sent > 0 {
		cpu := self.cpu - m.self.cpu
		s.GeneratorCPUPercent = 100 * cpu.Seconds() / self.at.Sub(m.self.at).Seconds()
		s.GeneratorCPUPerMsgUS = float64(cpu.Microseconds()) / float64(s.Sent)
	}
	s.Flat = s.Sent > 0 && float64(s.Delivered) >= 0.97*float64(s.Sent) && s.Latency.P99 <= 50
	return s
}
