//go:build linux

package c2s

import (
	"errors"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"unsafe"

	"github.com/parley-im/parley/internal/tlsrecord"
	"github.com/parley-im/parley/internal/wire/xmlstream"
)

// parker keeps idle connections without a goroutine: a parked
// connection's socket is armed in an epoll set of its own, and one
// goroutine waits on that set for all of them. When a socket becomes
// readable (or fails), its connection is taken out: if the client only
// sent keep-alives they are consumed there and the connection stays
// parked, still armed; otherwise its socket is disarmed and a new
// goroutine runs its session on. A goroutine blocked in the runtime's netpoller
// costs a 2 KiB stack or more per connection; this costs a map entry.
//
// Exactly one side takes a parked connection out: the poller when the
// socket is ready, or whoever closes the connection (transport.Close),
// which then ends the session itself, since a closed socket leaves the
// epoll set silently.
type parker struct {
	// ep is the epoll set, itself in the runtime's netpoller (an epoll fd
	// is readable while it has events): the poller goroutine waits there
	// like any network read instead of in a blocking epoll_wait, which on
	// a one-core server would hold the only P until sysmon took it back.
	ep     *os.File
	raw    syscall.RawConn
	epfd   int
	mu     sync.Mutex
	nextID uint64
	parked map[uint64]*conn // guarded by mu
	done   chan struct{}
}

func newParker() (*parker, error) {
	epfd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return nil, err
	}
	if err := syscall.SetNonblock(epfd, true); err != nil {
		_ = syscall.Close(epfd)
		return nil, err
	}
	ep := os.NewFile(uintptr(epfd), "parley-parker-epoll")
	raw, err := ep.SyscallConn()
	if err != nil {
		ep.Close()
		return nil, err
	}
	p := &parker{ep: ep, raw: raw, epfd: epfd, parked: make(map[uint64]*conn), done: make(chan struct{})}
	go p.run()
	return p, nil
}

func setEventID(ev *syscall.EpollEvent, id uint64) {
	ev.Fd = int32(uint32(id))
	ev.Pad = int32(uint32(id >> 32))
}

func eventID(ev *syscall.EpollEvent) uint64 {
	return uint64(uint32(ev.Fd)) | uint64(uint32(ev.Pad))<<32
}

// park arms c's socket and leaves c to the poller; c's goroutine must
// return right after. If the socket cannot be armed (it was closed), the
// session ends here unless the closer already took c.
func (p *parker) park(c *conn) {
	c.releaseIdle()
	p.mu.Lock()
	if c.parkID == 0 {
		p.nextID++
		c.parkID = p.nextID
	}
	p.parked[c.parkID] = c
	p.mu.Unlock()
	if err := c.idle.arm(p.epfd, c.parkID, &c.armed, c.parkLowWater()); err != nil && p.take(c.parkID) != nil {
		c.endSession(err)
	}
}

// keep puts back a connection the poller took, still armed. If it was
// closed meanwhile (its closer found it taken), it ends here.
func (p *parker) keep(c *conn) {
	c.releaseIdle()
	p.mu.Lock()
	p.parked[c.parkID] = c
	p.mu.Unlock()
	if c.has(connFlagClosing) && p.take(c.parkID) != nil {
		go c.endSession(net.ErrClosed)
	}
}

// take removes and returns the parked connection id, nil if it is not
// (or no longer) parked.
func (p *parker) take(id uint64) *conn {
	p.mu.Lock()
	defer p.mu.Unlock()
	c := p.parked[id]
	delete(p.parked, id)
	return c
}

// unpark is called after c's socket was closed: true means c was parked
// and the caller now owns it.
func (p *parker) unpark(c *conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if c.parkID == 0 || p.parked[c.parkID] != c {
		return false
	}
	delete(p.parked, c.parkID)
	return true
}

// count is the number of parked connections.
func (p *parker) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.parked)
}

