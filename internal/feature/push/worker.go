package push

import (
	"context"
	"time"

	"github.com/parley-im/parley/internal/stanza"
	"github.com/parley-im/parley/internal/store"
)

// revokes reports whether an app server's error condition means it no
// longer accepts the registration.
func revokes(c stanza.Condition) bool {
	switch c {
	case stanza.ItemNotFound, stanza.NotAuthorized, stanza.Forbidden, "registration-required", "gone":
		return true
	}
	return false
}

// idleAccount is how long the throttle remembers an account that had no
// message: after it, the next notification counts from 1 again.
const idleAccount = time.Hour

// Run is the worker: it takes the routing path's events, coalesces them
// per account and sends the notifications, until ctx is done. The server
// starts it once; events queued before it starts wait.
func (f *Feature) Run(ctx context.Context) {
	if f.hook != nil {
		go f.hook.run(ctx)
	}
	th := newThrottle(f.opts.Interval, idleAccount)
	tick := time.NewTicker(tickEvery(f.opts.Interval))
	defer tick.Stop()
	lastSweep := f.opts.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case ev := <-f.q:
			f.handle(ctx, th, ev)
		case <-tick.C:
			now := f.opts.Now()
			for _, n := range th.due(now) {
				f.notify(ctx, n)
			}
			if now.Sub(lastSweep) >= time.Minute {
				th.sweep(now)
				lastSweep = now
			}
		}
	}
}

// tickEvery is how often due notifications are looked for: a tenth of
// the interval, between 10 ms and 1 s.
func tickEvery(interval time.Duration) time.Duration {
	return min(max(interval/10, 10*time.Millisecond), time.Second)
}

func (f *Feature) handle(ctx context.Context, th *throttle, ev event) {
	if ev.reset {
		th.reset(ev.user)
		return
	}
	// Accounts without registrations (most) cost one cached lookup and
	// no throttle state.
	if regs, err := f.registrations(ctx, ev.user); err == nil && len(regs) == 0 {
		return
	}
	if n, now := th.add(f.opts.Now(), ev.user, ev.sender, ev.body); now {
		f.notify(ctx, n)
		return
	}
	f.opts.Metrics.count(outcomeCoalesced)
}

// notify sends n to each of the account's registrations.
func (f *Feature) notify(ctx context.Context, n notice) {
	regs, err := f.registrations(ctx, n.user)
	if err != nil {
		f.log.Warn("push: reading registrations", "user", n.user, "err", err)
		return
	}
	for _, r := range regs {
		switch {
		case f.viaComponent(r.Service):
			f.publish(ctx, r, n)
		case f.hook != nil:
			f.hook.submit(r, n, f.opts.IncludeBody)
		default:
			f.opts.Metrics.count(outcomeUnreachable)
		}
	}
}

// publish sends the pubsub publish to the app server and handles its
// answer on the answering goroutine: an error saying the app server does
// not know or no longer accepts the registration (item-not-found,
// not-authorized, forbidden, registration-required, gone) removes it; a
// timeout or another error (the component is not connected, a temporary
// failure) is counted and logged, and the registration is kept.
func (f *Feature) publish(ctx context.Context, r store.PushRegistration, n notice) {
	iq := publishIQ(r, n, f.opts.IncludeBody)
	f.req.RequestIQ(ctx, iq, f.opts.PublishTimeout, func(ctx context.Context, resp *stanza.Element) {
		switch {
		case resp == nil:
			f.opts.Metrics.count(outcomeTimeout)
			f.log.Warn("push: the app server did not answer", "user", n.user, "service", r.Service)
		case resp.Type() == "result":
			f.opts.Metrics.count(outcomeSent)
		default:
			f.opts.Metrics.count(outcomeFailed)
			f.publishFailed(ctx, r, n.user, stanza.ParseError(resp))
		}
	})
}

func (f *Feature) publishFailed(ctx context.Context, r store.PushRegistration, user string, e *stanza.Error) {
	if e == nil || !revokes(e.Condition) {
		f.log.Warn("push: the app server refused a notification", "user", user, "service", r.Service, "error", e)
		return
	}
	f.log.Info("push: the app server refused the registration; removing it", "user", user, "service", r.Service,
		"condition", e.Condition)
	if _, err := f.st.RemovePushRegistrations(ctx, user, r.Service, r.Node); err != nil {
		f.log.Warn("push: removing a refused registration", "user", user, "err", err)
	}
	f.forget(user)
}
