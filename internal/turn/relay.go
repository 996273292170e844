package turn

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	pionturn "github.com/pion/turn/v4"
)

// Config configures a Relay.
type Config struct {
	// UDP, TCP and TLS are the client-facing sockets; at least one is set.
	// The Relay owns them from New on (Close closes them).
	UDP net.PacketConn
	TCP net.Listener
	TLS net.Listener // already wrapped with crypto/tls

	Realm  string // the TURN realm (the chat domain)
	Secret []byte // the shared secret of the credential scheme

	// RelayIP is the address announced in XOR-RELAYED-ADDRESS; RelayBind
	// the IP relay sockets bind to ("" for every interface).
	RelayIP   net.IP
	RelayBind string
	// PortMin..PortMax (inclusive) is the relay port range; both 0 lets
	// the system choose (tests).
	PortMin, PortMax int

	// MaxAllocationsPerUser refuses more simultaneous allocations of one
	// user (486 Allocation Quota Reached); 0 means no limit.
	MaxAllocationsPerUser int
	// Bandwidth is the most bytes per second one allocation relays in each
	// direction; packets over it are dropped. 0 means no limit.
	Bandwidth int

	Metrics *Metrics     // may be nil
	Log     *slog.Logger // nil: discard
	Now     func() time.Time
}

// Relay is a running TURN/STUN server.
type Relay struct {
	cfg    Config
	server *pionturn.Server
	quota  quota
	open   *tracker // relay sockets and accepted TCP connections
}

// ErrNoListener is returned by New when no socket is given.
var ErrNoListener = errors.New("turn: no UDP, TCP or TLS socket")

// New starts a relay on the sockets of cfg.
func New(cfg Config) (*Relay, error) {
	if cfg.UDP == nil && cfg.TCP == nil && cfg.TLS == nil {
		return nil, ErrNoListener
	}
	if len(cfg.Secret) == 0 {
		return nil, errors.New("turn: empty shared secret")
	}
	if cfg.RelayIP == nil {
		return nil, errors.New("turn: no relay IP")
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	r := &Relay{cfg: cfg, quota: quota{max: cfg.MaxAllocationsPerUser, n: make(map[string]int)}, open: newTracker()}
	gen := &generator{ip: cfg.RelayIP, bind: cfg.RelayBind, min: cfg.PortMin, max: cfg.PortMax,
		bandwidth: cfg.Bandwidth, metrics: cfg.Metrics, open: r.open}
	perm := permission(cfg.RelayIP)
	sc := pionturn.ServerConfig{
		Realm:         cfg.Realm,
		AuthHandler:   r.auth,
		QuotaHandler:  r.quota.allow,
		EventHandler:  r.events(),
		LoggerFactory: logFactory{cfg.Log},
	}
	if cfg.UDP != nil {
		sc.PacketConnConfigs = append(sc.PacketConnConfigs,
			pionturn.PacketConnConfig{PacketConn: cfg.UDP, RelayAddressGenerator: gen, PermissionHandler: perm})
	}
	for _, ln := range []net.Listener{cfg.TCP, cfg.TLS} {
		if ln != nil {
			sc.ListenerConfigs = append(sc.ListenerConfigs,
				pionturn.ListenerConfig{Listener: trackedListener{Listener: ln, t: r.open}, RelayAddressGenerator: gen, PermissionHandler: perm})
		}
	}
	s, err := pionturn.NewServer(sc)
	if err != nil {
		return nil, fmt.Errorf("turn: %w", err)
	}
	r.server = s
	return r, nil
}

// Close stops the relay and every allocation.
func (r *Relay) Close() error {
	err := r.server.Close()
	r.open.closeAll()
	return err
}

// Allocations is the number of live allocations.
func (r *Relay) Allocations() int { return r.server.AllocationCount() }

// auth is pion's AuthHandler: the key of a valid, unexpired credential.
func (r *Relay) auth(username, realm string, src net.Addr) ([]byte, bool) {
	pass, _, err := Check(r.cfg.Secret, username, r.cfg.Now())
	if err != nil {
		r.cfg.Log.Debug("turn credential refused", "src", src.String(), "err", err)
		r.cfg.Metrics.authFailed() // a wrong password is counted by OnAuth
		return nil, false
	}
	return pionturn.GenerateAuthKey(username, realm, pass), true
}

// events counts allocations per user and in the metrics.
func (r *Relay) events() pionturn.EventHandler {
	return pionturn.EventHandler{
		OnAuth: func(_, _ net.Addr, _, _, _, _ string, ok bool) {
			if !ok {
				r.cfg.Metrics.authFailed()
			}
		},
		OnAllocationCreated: func(_, _ net.Addr, _, username, _ string, _ net.Addr, _ int) {
			r.quota.add(UserOf(username), 1)
			r.cfg.Metrics.allocation(1)
		},
		OnAllocationDeleted: func(_, _ net.Addr, _, username, _ string) {
			r.quota.add(UserOf(username), -1)
			r.cfg.Metrics.allocation(-1)
		},
	}
}

// quota counts live allocations per user.
type quota struct {
	max int
	mu  sync.Mutex
	n   map[string]int // guarded by mu
}

// allow is pion's QuotaHandler.
func (q *quota) allow(username, _ string, _ net.Addr) bool {
	if q.max <= 0 {
		return true
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.n[UserOf(username)] < q.max
}

func (q *quota) add(user string, d int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.n[user] += d; q.n[user] <= 0 {
		delete(q.n, user)
	}
}

// permission refuses peers outside public address space unless the relay
// address is of the same class (loopback for development, private for a
// LAN deployment).
func permission(relay net.IP) pionturn.PermissionHandler {
	rc := class(relay)
	return func(_ net.Addr, peer net.IP) bool {
		c := class(peer)
		return c != classNever && (c == classPublic || c == rc)
	}
}

type ipClass int

const (
	classPublic ipClass = iota
	classLoopback
	classPrivate
	classNever
)

func class(ip net.IP) ipClass {
	switch {
	case ip.IsUnspecified() || ip.IsMulticast() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast():
		return classNever
	case ip.IsLoopback():
		return classLoopback
	case ip.IsPrivate():
		return classPrivate
	}
	return classPublic
}
