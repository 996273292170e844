package bench

import (
	"context"
	"fmt"
	"os"
	"sync/atomic"
	"time"

	"github.com/parley-im/parley/client"
)

// GroupResult is one group fan-out case: a group of Members (the sender
// included) whose sender posts Posts messages at PostRate/s, in bursts of
// PostBurst.
type GroupResult struct {
	Members int `json:"members"`
	// MUCService is the XEP-0045 service the case ran on ("": Parley's
	// group protocol).
	MUCService  string  `json:"muc_service,omitempty"`
	HalfOffline bool    `json:"half_offline"`
	Posts       int     `json:"posts"`
	PostRate    float64 `json:"posts_per_second"`
	PostBurst   int     `json:"post_burst"`
	// Online members' copies: how many were expected, arrived once, twice.
	Expected   int64 `json:"expected"`
	Delivered  int64 `json:"delivered"`
	Duplicated int64 `json:"duplicated"`
	// DeliveriesPerSecond: copies received by online members, from the
	// first post to the last copy; latency from the post to each copy.
	DeliveriesPerSecond float64   `json:"deliveries_per_second"`
	Latency             Quantiles `json:"latency_ms"`
	// Server CPU per delivered copy, and what one core would sustain.
	ServerCPUPerDeliveryUS float64 `json:"server_cpu_us_per_delivery,omitempty"`
	DeliveriesPerCore      float64 `json:"deliveries_per_second_per_core,omitempty"`
	// The server's and the generator's CPU, in % of a core, from the first
	// post to the last live copy: a server below 100% whose generator is
	// near 100% measured the generator (which receives, parses and checks
	// every copy), not the server's capacity.
	ServerCPUPercent       float64 `json:"server_cpu_percent,omitempty"`
	GeneratorCPUPercent    float64 `json:"generator_cpu_percent,omitempty"`
	GeneratorCPUPerDelivUS float64 `json:"generator_cpu_us_per_delivery,omitempty"`
	// The offline half (HalfOffline): copies that waited in their queues,
	// and how long their logins took to drain them all.
	OfflineExpected  int64   `json:"offline_expected,omitempty"`
	OfflineDelivered int64   `json:"offline_delivered,omitempty"`
	OfflineDups      int64   `json:"offline_duplicated,omitempty"`
	DrainSeconds     float64 `json:"drain_seconds,omitempty"`
}

// groupTrack counts one case's copies per member. A member's slice is
// touched only by that member's event loop.
type groupTrack struct {
	run      string
	sender   int
	posts    int
	seen     [][]bool // by member device index, then post number
	online   []bool   // members that were online when the posts were sent
	live     atomic.Int64
	later    atomic.Int64
	dups     atomic.Int64
	created  atomic.Int64 // online members told of the group's creation
	lastLive atomic.Int64 // unix ns of the last live copy
	latency  *Histogram
}

// received takes a device's message; it reports whether it was a group
// message of this case.
func (g *groupTrack) received(d *device, m *client.Message) bool {
	if m.Group == "" {
		return false
	}
	if m.GroupEvent == "created" && g.online[d.idx] && d.idx != g.sender {
		g.created.Add(1)
		return true
	}
	run, from, seq, sent, ok := parseBody(m.Body)
	if !ok || run != g.run || from != g.sender || d.idx == g.sender || seq < 0 || seq >= int64(g.posts) {
		return true
	}
	if g.seen[d.idx][seq] {
		g.dups.Add(1)
		return true
	}
	g.seen[d.idx][seq] = true
	if !g.online[d.idx] {
		g.later.Add(1)
		return true
	}
	g.live.Add(1)
	g.latency.Record(time.Since(sent))
	g.lastLive.Store(time.Now().UnixNano())
	return true
}

func newGroupTrack(f *fleet, cfg *Config, n int) *groupTrack {
	g := &groupTrack{run: f.run, posts: cfg.GroupPosts, seen: make([][]bool, n), online: make([]bool, n), latency: &f.latency}
	for i := range n {
		g.seen[i] = make([]bool, cfg.GroupPosts)
	}
	return g
}

// runGroups measures group fan-out for each size, all members online and
// then half of them offline. Only Parley has groups; with MUCService the
// cases run over XEP-0045 rooms instead, all members online.
func runGroups(ctx context.Context, cfg *Config, meter procMeter) ([]GroupResult, []string, error) {
	var out []GroupResult
	var notes []string
	for _, n := range cfg.GroupSizes {
		if n > cfg.Devices {
			notes = append(notes, fmt.Sprintf("groups: %d members need --devices %d or more; skipped", n, n))
			continue
		}
		if cfg.MUCService != "" {
			res, err := mucCase(ctx, cfg, meter, n)
			out = append(out, res)
			if err != nil {
				return out, notes, err
			}
			continue
		}
		for _, half := range []bool{false, true} {
			res, err := groupCase(ctx, cfg, meter, n, half)
			out = append(out, res)
			if err != nil {
				return out, notes, err
			}
		}
	}
	return out, notes, nil
}

