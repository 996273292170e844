package c2s

import (
	"crypto/tls"
	"errors"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// An idle connection holds no read buffer: between messages its goroutine
// waits for the socket to become readable (the runtime's netpoller, no
// buffer), and only then borrows a buffer from a pool for the read. With
// tens of thousands of mostly idle phones per server, a 4 KiB buffer each
// would be most of the memory (design brief, section 4).

// readBufferPool lends read buffers, and the state of non-blocking reads
// (readAttempt); one per server, no package state.
type readBufferPool struct{ p, attempts sync.Pool }

func newReadBufferPool() *readBufferPool {
	pool := &readBufferPool{p: sync.Pool{New: func() any { b := make([]byte, readBufferSize); return &b }}}
	pool.attempts.New = func() any {
		a := &readAttempt{pool: pool}
		a.tryFn, a.tryOnceFn = a.try, a.tryOnce
		return a
	}
	return pool
}

// attempt lends the state of one non-blocking read, with its callbacks
// for RawConn.Read already bound: a read made no allocation of its own,
// where a fresh state and callback were two per read (every stanza of a
// conversation, and each linger).
func (p *readBufferPool) attempt() *readAttempt { return p.attempts.Get().(*readAttempt) }

// done gives back a, once its results were taken.
func (p *readBufferPool) done(a *readAttempt) {
	a.buf, a.n, a.err = nil, 0, nil
	p.attempts.Put(a)
}

func (p *readBufferPool) get() *[]byte  { return p.p.Get().(*[]byte) }
func (p *readBufferPool) put(b *[]byte) { p.p.Put(b) }

// idleWaiter waits until a connection has something to read without
// holding a buffer. nil means the connection cannot do that (plain
// blocking reads are used).
type idleWaiter struct {
	conn net.Conn        // the connection: the socket, or TLS over it
	raw  syscall.RawConn // the TCP socket
	tls  *tls.Conn       // set when crypto/tls runs on it: drain what it buffered first
	// lowWater is the socket's SO_RCVLOWAT while parked (0: never set, the
	// kernel's 1). Only the connection's current owner touches it, but
	// ownership passes through the kernel: a socket that fires the moment
	// it is armed is disarmed by the poller while arm still returns, an
	// order the race detector cannot see. The atomic makes it visible.
	lowWater atomic.Int32
}

// newIdleWaiter waits on the socket under (below nc, the connection
// itself).
func newIdleWaiter(nc, under net.Conn) *idleWaiter {
	w := &idleWaiter{conn: nc}
	if tc, ok := nc.(*tls.Conn); ok {
		w.tls = tc
	}
	sc, ok := under.(syscall.Conn)
	if !ok {
		return nil
	}
	raw, err := sc.SyscallConn()
	if err != nil || !canPeek {
		return nil
	}
	w.raw = raw
	return w
}

// tryRead reads what is there without waiting: what crypto/tls buffered,
// else what the socket has. wouldBlock reports that there was nothing.
// feed takes what was read from the socket (or, with crypto/tls, what it
// decrypted).
func (w *idleWaiter) tryRead(pool *readBufferPool, feed func([]byte) error) (wouldBlock bool, err error) {
	if w.tls == nil {
		return w.tryReadPlain(pool, feed)
	}
	return w.tryReadTLS(pool, feed)
}

// tryReadTLS is tryRead through crypto/tls: what it buffered, else a peek
// at the socket and a read through it. (Apart from tryRead, whose plain
// path would otherwise allocate the result this closure captures.)
func (w *idleWaiter) tryReadTLS(pool *readBufferPool, feed func([]byte) error) (wouldBlock bool, err error) {
	if n, err := w.drainTLS(pool, feed); n > 0 || err != nil {
		return false, err
	}
	if err := w.raw.Read(func(fd uintptr) bool { wouldBlock = isWouldBlock(fd); return true }); err != nil {
		return false, err
	}
	if wouldBlock {
		return true, nil
	}
	return false, w.readTLS(pool, feed)
}

// readTLS reads through crypto/tls what the socket holds (the caller has
// seen it readable) into a buffer borrowed for the read, and feeds it.
func (w *idleWaiter) readTLS(pool *readBufferPool, feed func([]byte) error) error {
	buf := pool.get()
	defer pool.put(buf)
	n, err := w.conn.Read(*buf)
	if n > 0 {
		return feed((*buf)[:n])
	}
	return err
}

// tryReadPlain is tryRead on a socket read directly (plain TCP, or TLS on
// the record layer, which feed decrypts): one non-blocking read into a
// borrowed buffer (given back at once when there was nothing), where a
// crypto/tls connection needs a peek first and then a read through it.
func (w *idleWaiter) tryReadPlain(pool *readBufferPool, feed func([]byte) error) (wouldBlock bool, err error) {
	a := pool.attempt()
	if err := w.raw.Read(a.tryOnceFn); err != nil {
		pool.done(a)
		return false, err
	}
	buf, n, rerr := a.buf, a.n, a.err
	pool.done(a)
	if buf == nil {
		return true, nil
	}
	defer pool.put(buf)
	if rerr != nil {
		return false, rerr
	}
	return false, feed((*buf)[:n])
}

// drainTLS returns what crypto/tls already holds, without reading the
// socket; (0, nil) when it holds nothing.
func (w *idleWaiter) drainTLS(pool *readBufferPool, feed func([]byte) error) (int, error) {
	buf := pool.get()
	defer pool.put(buf)
	// TLS may hold complete records already read from the socket: take
	// them without touching the socket (a deadline in the past makes
	// crypto/tls return a timeout, which it does not treat as fatal).
	_ = w.tls.SetReadDeadline(time.Unix(1, 0))
	n, err := w.tls.Read(*buf)
	_ = w.tls.SetReadDeadline(time.Time{})
	if n > 0 {
		return n, feed((*buf)[:n])
	}
	if err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
		return 0, err
	}
	return 0, nil
}

