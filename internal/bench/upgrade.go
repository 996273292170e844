package bench

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// ScenarioUpgrade offers UpgradeRate msg/s for UpgradeDuration and, at
// UpgradeAt, triggers a live upgrade of the server (Config.Upgrade): it
// reports refused connections (a dialer loop runs meanwhile), lost and
// duplicated messages, the longest time without any delivery, and the time
// until every device was back. Not in DefaultScenarios: it needs a trigger.
const ScenarioUpgrade = "upgrade"

// UpgradeResult is the upgrade scenario.
type UpgradeResult struct {
	OfferedPerSecond float64 `json:"offered_per_second"`
	Seconds          float64 `json:"seconds"`
	OldPID           int     `json:"old_pid"`
	NewPID           int     `json:"new_pid"`
	// UpgradeSeconds is from the trigger until the new process served.
	UpgradeSeconds float64 `json:"upgrade_seconds"`
	// BackSeconds is from the trigger until every device had reconnected;
	// Back is how many did.
	BackSeconds float64 `json:"all_back_seconds"`
	Back        int     `json:"devices_back"`
	// BackAt is when the devices were back, from the trigger, over the
	// devices (its p50 is when half of them were): a tail of a few
	// devices and a slow return of all of them look alike in BackSeconds.
	BackAt    Quantiles `json:"back_at_ms"`
	Sent      int64     `json:"sent"`
	Acked     int64     `json:"acked"`
	Delivered int64     `json:"delivered"`
	// Lost is what had not arrived DrainSeconds after the traffic ended
	// (late or lost: compare runs with a longer --upgrade-drain).
	Lost         int64   `json:"lost"`
	DrainSeconds float64 `json:"drain_seconds"`
	// Duplicated counts messages the application got more than once (the
	// clients do not dedupe).
	Duplicated int64 `json:"duplicated"`
	// Resumed and Fresh count the reconnections that resumed their
	// stream-management session and those that logged in afresh.
	Resumed int64 `json:"resumed"`
	Fresh   int64 `json:"fresh_logins"`
	// Retries counts the failed connection attempts (a dial, or a login
	// that failed or timed out) before the reconnections succeeded;
	// MaxAttempts is the most attempts one reconnection took.
	Retries     int64 `json:"reconnect_retries"`
	MaxAttempts int64 `json:"max_reconnect_attempts"`
	// LongestGapMS is the longest time during the step without any
	// delivery to any device.
	LongestGapMS float64   `json:"longest_gap_ms"`
	Latency      Quantiles `json:"latency_ms"`
	// LatencyLive is over the messages delivered live (or re-sent by a
	// resumption); LatencyQueued over those delivered from the offline
	// queue (sent while the recipient was away); Live and Queued count
	// those deliveries.
	LatencyLive   Quantiles `json:"latency_live_ms"`
	LatencyQueued Quantiles `json:"latency_queued_ms"`
	Live          int64     `json:"live_deliveries"`
	Queued        int64     `json:"queued_deliveries"`
	Dials         int64     `json:"dials"`
	Refused       int64     `json:"refused"`
	DialErrors    int64     `json:"dial_errors"`
}

// gapMeter tracks the longest interval between two deliveries.
type gapMeter struct {
	on      atomic.Bool
	last    atomic.Int64 // unix nanoseconds of the last delivery
	longest atomic.Int64 // nanoseconds
}

func (g *gapMeter) start() {
	g.last.Store(time.Now().UnixNano())
	g.longest.Store(0)
	g.on.Store(true)
}

func (g *gapMeter) delivered(now time.Time) {
	if !g.on.Load() {
		return
	}
	n := now.UnixNano()
	gap := n - g.last.Swap(n)
	for {
		cur := g.longest.Load()
		if gap <= cur || g.longest.CompareAndSwap(cur, gap) {
			return
		}
	}
}

