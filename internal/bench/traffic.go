package bench

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// maxScheduleLagMS is how far the open loop may trail its schedule, at
// worst, before the step counts as the generator's, not the server's: a
// pause of a few tens of ms (a GC cycle, a descheduled sender) only shifts
// some sends; a longer one changes what the server was offered.
const maxScheduleLagMS = 200

// schedule is an open loop's timetable: rate sends per second from start.
type schedule struct {
	rate    int
	start   time.Time
	sent    int64
	maxLate int64 // the most sends ever due at once
}

// due returns how many sends are due at now, and remembers the worst lag.
func (s *schedule) due(now time.Time) int64 {
	late := int64(float64(s.rate)*now.Sub(s.start).Seconds()) - s.sent
	s.maxLate = max(s.maxLate, late)
	return late
}

// maxLagMS is the worst lag in milliseconds of traffic.
func (s *schedule) maxLagMS() float64 { return 1000 * float64(s.maxLate) / float64(s.rate) }

// openLoopStep offers rate messages/s, spread round-robin over every
// device, for length (StepDuration), whatever the server does: the
// schedule does not wait for deliveries (a closed loop would hide the
// server's queueing).
func openLoopStep(ctx context.Context, f *fleet, meter procMeter, rate int, length time.Duration) (StepResult, error) {
	bar := newBar(f.cfg.Progress, int(length/time.Millisecond), fmt.Sprintf("%d msg/s", rate))
	m := beginStep(f, meter)
	start := m.start
	sched := schedule{rate: rate, start: start}
	next := 0
	for {
		now := time.Now()
		elapsed := now.Sub(start)
		if elapsed >= length || ctx.Err() != nil {
			break
		}
		for due := sched.due(now); due > 0; due-- {
			if err := f.send(f.devs[next], now); err != nil {
				bar.done()
				return StepResult{}, fmt.Errorf("sending: %w", err)
			}
			next = (next + 1) % len(f.devs)
			sched.sent++
		}
		bar.set(int(elapsed / time.Millisecond))
		time.Sleep(time.Millisecond)
	}
	bar.done()
	d := time.Since(start)
	m.drain(ctx)
	s := m.end(d)
	s.OfferedPerSecond = float64(rate)
	s.MaxLagMS = sched.maxLagMS()
	s.BehindSchedule = s.MaxLagMS > maxScheduleLagMS || s.SentPerSecond < 0.98*float64(rate)
	return s, nil
}

