package bench

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"time"

	"github.com/parley-im/parley/client"
)

// Config describes one run. Zero values take the defaults of Defaults.
type Config struct {
	Addr string // the server's host:port
	// Addr2, when set, is a second node of the same cluster: odd-numbered
	// devices connect there, so that each pair (i, i^1) spans two nodes
	// and every message crosses the cluster bus.
	Addr2      string
	Domain     string // the accounts' domain
	UserFormat string // account localpart, with %d for the device number
	Password   string // the same for every account
	Devices    int    // simulated devices (an even number: they form pairs)
	Binary     bool   // Parley's binary encoding (native port); otherwise XMPP's XML
	Transport  client.Transport
	Mechanism  string // SASL mechanism ("" = strongest offered)
	// Pipeline logs in with client.Options.Pipeline: three round trips
	// (with Mechanism set) instead of six; the server must offer stream
	// management (Parley's does). The binary encoding always pipelines.
	Pipeline bool
	// SASL2 logs in with client.Options.SASL2 (XEP-0388 and XEP-0386):
	// with Pipeline and Mechanism, two round trips.
	SASL2     bool
	Insecure  bool // accept any certificate (self-signed test servers)
	ServerPID int  // for memory and CPU figures (0: not measured)

	LoginsInFlight int // concurrent logins during the ramp
	// RegistrationsInFlight bounds concurrent in-band registrations
	// (Register); 0 means LoginsInFlight. Some servers answer a burst of
	// registrations from one address slowly.
	RegistrationsInFlight int
	// PrecomputeKeys logs every device in once, untimed, before the ramp,
	// so that the ramp's SCRAM logins reuse the client's derived keys and
	// measure the server, not the generator's PBKDF2.
	PrecomputeKeys bool
	Rates          []int         // open-loop offered rates (msg/s), stepped up
	StepDuration   time.Duration // how long each rate is offered
	// Warmup, when positive, offers the first rate for this long before
	// the steps, unmeasured: the first step then measures a server that
	// has run traffic (its pools, goroutine stacks and collector's pace),
	// not its first seconds of it.
	Warmup         time.Duration
	Window         int           // closed loop: messages in flight per sender
	ClosedDuration time.Duration // closed loop: how long
	OfflineTotal   int           // offline: messages stored in all
	BodySize       int           // bytes of each message body
	Drain          time.Duration // how long to wait for stragglers after a step
	Settle         time.Duration // idle: wait before reading the server's memory
	// KeepAliveInterval is how often each device sends a keep-alive pulse
	// in the keepalive scenario, which lasts KeepAliveDuration.
	KeepAliveInterval time.Duration
	KeepAliveDuration time.Duration
	GroupSizes        []int   // groups: members per group (the sender included)
	GroupPosts        int     // groups: posts per case
	GroupRate         float64 // groups: posts per second
	// GroupBurst sends the posts in bursts of this many, back to back,
	// the bursts spaced so that the average rate is GroupRate: a busy
	// group, whose posts reach the server's fan-out together (1: evenly
	// spaced posts).
	GroupBurst int
	// MUCService runs the groups scenario over XEP-0045 rooms on this
	// service (conference.localhost, or Parley's groups.<domain>) instead
	// of Parley's group protocol: any XMPP server's MUC, all members online.
	MUCService string

	// Upgrade triggers a live upgrade of the server (the upgrade scenario)
	// and returns once the new process serves, with both pids.
	Upgrade         func(ctx context.Context) (oldPID, newPID int, err error)
	UpgradeAt       time.Duration // how far into the upgrade step
	UpgradeRate     int           // msg/s offered during the upgrade step
	UpgradeDuration time.Duration // how long the upgrade step offers traffic
	// UpgradeDrain is how long the upgrade step waits, after the traffic,
	// for everything sent to arrive: what has not arrived then is
	// reported as not delivered (late or lost: a longer wait tells).
	UpgradeDrain time.Duration
	DialAddrs    []string // more listeners the refused-connection loop dials
	Reconnect    bool     // devices reconnect (set by the upgrade scenario)

	AllowRemote bool      // permit a non-loopback target
	Progress    io.Writer // progress bars (nil: none)

	keys *client.KeyCache // the devices' derived SCRAM keys, shared by all logins of a run
	// beforeDrain, when set (by tests), runs in the offline scenario just
	// before the recipients log in to drain their queues.
	beforeDrain func()
}

// Defaults returns the settings used when a field is left zero: the ones
// the published comparisons use.
func Defaults() Config {
	return Config{
		Addr: "127.0.0.1:5222", Domain: "localhost", UserFormat: "bench%d", Password: "bench-password",
		Devices: 1000, LoginsInFlight: 100,
		Rates:        []int{1000, 2500, 5000, 10000, 20000},
		StepDuration: 10 * time.Second, Window: 4, ClosedDuration: 10 * time.Second,
		OfflineTotal: 50000, BodySize: 100, Drain: 3 * time.Second, Settle: 2 * time.Second,
		GroupSizes: []int{10, 100, 1024}, GroupPosts: 50, GroupRate: 20, GroupBurst: 1,
		UpgradeAt: 5 * time.Second, UpgradeRate: 5000, UpgradeDuration: 20 * time.Second, UpgradeDrain: time.Minute,
		KeepAliveInterval: 5 * time.Second, KeepAliveDuration: 30 * time.Second,
	}
}