func (p *parker) run() {
	defer close(p.done)
	events := make([]syscall.EpollEvent, 256)
	// peek is where parked sockets are read (readParked), one for all: a
	// buffer on readParked's stack escaped (the decoder's feed is an
	// interface call), 128 bytes of garbage per wake-up.
	peek := make([]byte, keepAlivePeek)
	for {
		n, err := p.wait(events)
		if err != nil {
			return // closed
		}
		for i := range events[:n] {
			c := p.take(eventID(&events[i]))
			if c == nil {
				continue
			}
			w := c.absorbParked(peek)
			if w.absorbed {
				p.keep(c)
				continue
			}
			c.srv.metrics.wakes.Inc()
			_ = c.idle.disarm(p.epfd) // on failure the session's read finds out why
			if w.taken {
				go c.runSessionFrom(w.tok, w.err)
			} else {
				go c.runSession()
			}
		}
	}
}

// wait returns the next ready events, waiting in the runtime's netpoller
// while there are none.
func (p *parker) wait(events []syscall.EpollEvent) (int, error) {
	var n int
	var werr error
	err := p.raw.Read(func(fd uintptr) bool {
		n, werr = syscall.EpollWait(int(fd), events, 0)
		if errors.Is(werr, syscall.EINTR) {
			n, werr = 0, nil
		}
		return n > 0 || werr != nil
	})
	if err == nil {
		err = werr
	}
	return n, err
}

// close stops the poller. Connections still parked stay open; their
// owners close them (Server.Shutdown runs after the sessions are closed).
func (p *parker) close() {
	_ = p.ep.Close()
	<-p.done
}

// parkEvents are what a parked socket waits for: input, or the client's
// end (level triggered: what arrived before arming fires at once).
const parkEvents = syscall.EPOLLIN | syscall.EPOLLRDHUP

// arm registers the socket in epfd for parkEvents, to fire once lowWater
// bytes are there (SO_RCVLOWAT; the end of the stream fires regardless).
// The fd is used inside RawConn.Control, so it cannot be closed and reused
// meanwhile.
func (w *idleWaiter) arm(epfd int, id uint64, armed *atomic.Bool, lowWater int) error {
	var ctlErr error
	err := w.raw.Control(func(fd uintptr) {
		if ctlErr = w.setLowWater(int(fd), lowWater); ctlErr != nil {
			return
		}
		// Marked armed before the syscall: once it is made the event may
		// fire and the next park (on another goroutine) must modify.
		wasArmed := armed.Swap(true)
		op := syscall.EPOLL_CTL_MOD
		if !wasArmed {
			op = syscall.EPOLL_CTL_ADD
		}
		if ctlErr = epollCtl(epfd, op, int(fd), id, parkEvents); ctlErr != nil && !wasArmed {
			armed.Store(false)
		}
	})
	if err != nil {
		return err
	}
	return ctlErr
}

// disarm stops the socket's events while its session runs (it stays
// registered: the next park modifies), and lets it read every byte again.
func (w *idleWaiter) disarm(epfd int) error {
	var ctlErr error
	err := w.raw.Control(func(fd uintptr) {
		if ctlErr = epollCtl(epfd, syscall.EPOLL_CTL_MOD, int(fd), 0, 0); ctlErr == nil {
			ctlErr = w.setLowWater(int(fd), 1)
		}
	})
	if err != nil {
		return err
	}
	return ctlErr
}

// setLowWater sets the socket's SO_RCVLOWAT when it changes: the kernel
// reports the socket readable (and wakes the poller) only once that many
// bytes are queued.
func (w *idleWaiter) setLowWater(fd, n int) error {
	was := int(w.lowWater.Load())
	if n == was || (n == 1 && was == 0) {
		return nil
	}
	if err := syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_RCVLOWAT, n); err != nil {
		return err
	}
	w.lowWater.Store(int32(n))
	return nil
}

func epollCtl(epfd, op, fd int, id uint64, events uint32) error {
	ev := syscall.EpollEvent{Events: events}
	setEventID(&ev, id)
	return syscall.EpollCtl(epfd, op, fd, &ev)
}