// upgradeStep runs the upgrade scenario on a logged-in fleet.
func upgradeStep(ctx context.Context, f *fleet) (*UpgradeResult, error) {
	cfg := f.cfg
	if cfg.Upgrade == nil {
		return nil, errors.New("the upgrade scenario needs a way to trigger the upgrade (--upgrade-socket)")
	}
	res := &UpgradeResult{OfferedPerSecond: float64(cfg.UpgradeRate)}
	m := beginStep(f, procMeter{})
	f.liveLatency.Reset()
	f.queuedLatency.Reset()
	f.resumed.Store(0)
	f.fresh.Store(0)
	f.retries.Store(0)
	f.maxAttempts.Store(0)
	f.acked.Store(0)
	f.gaps.start()
	dialer := startRefusalLoop(append([]string{cfg.Addr}, cfg.DialAddrs...))
	before := make([]int64, len(f.devs))
	for i, d := range f.devs {
		before[i] = d.connects.Load()
	}
	trig := make(chan error, 1)
	go func() {
		select {
		case <-ctx.Done():
			trig <- ctx.Err()
			return
		case <-time.After(cfg.UpgradeAt):
		}
		trig <- res.trigger(ctx, f, before)
	}()
	bar := newBar(cfg.Progress, int(cfg.UpgradeDuration/time.Millisecond), fmt.Sprintf("upgrade at %v, %d msg/s", cfg.UpgradeAt, cfg.UpgradeRate))
	d, err := sendAtRate(ctx, f, cfg.UpgradeRate, cfg.UpgradeDuration, func(ms int) { bar.set(ms) })
	bar.done()
	if terr := <-trig; terr != nil && err == nil {
		err = terr
	}
	// Everything sent is delivered in the end (the unacknowledged is sent
	// again after the reconnect): wait for it longer than a normal step.
	drainStart := time.Now()
	deadline := drainStart.Add(cfg.UpgradeDrain)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if t := f.totals(); t.unique-m.before.unique >= t.sent-m.before.sent {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	res.DrainSeconds = time.Since(drainStart).Seconds()
	time.Sleep(cfg.Drain / 3) // let duplicates, if any, show up
	f.gaps.on.Store(false)
	s := m.end(d)
	res.Dials, res.Refused, res.DialErrors = dialer.stop()
	res.Seconds = d.Seconds()
	res.Sent, res.Delivered, res.Lost, res.Duplicated = s.Sent, s.Delivered, s.Lost, s.Duplicated
	res.Acked = f.acked.Load()
	res.Latency = s.Latency
	res.LatencyLive, res.LatencyQueued = quantiles(&f.liveLatency), quantiles(&f.queuedLatency)
	res.Live, res.Queued = int64(f.liveLatency.Count()), int64(f.queuedLatency.Count())
	res.Resumed, res.Fresh = f.resumed.Load(), f.fresh.Load()
	res.Retries, res.MaxAttempts = f.retries.Load(), f.maxAttempts.Load()
	res.LongestGapMS = float64(f.gaps.longest.Load()) / 1e6
	return res, err
}

// trigger runs the upgrade and waits until every device reconnected.
func (res *UpgradeResult) trigger(ctx context.Context, f *fleet, before []int64) error {
	start := time.Now()
	oldPID, newPID, err := f.cfg.Upgrade(ctx)
	if err != nil {
		return fmt.Errorf("upgrade: %w", err)
	}
	res.OldPID, res.NewPID = oldPID, newPID
	res.UpgradeSeconds = time.Since(start).Seconds()
	deadline := start.Add(2 * time.Minute)
	isBack := make([]bool, len(f.devs))
	var backAt Histogram
	defer func() { res.BackAt = quantiles(&backAt) }()
	back := 0
	for {
		now := time.Now()
		for i, d := range f.devs {
			if !isBack[i] && d.connects.Load() > before[i] {
				isBack[i] = true
				back++
				backAt.Record(now.Sub(start))
			}
		}
		res.Back = back
		if back == len(f.devs) {
			res.BackSeconds = time.Since(start).Seconds()
			return nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("only %d of %d devices were back %v after the upgrade", back, len(f.devs), time.Since(start).Round(time.Second))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// sendAtRate offers rate msg/s round-robin over the devices for d (open
// loop), calling progress with the elapsed milliseconds; it returns how
// long it sent.
func sendAtRate(ctx context.Context, f *fleet, rate int, d time.Duration, progress func(int)) (time.Duration, error) {
	start := time.Now()
	var sent int64
	next := 0
	for {
		now := time.Now()
		elapsed := now.Sub(start)
		if elapsed >= d || ctx.Err() != nil {
			return elapsed, ctx.Err()
		}
		for target := int64(float64(rate) * elapsed.Seconds()); sent < target; sent++ {
			if err := f.send(f.devs[next], now); err != nil {
				return elapsed, fmt.Errorf("sending: %w", err)
			}
			next = (next + 1) % len(f.devs)
		}
		progress(int(elapsed / time.Millisecond))
		time.Sleep(time.Millisecond)
	}
}

// refusalLoop connects to addresses in a loop and counts refusals.
type refusalLoop struct {
	done                  chan struct{}
	wg                    sync.WaitGroup
	dials, refused, other atomic.Int64
}

func startRefusalLoop(addrs []string) *refusalLoop {
	l := &refusalLoop{done: make(chan struct{})}
	for _, addr := range addrs {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			for {
				select {
				case <-l.done:
					return
				case <-time.After(5 * time.Millisecond):
				}
				c, err := net.DialTimeout("tcp", addr, 10*time.Second)
				l.dials.Add(1)
				switch {
				case errors.Is(err, syscall.ECONNREFUSED):
					l.refused.Add(1)
				case err != nil:
					l.other.Add(1)
				default:
					_ = c.Close()
				}
			}
		}()
	}
	return l
}

func (l *refusalLoop) stop() (dials, refused, other int64) {
	close(l.done)
	l.wg.Wait()
	return l.dials.Load(), l.refused.Load(), l.other.Load()
}