func (c *Config) fill() error {
	d := Defaults()
	def := func(v *string, x string) {
		if *v == "" {
			*v = x
		}
	}
	def(&c.Addr, d.Addr)
	def(&c.Domain, d.Domain)
	def(&c.UserFormat, d.UserFormat)
	def(&c.Password, d.Password)
	defInt := func(v *int, x int) {
		if *v <= 0 {
			*v = x
		}
	}
	defInt(&c.Devices, d.Devices)
	defInt(&c.LoginsInFlight, d.LoginsInFlight)
	defInt(&c.Window, d.Window)
	defInt(&c.OfflineTotal, d.OfflineTotal)
	defInt(&c.BodySize, d.BodySize)
	defDur := func(v *time.Duration, x time.Duration) {
		if *v <= 0 {
			*v = x
		}
	}
	defDur(&c.StepDuration, d.StepDuration)
	defDur(&c.ClosedDuration, d.ClosedDuration)
	defDur(&c.Drain, d.Drain)
	defDur(&c.Settle, d.Settle)
	defDur(&c.UpgradeAt, d.UpgradeAt)
	defDur(&c.UpgradeDuration, d.UpgradeDuration)
	defDur(&c.KeepAliveInterval, d.KeepAliveInterval)
	defDur(&c.KeepAliveDuration, d.KeepAliveDuration)
	defDur(&c.UpgradeDrain, d.UpgradeDrain)
	defInt(&c.UpgradeRate, d.UpgradeRate)
	if len(c.Rates) == 0 {
		c.Rates = d.Rates
	}
	if len(c.GroupSizes) == 0 {
		c.GroupSizes = d.GroupSizes
	}
	defInt(&c.GroupPosts, d.GroupPosts)
	defInt(&c.GroupBurst, d.GroupBurst)
	if c.GroupRate <= 0 {
		c.GroupRate = d.GroupRate
	}
	if c.keys == nil {
		c.keys = client.NewKeyCache()
	}
	return c.check()
}

func (c *Config) check() error {
	if c.Devices < 2 || c.Devices%2 != 0 {
		return fmt.Errorf("--devices %d: need an even number, at least 2 (devices form pairs)", c.Devices)
	}
	if c.BodySize < 40 || c.BodySize > 64<<10 {
		return fmt.Errorf("--body-size %d: between 40 and 65536 bytes (the body carries a timestamp)", c.BodySize)
	}
	for _, n := range c.GroupSizes {
		if n < 2 {
			return fmt.Errorf("--group-sizes %d: a group has at least 2 members", n)
		}
	}
	if c.Devices > 1_000_000 || c.OfflineTotal > 100_000_000 || c.GroupPosts > 1_000_000 {
		return errors.New("refusing more than 1,000,000 devices or 100,000,000 messages in one run")
	}
	if !c.AllowRemote {
		for _, a := range []string{c.Addr, c.Addr2} {
			if a == "" {
				continue
			}
			if err := loopbackOnly(a); err != nil {
				return err
			}
		}
	}
	return nil
}

// loopbackOnly refuses targets that are not this machine: a load generator
// pointed at someone else's server by mistake is an attack.
func loopbackOnly(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("server address %q: %w", addr, err)
	}
	ips, err := net.LookupIP(host)
	if err != nil {
		return fmt.Errorf("resolving %q: %w", host, err)
	}
	for _, ip := range ips {
		if !ip.IsLoopback() {
			return fmt.Errorf("%s is not a loopback address: pass --allow-remote to load a remote server (only one you run)", host)
		}
	}
	return nil
}

// loopbackSources is how many loopback addresses the devices' connections
// are spread over: a few hundred connections each at 19,900 devices.
const loopbackSources = 64

// loopbackSource is the address device i dials from when the server is at
// an IPv4 loopback address: one of 127.0.0.1 to 127.0.0.64 in turn, so
// that no source address holds more than a few hundred of the
// connections. From one address, connect() took about 1 ms instead of
// 20 µs once some 14,000 connections were open (client.Options.LocalAddr),
// which made the generator the limit of a login ramp past that. Nil for
// any other server address, and on systems other than Linux (macOS, for
// one, answers only on 127.0.0.1 unless told otherwise).
func loopbackSource(addr string, i int) net.Addr {
	if runtime.GOOS != "linux" {
		return nil
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil
	}
	ip := net.ParseIP(host).To4()
	if ip == nil || !ip.IsLoopback() {
		return nil
	}
	return &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(1+i%loopbackSources))}
}

func (c *Config) jid(i int) string { return fmt.Sprintf(c.UserFormat, i) + "@" + c.Domain }

func (c *Config) clientOptions(i int) client.Options {
	o := client.Options{
		JID: c.jid(i) + "/bench", Password: c.Password, Addr: c.Addr,
		Transport: c.Transport, Mechanism: c.Mechanism, Pipeline: c.Pipeline, SASL2: c.SASL2, DialTimeout: 30 * time.Second,
		TCPKeepAlive: -1, // a load generator needs none: four setsockopt calls fewer per login
		EventBuffer:  4096, Encoding: client.XML, KeyCache: c.keys,
		Reconnect: c.Reconnect, MinBackoff: 250 * time.Millisecond, MaxBackoff: 5 * time.Second,
	}
	if c.Addr2 != "" && i%2 == 1 {
		o.Addr = c.Addr2
	}
	o.LocalAddr = loopbackSource(o.Addr, i)
	if c.Binary {
		o.Encoding = client.Binary
	}
	if c.Insecure {
		o.TLS = &tls.Config{InsecureSkipVerify: true}
	}
	return o
}
