package turn

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"strconv"
	"sync"
	"time"
)

// generator allocates relay sockets in a port range and wraps them with
// the bandwidth limit and the byte counters.
type generator struct {
	ip        net.IP
	bind      string
	min, max  int
	bandwidth int
	metrics   *Metrics
	open      *tracker
}

var errNoTCPRelay = errors.New("turn: TCP allocations (RFC 6062) are not supported")

func (g *generator) Validate() error {
	if g.min > g.max || g.min < 0 || g.max > 65535 || (g.min == 0) != (g.max == 0) {
		return fmt.Errorf("turn: bad relay port range %d-%d", g.min, g.max)
	}
	return nil
}

// AllocatePacketConn binds a UDP relay socket: the requested port, a
// random free port of the range, or any port when there is no range.
func (g *generator) AllocatePacketConn(network string, requested int) (net.PacketConn, net.Addr, error) {
	conn, err := g.listen(network, requested)
	if err != nil {
		return nil, nil, err
	}
	port := conn.LocalAddr().(*net.UDPAddr).Port
	lc := &limitedConn{PacketConn: conn, metrics: g.metrics, open: g.open,
		in: newBucket(g.bandwidth), out: newBucket(g.bandwidth)}
	g.open.add(lc)
	return lc, &net.UDPAddr{IP: g.ip, Port: port}, nil
}

func (g *generator) listen(network string, requested int) (net.PacketConn, error) {
	if requested != 0 || g.min == 0 {
		return net.ListenPacket(network, net.JoinHostPort(g.bind, strconv.Itoa(requested)))
	}
	var err error
	for range 20 {
		port := g.min + rand.IntN(g.max-g.min+1)
		var c net.PacketConn
		if c, err = net.ListenPacket(network, net.JoinHostPort(g.bind, strconv.Itoa(port))); err == nil {
			return c, nil
		}
	}
	return nil, fmt.Errorf("turn: no free relay port in %d-%d: %w", g.min, g.max, err)
}

func (g *generator) AllocateConn(string, int) (net.Conn, net.Addr, error) {
	return nil, nil, errNoTCPRelay
}

// limitedConn is a relay socket: ReadFrom gets peers' packets for the
// client, WriteTo sends the client's packets to peers. Packets over the
// bandwidth limit are dropped (a blocked write would stall every client of
// the listener's read loop).
type limitedConn struct {
	net.PacketConn
	metrics *Metrics
	in, out *bucket
	open    *tracker
	once    sync.Once
}

func (c *limitedConn) Close() error {
	c.once.Do(func() { c.open.remove(c) })
	return c.PacketConn.Close()
}

func (c *limitedConn) ReadFrom(p []byte) (int, net.Addr, error) {
	for {
		n, addr, err := c.PacketConn.ReadFrom(p)
		if err != nil || c.in.take(n) {
			if err == nil {
				c.metrics.relayed(dirFromPeer, n)
			}
			return n, addr, err
		}
		c.metrics.dropped(dirFromPeer)
	}
}

func (c *limitedConn) WriteTo(p []byte, addr net.Addr) (int, error) {
	if !c.out.take(len(p)) {
		c.metrics.dropped(dirToPeer)
		return len(p), nil
	}
	n, err := c.PacketConn.WriteTo(p, addr)
	if n > 0 {
		c.metrics.relayed(dirToPeer, n)
	}
	return n, err
}

// bucket is a token bucket of bytes per second with one second of burst;
// a nil bucket lets everything through.
type bucket struct {
	rate   float64
	mu     sync.Mutex
	tokens float64   // guarded by mu
	last   time.Time // guarded by mu
}

func newBucket(rate int) *bucket {
	if rate <= 0 {
		return nil
	}
	return &bucket{rate: float64(rate), tokens: float64(rate), last: time.Now()}
}

func (b *bucket) take(n int) bool {
	if b == nil {
		return true
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	now := time.Now()
	b.tokens = min(b.rate, b.tokens+now.Sub(b.last).Seconds()*b.rate)
	b.last = now
	if b.tokens < float64(n) {
		return false
	}
	b.tokens -= float64(n)
	return true
}