// groupCase runs one size: devices 0..n-1 are the members, 0 the sender
// (the owner). With half offline, members n/2..n-1 log in only after the
// posts; their copies then come from their queues.
func groupCase(ctx context.Context, cfg *Config, meter procMeter, n int, halfOffline bool) (GroupResult, error) {
	f := newFleet(cfg)
	defer f.close()
	g := newGroupTrack(f, cfg, n)
	var online, offline []int
	for i := range n {
		if halfOffline && i >= n/2 {
			offline = append(offline, i)
			continue
		}
		online = append(online, i)
		g.online[i] = true
	}
	f.group = g
	res := GroupResult{Members: n, HalfOffline: halfOffline, Posts: cfg.GroupPosts, PostRate: cfg.GroupRate, PostBurst: cfg.GroupBurst}
	var lat Histogram
	if err := f.login(ctx, online, true, &lat, nil); err != nil {
		return res, err
	}
	members := make([]string, 0, n-1)
	for i := 1; i < n; i++ {
		members = append(members, cfg.jid(i))
	}
	info, err := f.devs[0].c.CreateGroup(ctx, "bench "+f.run, members...)
	if err != nil {
		return res, fmt.Errorf("creating a group of %d: %w (groups are Parley's)", n, err)
	}
	res.Expected = int64(cfg.GroupPosts) * int64(len(online)-1)
	res.OfflineExpected = int64(cfg.GroupPosts) * int64(len(offline))
	// The posts are timed once every online member has the creation's
	// notice: the first posts would otherwise queue behind that wave (the
	// first post's copies took 95 ms against 25 for the others, and at 100
	// posts they alone were the p99).
	if err := waitFor(ctx, g.created.Load, int64(len(online)-1), storeTimeout(int64(n))); err != nil {
		return res, fmt.Errorf("members told of the group's creation: %w", err)
	}
	m := beginStep(f, meter)
	if err := postAtRate(ctx, f, info.JID, cfg); err != nil {
		return res, err
	}
	err = waitFor(ctx, g.live.Load, res.Expected, storeTimeout(res.Expected))
	groupFigures(&res, g, m)
	if err != nil || len(offline) == 0 {
		return res, err
	}
	start := time.Now()
	if err := f.login(ctx, offline, true, &lat, nil); err != nil {
		return res, err
	}
	err = waitFor(ctx, g.later.Load, res.OfflineExpected, storeTimeout(res.OfflineExpected))
	res.DrainSeconds = time.Since(start).Seconds()
	time.Sleep(cfg.Drain / 3) // let duplicates, if any, show up
	res.OfflineDelivered, res.Duplicated = g.later.Load(), g.dups.Load()
	return res, err
}

// postAtRate sends GroupPosts posts from device 0 at GroupRate per second,
// in bursts of GroupBurst.
func postAtRate(ctx context.Context, f *fleet, group string, cfg *Config) error {
	gap := time.Duration(float64(time.Second) / cfg.GroupRate)
	start := time.Now()
	for i := range cfg.GroupPosts {
		if d := time.Until(start.Add(postTime(i, cfg.GroupBurst, gap))); d > 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(d):
			}
		}
		if _, err := f.devs[0].c.SendGroupMessage(group, f.body(0, int64(i), time.Now())); err != nil {
			return fmt.Errorf("posting: %w", err)
		}
	}
	return nil
}

// postTime is when post i goes, from the first, with posts gap apart on
// average, in bursts of burst: a burst's posts all go at its first's time.
func postTime(i, burst int, gap time.Duration) time.Duration {
	burst = max(burst, 1)
	return time.Duration(i-i%burst) * gap
}

// groupFigures fills the online members' figures.
func groupFigures(res *GroupResult, g *groupTrack, m *stepMeter) {
	res.Delivered, res.Duplicated = g.live.Load(), g.dups.Load()
	res.Latency = quantiles(g.latency)
	if last := g.lastLive.Load(); last > 0 {
		if d := time.Unix(0, last).Sub(m.start).Seconds(); d > 0 {
			res.DeliveriesPerSecond = float64(res.Delivered) / d
		}
	}
	if after, ok := m.meter.sample(); ok && m.hasProc && res.Delivered > 0 {
		cpu := after.cpu - m.proc.cpu
		res.ServerCPUPerDeliveryUS = float64(cpu.Microseconds()) / float64(res.Delivered)
		if res.ServerCPUPerDeliveryUS > 0 {
			res.DeliveriesPerCore = 1e6 / res.ServerCPUPerDeliveryUS
		}
		res.ServerCPUPercent = 100 * cpu.Seconds() / after.at.Sub(m.proc.at).Seconds()
	}
	if self, ok := (procMeter{pid: os.Getpid()}).sample(); ok && m.hasSelf && res.Delivered > 0 {
		cpu := self.cpu - m.self.cpu
		res.GeneratorCPUPercent = 100 * cpu.Seconds() / self.at.Sub(m.self.at).Seconds()
		res.GeneratorCPUPerDelivUS = float64(cpu.Microseconds()) / float64(res.Delivered)
	}
}