// keepAlivePeek bounds what readParked reads: a phone's pulse is a byte
// or two (a 23-byte record over TLS 1.3), and a few are read at once; an
// answer to a ping with its stream-management ack and ack request is
// 100-150 bytes (over TLS 1.3 one record, or two, of 22 bytes more); more
// is a burst of real traffic.
const keepAlivePeek = 256

// wake is what the poller made of a parked connection's input: absorbed
// (the connection stays parked), or for a goroutine that runs its session
// on, from the token the poller took from the decoder if taken.
type wake struct {
	absorbed, taken bool
	tok             xmlstream.Token
	err             error
}

// parkedRead is what a parked connection's socket held (readParked).
type parkedRead uint8

const (
	parkedOther      parkedRead = iota // nothing, the end, an error, or more than one read takes
	parkedKeepAlives                   // only keep-alives, consumed (not fed)
	parkedFed                          // all there was, fed to the decoder
)

// absorbParked is the poller's fast path for an idle phone: a pulse
// (keep-alives), or the answer to the keep-alive sweep's ping (with its
// stream-management acks), is taken with no goroutine started, no buffer
// borrowed, no timer set and no epoll change, and the connection stays
// parked. Anything else read is fed to the connection's decoder for its
// session to handle. crypto/tls connections (TLS 1.2) always take the
// usual path. buf is the poller's to read into (keepAlivePeek bytes).
func (c *conn) absorbParked(buf []byte) wake {
	if c.idle == nil || c.idle.tls != nil || c.sess == nil {
		return wake{}
	}
	switch c.readParked(buf) {
	case parkedKeepAlives:
		c.keepAlivesAbsorbed()
		return wake{absorbed: true}
	case parkedFed:
		return c.absorbKeepAliveStanzas()
	}
	return wake{}
}

// readParked makes one non-blocking read of what a parked connection
// received, into buf (keepAlivePeek bytes): keep-alives (white space
// between XML stanzas, empty binary frames) are consumed, anything else
// is fed to the decoder. Over TLS 1.3 the records are opened here
// (readParkedRecords).
func (c *conn) readParked(buf []byte) parkedRead {
	n := c.idle.recv(buf)
	if c.rec != nil {
		return c.readParkedRecords(buf, n)
	}
	if n <= 0 {
		return parkedOther
	}
	if n < len(buf) && c.in.keepAlive(buf[:n]) {
		return parkedKeepAlives
	}
	c.feed(buf[:n])
	if n == len(buf) {
		return parkedOther // more may wait
	}
	return parkedFed
}

// absorbKeepAliveStanzas handles, in the poller, what readParked fed when
// it is all of the keep-alive ping's exchange (session.AbsorbKeepAlive:
// the answer, and the stream-management acks a client sends with it):
// at 15,000 idle devices a ping round woke each device's connection with
// a goroutine that parsed its answer and then lingered a second,
// 1,500-2,900 goroutines at once. From the first element that is not,
// the session's goroutine takes over, from that token. WebSocket decoders
// are left alone: decoding may write (a pong frame).
func (c *conn) absorbKeepAliveStanzas() wake {
	if c.kind != XMLStream && c.kind != Binary {
		return wake{}
	}
	for taken := 0; ; taken++ {
		tok, err := c.in.next()
		switch {
		case errors.Is(err, xmlstream.ErrNeedMore) && (taken == 0 || c.in.parkLowWater() == 1):
			return wake{} // a stanza begun: the session's goroutine reads on
		case errors.Is(err, xmlstream.ErrNeedMore):
			c.srv.metrics.pongs.Inc()
			return wake{absorbed: true}
		case err != nil || tok.Kind != xmlstream.Stanza || !c.sess.AbsorbKeepAlive(tok.Element):
			return wake{taken: true, tok: tok, err: err}
		}
	}
}

