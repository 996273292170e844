package bench

import (
	"context"
	"fmt"
	"time"
)

// KeepAliveResult is the keep-alive scenario: every device, logged in and
// otherwise idle, sends a keep-alive pulse every Interval (a space in
// XML, an empty frame in the binary protocol), and the server's CPU is
// measured over the window: what holding that many live connections costs.
type KeepAliveResult struct {
	Devices         int     `json:"devices"`
	IntervalSeconds float64 `json:"interval_seconds"`
	Seconds         float64 `json:"seconds"`
	Pulses          int64   `json:"pulses"`
	PulsesPerSecond float64 `json:"pulses_per_second"`
	// ServerCPUPercent is the server's CPU over the window, in % of one
	// core (all of it: pulses, timers, housekeeping).
	ServerCPUPercent    float64 `json:"server_cpu_percent,omitempty"`
	ServerCPUPerPulseUS float64 `json:"server_cpu_us_per_pulse,omitempty"`
	ServerRSSBytes      int64   `json:"server_rss_bytes,omitempty"`
	// Disconnected counts devices that lost their connection during the
	// window (a server that drops live devices fails the scenario).
	Disconnected int `json:"disconnected"`
}

// keepAliveStep sends every device's pulses, spread evenly over each
// interval, for KeepAliveDuration.
func keepAliveStep(ctx context.Context, f *fleet, meter procMeter) (*KeepAliveResult, error) {
	cfg := f.cfg
	rate := max(1, int(float64(len(f.devs))/cfg.KeepAliveInterval.Seconds()+0.5))
	bar := newBar(cfg.Progress, int(cfg.KeepAliveDuration/time.Millisecond), fmt.Sprintf("keep-alive every %s", cfg.KeepAliveInterval))
	lostBefore := f.disconnected()
	before, measured := meter.sample()
	sched := schedule{rate: rate, start: time.Now()}
	next := 0
	for ctx.Err() == nil {
		now := time.Now()
		elapsed := now.Sub(sched.start)
		if elapsed >= cfg.KeepAliveDuration {
			break
		}
		for due := sched.due(now); due > 0; due-- {
			if err := f.devs[next].c.KeepAlive(); err != nil {
				bar.done()
				return nil, fmt.Errorf("keep-alive: %w", err)
			}
			next = (next + 1) % len(f.devs)
			sched.sent++
		}
		bar.set(int(elapsed / time.Millisecond))
		time.Sleep(10 * time.Millisecond)
	}
	bar.done()
	secs := time.Since(sched.start).Seconds()
	r := &KeepAliveResult{
		Devices: len(f.devs), IntervalSeconds: cfg.KeepAliveInterval.Seconds(), Seconds: secs,
		Pulses: sched.sent, PulsesPerSecond: float64(sched.sent) / secs,
		Disconnected: f.disconnected() - lostBefore,
	}
	if after, ok := meter.sample(); ok && measured {
		cpu := (after.cpu - before.cpu).Seconds()
		r.ServerCPUPercent = 100 * cpu / secs
		r.ServerRSSBytes = after.rss
		if sched.sent > 0 {
			r.ServerCPUPerPulseUS = 1e6 * cpu / float64(sched.sent)
		}
	}
	return r, ctx.Err()
}

// disconnected counts devices that have lost a connection since they
// logged in.
func (f *fleet) disconnected() int {
	n := 0
	for _, d := range f.devs {
		if d.lostErr.Load() != nil {
			n++
		}
	}
	return n
}