// readFor waits up to d for the client to send and feeds what it sent:
// os.ErrDeadlineExceeded when the socket stayed quiet. Each wake-up is one
// non-blocking read into a buffer borrowed for it (given back before
// waiting again), where waitFor's peek and the read after it were two
// system calls. With crypto/tls, whose records must go through it, it
// waits (waitFor: a peek when the socket was empty, another when it woke)
// and then reads through crypto/tls (readTLS): the socket was just seen
// readable, where a tryRead after the wait peeked at it again (5 system
// calls for each burst a quiet client sent over TLS 1.2, now 3).
//
// The wait cannot come first, not even after a read that returned less
// than its buffer (the socket was empty then): RawConn.Read clears the
// readiness the runtime's netpoller recorded before it, so bytes that came
// while the session handled the last read would wake nobody until the
// deadline. The read that finds nothing is what makes the wait safe.
func (w *idleWaiter) readFor(d time.Duration, pool *readBufferPool, feed func([]byte) error) error {
	if w.tls != nil {
		if err := w.waitFor(d); err != nil {
			return err
		}
		return w.readTLS(pool, feed)
	}
	if err := w.conn.SetReadDeadline(time.Now().Add(d)); err != nil {
		return err
	}
	a := pool.attempt()
	err := w.raw.Read(a.tryFn)
	buf, n, rerr := a.buf, a.n, a.err
	pool.done(a)
	if derr := w.conn.SetReadDeadline(time.Time{}); err == nil {
		err = derr
	}
	if err != nil {
		if buf != nil {
			pool.put(buf)
		}
		return err
	}
	defer pool.put(buf)
	if rerr != nil {
		return rerr
	}
	return feed((*buf)[:n])
}

// readAttempt is the state of a non-blocking read (readFor, tryReadPlain)
// with its callbacks for RawConn.Read, bound once: the pool lends it.
type readAttempt struct {
	pool *readBufferPool
	buf  *[]byte // borrowed once something (bytes, EOF, an error) was read
	n    int
	err  error
	// tryFn and tryOnceFn are try and tryOnce as method values.
	tryFn, tryOnceFn func(fd uintptr) bool
}

// try makes one non-blocking read; false (wait) when there was nothing.
func (a *readAttempt) try(fd uintptr) bool {
	buf := a.pool.get()
	n, wouldBlock, err := readNow(fd, *buf)
	if wouldBlock {
		a.pool.put(buf)
		return false
	}
	a.buf, a.n, a.err = buf, n, err
	return true
}

// tryOnce is try without waiting: buf stays nil when there was nothing.
func (a *readAttempt) tryOnce(fd uintptr) bool {
	a.try(fd)
	return true
}

// wait blocks until the socket is readable (or at EOF, or failed).
func (w *idleWaiter) wait() error {
	return w.raw.Read(func(fd uintptr) bool { return !isWouldBlock(fd) })
}

// waitFor is wait for at most d: os.ErrDeadlineExceeded when the socket
// stayed quiet.
func (w *idleWaiter) waitFor(d time.Duration) error {
	if err := w.conn.SetReadDeadline(time.Now().Add(d)); err != nil {
		return err
	}
	err := w.wait()
	if rerr := w.conn.SetReadDeadline(time.Time{}); err == nil {
		err = rerr
	}
	return err
}
