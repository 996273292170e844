package bench

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/parley-im/parley/client"
)

// mucTrack follows the members' joins of one XEP-0045 room. A device's
// slots are touched only by its event loop (and read after joined fires).
type mucTrack struct {
	room   string
	nicks  []string     // the nickname each device asks for
	bares  []string     // each device's bare JID (Parley's nicknames)
	joined []chan error // by device: nil once in the room, or why not
	done   []bool
}

func newMUCTrack(cfg *Config, room string, n int) *mucTrack {
	t := &mucTrack{room: room, nicks: make([]string, n), bares: make([]string, n), joined: make([]chan error, n), done: make([]bool, n)}
	for i := range n {
		t.bares[i] = cfg.jid(i)
		t.nicks[i], _, _ = strings.Cut(t.bares[i], "@")
		t.joined[i] = make(chan error, 1)
	}
	return t
}

// presence takes a device's presence: its own occupant presence from the
// room ends its join, an error presence from the room refuses it.
func (t *mucTrack) presence(d *device, p *client.Presence) {
	if d.idx >= len(t.done) || t.done[d.idx] {
		return
	}
	bare, nick, _ := strings.Cut(p.From, "/")
	if bare != t.room {
		return
	}
	switch {
	case p.Type == "error":
		t.joined[d.idx] <- fmt.Errorf("joining %s: refused (%s)", t.room, p.Status)
	case p.Type == "" && (nick == t.nicks[d.idx] || nick == t.bares[d.idx]):
		t.joined[d.idx] <- nil
	default:
		return
	}
	t.done[d.idx] = true
}

// join makes devices idx occupants of the room (bounded in flight).
func (t *mucTrack) join(ctx context.Context, f *fleet, idx []int) error {
	sem := make(chan struct{}, f.cfg.LoginsInFlight)
	errs := make(chan error, len(idx))
	var wg sync.WaitGroup
	for _, i := range idx {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			if err := f.devs[i].c.JoinRoom(t.room, t.nicks[i]); err != nil {
				errs <- err
				return
			}
			select {
			case err := <-t.joined[i]:
				errs <- err
			case <-time.After(5 * time.Minute):
				errs <- fmt.Errorf("device %d: no answer to its join of %s within 5 minutes (disconnected: %v)", i, t.room, f.devs[i].lostErr.Load())
			case <-ctx.Done():
				errs <- ctx.Err()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// mucCase runs one size over XEP-0045: device 0 creates a persistent,
// members-only room on the MUC service by joining it, makes devices
// 1..n-1 members, and every member joins; then device 0 posts groupchat
// messages and every other member's copies are counted, as in groupCase.
// All members are online (a MUC occupant is).
func mucCase(ctx context.Context, cfg *Config, meter procMeter, n int) (GroupResult, error) {
	f := newFleet(cfg)
	defer f.close()
	g := newGroupTrack(f, cfg, n)
	room := strings.ToLower("bench-"+f.run+"-"+strconv.Itoa(n)) + "@" + cfg.MUCService
	t := newMUCTrack(cfg, room, n)
	f.group, f.muc = g, t
	res := GroupResult{Members: n, Posts: cfg.GroupPosts, PostRate: cfg.GroupRate, PostBurst: cfg.GroupBurst, MUCService: cfg.MUCService}
	all := make([]int, n)
	for i := range all {
		all[i] = i
		g.online[i] = true
	}
	// The previous case's room may still be telling its occupants that the
	// others left: a presence to a device's old session would reach its new
	// one (same resource) before the login ends.
	settle(ctx, cfg, meter)
	var lat Histogram
	if err := f.login(ctx, all, true, &lat, nil); err != nil {
		return res, err
	}
	if err := setUpRoom(ctx, f, t, all, meter); err != nil {
		return res, fmt.Errorf("room of %d on %s: %w", n, cfg.MUCService, err)
	}
	settle(ctx, cfg, meter)
	res.Expected = int64(cfg.GroupPosts) * int64(n-1)
	m := beginStep(f, meter)
	if err := postAtRate(ctx, f, room, cfg); err != nil {
		return res, err
	}
	err := waitFor(ctx, g.live.Load, res.Expected, storeTimeout(res.Expected))
	groupFigures(&res, g, m)
	return res, err
}

// setUpRoom creates the room (device 0 joins and configures it), makes the
// other devices members and has them join.
func setUpRoom(ctx context.Context, f *fleet, t *mucTrack, all []int, meter procMeter) error {
	if err := t.join(ctx, f, all[:1]); err != nil {
		return err
	}
	owner := f.devs[0].c
	err := owner.ConfigureRoom(ctx, t.room, map[string]string{
		"muc#roomconfig_persistentroom": "1", "muc#roomconfig_membersonly": "1",
	})
	if err != nil {
		return fmt.Errorf("configuring: %w", err)
	}
	if err := t.affiliate(ctx, owner, t.bares[1:]); err != nil {
		return fmt.Errorf("making members: %w", err)
	}
	settle(ctx, f.cfg, meter) // Parley fans each new member's system message out to the others
	return t.join(ctx, f, all[1:])
}

// affiliate makes jids members, one per request (Prosody 0.12 reads only
// the first item of a request), ten requests in flight.
func (t *mucTrack) affiliate(ctx context.Context, owner *client.Client, jids []string) error {
	sem := make(chan struct{}, 10)
	errs := make(chan error, len(jids))
	var wg sync.WaitGroup
	for _, j := range jids {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			errs <- owner.SetAffiliations(ctx, t.room, "member", j)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// settle waits until the server is idle (under 10% of a core for 250 ms,
// at most 2 minutes) so that the room's setup (presence broadcasts,
// membership messages) is not counted in the posts' CPU; without a pid it
// waits the drain time.
func settle(ctx context.Context, cfg *Config, meter procMeter) {
	const window = 250 * time.Millisecond
	before, ok := meter.sample()
	if !ok {
		sleepCtx(ctx, cfg.Drain)
		return
	}
	for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline) && ctx.Err() == nil; {
		sleepCtx(ctx, window)
		after, _ := meter.sample()
		if after.cpu-before.cpu < window/10 {
			return
		}
		before = after
	}
}

func sleepCtx(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}