// parkLowWater is what c's socket may queue before the poller reads it:
// only keep-alives are absorbed by the poller (plaintext, or TLS 1.3 on the
// record layer), so anything else wakes it at the first byte. Over TLS 1.3
// between records, any record longer than a one-byte pulse's may matter
// (an alert is the shortest).
func (c *conn) parkLowWater() int {
	if c.idle.tls != nil || c.sess == nil {
		return 1
	}
	lw := c.in.parkLowWater()
	if c.rec == nil || lw == 1 {
		return lw
	}
	if c.rec.Pending() {
		return 1
	}
	return tlsrecord.ShortestAlertRecord
}

// recv reads from the socket without waiting: the byte count (0 at the
// client's end), or -1 on an error or when nothing is there.
func (w *idleWaiter) recv(b []byte) int {
	n := -1
	err := w.raw.Read(func(fd uintptr) bool {
		m, _, err := syscall.Recvfrom(int(fd), b, syscall.MSG_DONTWAIT)
		if err == nil {
			n = m
		}
		return true
	})
	if err != nil {
		return -1
	}
	return n
}

// outputDrained reports whether the socket holds nothing the client has
// not acknowledged (TIOCOUTQ): a small write then cannot block.
func (c *conn) outputDrained() bool {
	return c.idle != nil && c.idle.queued(syscall.TIOCOUTQ) == 0
}

// queued is the byte count the socket's ioctl req (TIOCINQ: unread,
// TIOCOUTQ: unacknowledged) reports, -1 when it fails.
func (w *idleWaiter) queued(req uintptr) int {
	queued := -1
	_ = w.raw.Control(func(fd uintptr) {
		var n int32
		if _, _, errno := syscall.Syscall(syscall.SYS_IOCTL, fd, req, uintptr(unsafe.Pointer(&n))); errno == 0 {
			queued = int(n)
		}
	})
	return queued
}

// unreadTraffic reports whether the socket queues more unread bytes than
// at the last call: a parked connection's keep-alives below its low-water
// mark (transport.UnreadTraffic). A client that sent a pulse and died
// queues no more, and is pinged at the next call.
func (c *conn) unreadTraffic() bool {
	if c.idle == nil {
		return false
	}
	queued := c.idle.queued(syscall.TIOCINQ)
	if queued < 0 {
		return false
	}
	return int(c.unreadSeen.Swap(int32(queued))) < queued
}

// readParkedRecords is readParked for the n bytes in buf read from a TLS
// 1.3 connection: they are given to the record layer, and they are all
// there was if they were complete records. Keep-alives before other content
// are skipped, as the decoder would skip them; a failure, an alert, a
// KeyUpdate to answer or an incomplete record wake the connection, whose
// goroutine handles them.
func (c *conn) readParkedRecords(buf []byte, n int) parkedRead {
	if n <= 0 {
		return parkedOther
	}
	onlyKeepAlives := true
	_ = c.rec.Feed(buf[:n], func(b []byte) {
		if onlyKeepAlives && c.in.keepAlive(b) {
			return
		}
		onlyKeepAlives = false
		c.feed(b)
	})
	switch {
	case n == len(buf) || c.rec.Pending() || c.rec.Err() != nil || c.rec.KeyUpdateDue():
		return parkedOther
	case onlyKeepAlives:
		return parkedKeepAlives
	}
	return parkedFed
}

// keepAlivesAbsorbed notes the pulses the poller read: a sign of life,
// and nothing left unread.
func (c *conn) keepAlivesAbsorbed() {
	c.unreadSeen.Store(0)
	c.sess.Touch()
	c.srv.metrics.keepAlives.Inc()
}

// releaseIdle drops what a connection need not hold while it is parked:
// the XML parser (the stream's context is kept) and the record layer's
// ciphers (rebuilt from the keys on the next record).
func (c *conn) releaseIdle() {
	c.in.park()
	if c.rec != nil {
		c.rec.ReleaseCiphers()
	}
}
