package tlsrecord

import (
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// writeRecordsPerKey is how many records are sealed with one writing key
// before this side updates it: RFC 8446, 5.5 allows AES-GCM about 2^24.5
// full-size records per key.
const writeRecordsPerKey = 1 << 24

// closeAlertTimeout bounds how long Close waits to send its alert.
const closeAlertTimeout = time.Second

// Pool lends record buffers (room for one record of the largest size);
// one per server, shared by its connections.
type Pool struct{ p sync.Pool }

// NewPool returns an empty pool.
func NewPool() *Pool {
	return &Pool{p: sync.Pool{New: func() any { b := make([]byte, maxRecord); return &b }}}
}

func (p *Pool) get() *[]byte  { return p.p.Get().(*[]byte) }
func (p *Pool) put(b *[]byte) { p.p.Put(b) }

// Conn is an established TLS 1.3 connection whose records this package
// protects. See the package documentation for who may call what.
type Conn struct {
	raw  net.Conn
	pool *Pool

	// The reader's state: Feed, Read, Err, Pending, ReleaseCiphers; one
	// goroutine at a time.
	in      direction
	partial *[]byte // the incomplete record, from pool; nil between records
	have    int     // bytes of it received
	hs      [keyUpdateLen]byte
	hsN     int    // bytes of a fragmented KeyUpdate received
	rerr    error  // the reading failure, sticky
	pending []byte // Read's plaintext not returned yet

	// keyUpdateDue is set when the peer asked for our KeyUpdate; the
	// next write sends it first.
	keyUpdateDue atomic.Bool
	// failed is the reader's fatal failure, whose alert Close sends
	// (none when the peer sent it); writes stop once it is set.
	failed atomic.Pointer[AlertError]

	wmu        sync.Mutex
	out        direction // guarded by wmu
	werr       error     // guarded by wmu: sticky; ErrClosed once an alert went out
	rekeyAfter uint64    // records per writing key
}

// newConn returns a Conn over raw, with the peer's traffic secret for
// reading and ours for writing (both taken: the Conn erases them when it
// updates them).
func newConn(raw net.Conn, s suite, readSecret, writeSecret []byte, pool *Pool) (*Conn, error) {
	c := &Conn{raw: raw, pool: pool, in: direction{suite: s}, out: direction{suite: s}, rekeyAfter: writeRecordsPerKey}
	if err := c.in.setSecret(readSecret); err != nil {
		return nil, err
	}
	if err := c.out.setSecret(writeSecret); err != nil {
		return nil, err
	}
	return c, nil
}

// Write seals p into records and writes them. A failed write leaves the
// stream unusable: every later write returns the same error.
func (c *Conn) Write(p []byte) (int, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if err := c.writable(); err != nil || len(p) == 0 {
		return 0, err
	}
	buf := c.pool.get()
	defer c.pool.put(buf)
	written := 0
	for len(p) > 0 {
		out, err := c.sealKeyUpdate((*buf)[:0])
		if err != nil {
			return written, err
		}
		chunk := p[:min(len(p), maxPlaintext)]
		if out, err = c.seal(out, typeApplicationData, chunk); err != nil {
			return written, err
		}
		if err := c.writeRaw(out); err != nil {
			return written, err
		}
		written += len(chunk)
		p = p[len(chunk):]
	}
	return written, nil
}

// KeyUpdateDue reports whether the peer asked for a KeyUpdate that was
// not sent yet.
func (c *Conn) KeyUpdateDue() bool { return c.keyUpdateDue.Load() }

// FlushKeyUpdate sends the KeyUpdate the peer asked for, if any, without
// waiting for data to write.
func (c *Conn) FlushKeyUpdate() error {
	if !c.keyUpdateDue.Load() {
		return nil
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if err := c.writable(); err != nil {
		return err
	}
	buf := c.pool.get()
	defer c.pool.put(buf)
	out, err := c.sealKeyUpdate((*buf)[:0])
	if err != nil || len(out) == 0 {
		return err
	}
	return c.writeRaw(out)
}

// writable is nil while records may still be written (wmu held).
func (c *Conn) writable() error {
	if c.werr != nil {
		return c.werr
	}
	if c.failed.Load() != nil {
		return ErrClosed
	}
	return nil
}

func (c *Conn) writeRaw(b []byte) error {
	if _, err := c.raw.Write(b); err != nil {
		c.werr = err
		return err
	}
	return nil
}

// sealKeyUpdate appends our KeyUpdate (update_not_requested) when the
// peer asked for one or the writing key has sealed its share of records,
// and moves to the next writing key (wmu held).
func (c *Conn) sealKeyUpdate(dst []byte) ([]byte, error) {
	if !c.keyUpdateDue.Load() && c.out.seq < c.rekeyAfter {
		return dst, nil
	}
	c.keyUpdateDue.Store(false)
	dst, err := c.seal(dst, typeHandshake, []byte{handshakeKeyUpdate, 0, 0, 1, 0})
	if err != nil {
		return dst, err
	}
	if err := c.out.update(); err != nil {
		c.werr = err
		return dst, err
	}
	return dst, nil
}

// seal appends one record holding content of the given type (wmu held).
func (c *Conn) seal(dst []byte, typ byte, content []byte) ([]byte, error) {
	aead, err := c.out.cipher()
	if err != nil {
		c.werr = err
		return dst, err
	}
	start := len(dst)
	n := len(content) + 1 + aead.Overhead()
	dst = append(dst, typeApplicationData, 3, 3, byte(n>>8), byte(n))
	dst = append(dst, content...)
	dst = append(dst, typ)
	nonce := c.out.nonce()
	dst = aead.Seal(dst[:start+headerLen], nonce, dst[start+headerLen:], dst[start:start+headerLen])
	c.out.seq++
	return dst, nil
}

// writeAlert sends one alert; nothing is written after it (wmu held).
func (c *Conn) writeAlert(a Alert) error {
	level := byte(2) // fatal
	if a == AlertCloseNotify {
		level = 1
	}
	var rec [headerLen + 3 + tagLen]byte
	out, err := c.seal(rec[:0], typeAlert, []byte{level, byte(a)})
	if err == nil {
		err = c.writeRaw(out)
	}
	if c.werr == nil {
		c.werr = ErrClosed
	}
	return err
}

// CloseWrite sends close_notify: this side writes nothing more (like
// tls.Conn.CloseWrite, it does not shut the socket down).
func (c *Conn) CloseWrite() error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if err := c.writable(); err != nil {
		return err
	}
	return c.writeAlert(AlertCloseNotify)
}

// Close sends the alert the connection ends with (close_notify, or the
// reader's fatal alert; nothing after the peer's fatal alert, or while a
// write is in progress: Close then only breaks it) and closes the socket.
func (c *Conn) Close() error {
	if c.wmu.TryLock() {
		alert, send := AlertCloseNotify, c.werr == nil
		if f := c.failed.Load(); f != nil {
			alert, send = f.Alert, send && !f.Received
		}
		if send {
			_ = c.raw.SetWriteDeadline(time.Now().Add(closeAlertTimeout))
			_ = c.writeAlert(alert)
		}
		c.wmu.Unlock()
	}
	return c.raw.Close()
}

// ReleaseCiphers drops the AEAD instances while the connection is idle;
// the next record rebuilds them from the keys. The reader calls it (the
// writing side's is dropped only when no write is in progress).
func (c *Conn) ReleaseCiphers() {
	c.in.release()
	if c.wmu.TryLock() {
		c.out.release()
		c.wmu.Unlock()
	}
}

// Read reads the socket and returns decrypted application data, for
// callers that want blocking reads (the reader's side: one goroutine).
func (c *Conn) Read(p []byte) (int, error) {
	for len(c.pending) == 0 {
		if c.rerr != nil {
			return 0, c.rerr
		}
		if err := c.readRecords(); err != nil {
			return 0, err
		}
	}
	n := copy(p, c.pending)
	c.pending = c.pending[n:]
	if len(c.pending) == 0 {
		c.pending = nil
	}
	return n, nil
}

// keepRead keeps plaintext for Read (and TakeRead).
func (c *Conn) keepRead(b []byte) { c.pending = append(c.pending, b...) }

// TakeRead returns, and forgets, the plaintext that Read would return
// next without reading the socket: what came with the handshake's last
// read. A caller that feeds the socket's bytes to Feed takes it once,
// after the handshake, before its first read.
func (c *Conn) TakeRead() []byte {
	b := c.pending
	c.pending = nil
	return b
}

// readRecords reads the socket once and feeds what came to the records.
func (c *Conn) readRecords() error {
	buf := c.pool.get()
	defer c.pool.put(buf)
	n, err := c.raw.Read(*buf)
	if n > 0 {
		_ = c.Feed((*buf)[:n], c.keepRead)
		return c.FlushKeyUpdate()
	}
	if err == io.EOF && c.Pending() {
		err = io.ErrUnexpectedEOF
	}
	return err
}

// LocalAddr is the socket's local address.
func (c *Conn) LocalAddr() net.Addr { return c.raw.LocalAddr() }

// RemoteAddr is the peer's address.
func (c *Conn) RemoteAddr() net.Addr { return c.raw.RemoteAddr() }

// SetDeadline sets the socket's deadlines.
func (c *Conn) SetDeadline(t time.Time) error { return c.raw.SetDeadline(t) }

// SetReadDeadline sets the socket's read deadline.
func (c *Conn) SetReadDeadline(t time.Time) error { return c.raw.SetReadDeadline(t) }

// SetWriteDeadline sets the socket's write deadline.
func (c *Conn) SetWriteDeadline(t time.Time) error { return c.raw.SetWriteDeadline(t) }