// closedLoop lets each device keep Window messages in flight to its
// partner for ClosedDuration: the highest rate the server sustains.
func closedLoop(ctx context.Context, f *fleet, meter procMeter) (StepResult, error) {
	f.closed.Store(true)
	defer f.closed.Store(false)
	bar := newBar(f.cfg.Progress, int(f.cfg.ClosedDuration/time.Millisecond), fmt.Sprintf("closed loop, window %d", f.cfg.Window))
	m := beginStep(f, meter)
	deadline := m.start.Add(f.cfg.ClosedDuration)
	stopBar := make(chan struct{})
	go func() {
		for {
			select {
			case <-stopBar:
				return
			case <-time.After(100 * time.Millisecond):
				bar.set(int(time.Since(m.start) / time.Millisecond))
			}
		}
	}()
	var wg sync.WaitGroup
	errs := make(chan error, len(f.devs))
	for _, d := range f.devs {
		for len(d.window) > 0 { // tokens left from an earlier run
			<-d.window
		}
		for range f.cfg.Window {
			d.window <- struct{}{}
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := closedSender(ctx, f, d, deadline); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(stopBar)
	bar.done()
	d := time.Since(m.start)
	m.drain(ctx)
	s := m.end(d)
	select {
	case err := <-errs:
		return s, err
	default:
	}
	return s, nil
}

func closedSender(ctx context.Context, f *fleet, d *device, deadline time.Time) error {
	for {
		wait := time.Until(deadline)
		if wait <= 0 {
			return nil
		}
		select {
		case <-d.window:
			if err := f.send(d, time.Now()); err != nil {
				return err
			}
		case <-time.After(wait):
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// runOffline stores OfflineTotal messages for offline devices (the odd
// ones), sent by the even ones, then logs the recipients in and times the
// drain. With PrecomputeKeys the recipients log in once first, untimed, so
// that their SCRAM keys are derived before the drain.
func runOffline(ctx context.Context, cfg *Config, meter procMeter) (*OfflineResult, error) {
	f := newFleet(cfg)
	defer f.close()
	var senders, recipients []int
	for i := range f.devs {
		if i%2 == 0 {
			senders = append(senders, i)
		} else {
			recipients = append(recipients, i)
		}
	}
	res := &OfflineResult{Recipients: len(recipients)}
	if cfg.PrecomputeKeys {
		// The recipients' logins in the drain then reuse their derived
		// SCRAM keys, as a phone keeps its salted password: the drain
		// measures the server, not the generator's PBKDF2.
		var warm Histogram
		err := f.login(ctx, recipients, false, &warm, nil)
		f.close()
		if err != nil {
			return res, err
		}
	}
	var lat Histogram
	if err := f.login(ctx, senders, false, &lat, nil); err != nil {
		return res, err
	}
	per := cfg.OfflineTotal / len(senders)
	total := int64(per * len(senders))
	res.Messages = total
	bar := newBar(cfg.Progress, int(total), "storing for offline devices")
	cpu := startCPUMeter(meter)
	start := time.Now()
	for range per {
		now := time.Now()
		for _, i := range senders {
			if err := f.send(f.devs[i], now); err != nil {
				return res, err
			}
		}
	}
	if err := waitFor(ctx, func() int64 { bar.set(int(f.acked.Load())); return f.acked.Load() }, total, storeTimeout(total)); err != nil {
		bar.done()
		return res, fmt.Errorf("waiting for the server to acknowledge %d messages: %w", total, err)
	}
	bar.done()
	res.StoreSeconds = time.Since(start).Seconds()
	res.StorePerSecond = float64(total) / res.StoreSeconds
	srv, self := cpu.stop()
	res.StoreServerCPUPercent, res.StoreGeneratorCPUPercent = srv.percent(), self.percent()
	res.StoreServerCPUPerMsgUS = srv.perEvent(uint64(total))

	if cfg.beforeDrain != nil {
		cfg.beforeDrain()
	}
	bar = newBar(cfg.Progress, int(total), "draining at login")
	cpu = startCPUMeter(meter)
	start = time.Now()
	if err := f.login(ctx, recipients, true, &lat, nil); err != nil {
		return res, err
	}
	err := waitFor(ctx, func() int64 { bar.set(int(f.delivered.Load())); return f.totals().unique }, total, storeTimeout(total))
	bar.done()
	res.DrainSeconds = time.Since(start).Seconds()
	srv, self = cpu.stop()
	res.DrainServerCPUPercent, res.DrainGeneratorCPUPercent = srv.percent(), self.percent()
	res.DrainServerCPUPerMsgUS = srv.perEvent(uint64(total))
	time.Sleep(cfg.Drain / 3) // let duplicates, if any, show up
	t := f.totals()
	res.Delivered, res.Duplicated, res.Reordered = t.unique, t.dups, t.reordered
	res.Lost = total - t.unique
	return res, err
}

// storeTimeout bounds a wait for n messages: a minute, plus a millisecond
// each (1,000 msg/s would be a very slow server).
func storeTimeout(n int64) time.Duration { return time.Minute + time.Duration(n)*time.Millisecond }

// waitFor polls get until it reaches want, the timeout passes or ctx ends.
func waitFor(ctx context.Context, get func() int64, want int64, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for get() < want {
		if time.Now().After(deadline) {
			return fmt.Errorf("got %d of %d after %v", get(), want, timeout)
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		time.Sleep(5 * time.Millisecond)
	}
	return nil
}
