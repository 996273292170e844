package tlsrecord

import (
	"io"
	"math"
	"strconv"
)

// Record sizes (RFC 8446, 5.1 and 5.2) and content types.
const (
	headerLen     = 5
	maxPlaintext  = 1 << 14
	maxCiphertext = maxPlaintext + 256
	maxRecord     = headerLen + maxCiphertext

	typeAlert           = 21
	typeHandshake       = 22
	typeApplicationData = 23

	handshakeKeyUpdate = 24
	keyUpdateLen       = 5 // msg_type, a 3-byte length (1), request_update
)

// Feed opens the records in b, bytes just read from the socket (Feed may
// overwrite b), and calls deliver with the content of each application
// data record, in order; deliver must not keep the slice. An incomplete
// record at the end of b is kept (in a buffer from the pool) for the next
// Feed. The first failure stops everything after it and is returned by
// this and every later Feed and by Err: io.EOF after the peer's
// close_notify, else an *AlertError. Nothing that failed authentication
// is delivered.
func (c *Conn) Feed(b []byte, deliver func([]byte)) error {
	for len(b) > 0 && c.rerr == nil {
		if c.partial == nil {
			if n, ok := c.wholeRecord(b); ok {
				c.open(b[:n], deliver)
				b = b[n:]
				continue
			}
			if c.rerr != nil {
				break
			}
			c.partial = c.pool.get()
		}
		b = c.collect(b, deliver)
	}
	if e, ok := c.rerr.(*AlertError); ok {
		c.failed.CompareAndSwap(nil, e)
	}
	return c.rerr
}

// Err is the failure Feed returned, nil while the connection is sound.
func (c *Conn) Err() error { return c.rerr }

// Pending reports whether part of a record was received and the rest is
// still to come (the connection holds a record buffer until it is).
func (c *Conn) Pending() bool { return c.partial != nil }

// wholeRecord returns the length of the record at the start of b and
// whether b holds all of it; a header that cannot start a valid record
// sets the failure.
func (c *Conn) wholeRecord(b []byte) (int, bool) {
	if len(b) < headerLen {
		return 0, false
	}
	n, err := recordLength(b[:headerLen])
	if err != nil {
		c.rerr = err
		return 0, false
	}
	return headerLen + n, len(b) >= headerLen+n
}

// collect adds the start of b to the incomplete record, opens it when it
// is complete and returns what is left of b.
func (c *Conn) collect(b []byte, deliver func([]byte)) []byte {
	buf := *c.partial
	if c.have < headerLen {
		k := copy(buf[c.have:headerLen], b)
		c.have += k
		b = b[k:]
		if c.have < headerLen {
			return b
		}
		if _, err := recordLength(buf[:headerLen]); err != nil {
			c.rerr = err
			c.dropPartial()
			return nil
		}
	}
	want := headerLen + (int(buf[3])<<8 | int(buf[4]))
	k := copy(buf[c.have:want], b)
	c.have += k
	b = b[k:]
	if c.have == want {
		c.open(buf[:want], deliver)
		c.dropPartial()
	}
	return b
}

func (c *Conn) dropPartial() {
	if c.partial != nil {
		c.pool.put(c.partial)
		c.partial, c.have = nil, 0
	}
}

// recordLength checks a record header and returns the length of what
// follows it. After the handshake every record is protected: its outer
// type is application_data (RFC 8446, 5.2); legacy_record_version is
// ignored.
func recordLength(h []byte) (int, error) {
	if h[0] != typeApplicationData {
		return 0, fail(AlertUnexpectedMessage, "unprotected record of type "+strconv.Itoa(int(h[0]))+" after the handshake")
	}
	n := int(h[3])<<8 | int(h[4])
	if n > maxCiphertext {
		return 0, fail(AlertRecordOverflow, "record longer than 2^14+256 bytes")
	}
	return n, nil
}

// open authenticates and decrypts one complete record in place and acts
// on its content.
func (c *Conn) open(rec []byte, deliver func([]byte)) {
	content, typ, err := c.unprotect(rec)
	if err != nil {
		c.rerr = err
		return
	}
	if c.hsN > 0 && typ != typeHandshake {
		c.rerr = fail(AlertUnexpectedMessage, "record interleaved with a fragmented handshake message")
		return
	}
	switch typ {
	case typeApplicationData:
		if len(content) > 0 {
			deliver(content)
		}
	case typeAlert:
		c.rerr = receivedAlert(content)
	case typeHandshake:
		c.rerr = c.handshakeMessage(content)
	default:
		c.rerr = fail(AlertUnexpectedMessage, "record of content type "+strconv.Itoa(int(typ))+" after the handshake")
	}
}

// unprotect opens rec (header and encrypted record) with the reading key
// and returns the content and its type (RFC 8446, 5.2 and 5.4).
func (c *Conn) unprotect(rec []byte) ([]byte, byte, error) {
	if c.in.seq == math.MaxUint64 {
		return nil, 0, fail(AlertInternalError, "reading sequence number exhausted without a KeyUpdate")
	}
	aead, err := c.in.cipher()
	if err != nil {
		return nil, 0, fail(AlertInternalError, "reading cipher: "+err.Error())
	}
	nonce := c.in.nonce()
	if len(rec) < headerLen+tagLen {
		return nil, 0, fail(AlertBadRecordMAC, "record shorter than its tag")
	}
	plain, err := aead.Open(rec[headerLen:headerLen], nonce, rec[headerLen:], rec[:headerLen])
	if err != nil {
		return nil, 0, fail(AlertBadRecordMAC, "record failed authentication")
	}
	c.in.seq++
	if len(plain) > maxPlaintext+1 {
		return nil, 0, fail(AlertRecordOverflow, "record content longer than 2^14 bytes")
	}
	i := len(plain) - 1
	for i >= 0 && plain[i] == 0 { // padding
		i--
	}
	if i < 0 {
		return nil, 0, fail(AlertUnexpectedMessage, "record without a content type")
	}
	return plain[:i], plain[i], nil
}

// receivedAlert: close_notify ends the stream (io.EOF), user_canceled is
// a warning (close_notify follows), any other alert is fatal (RFC 8446, 6).
func receivedAlert(content []byte) error {
	if len(content) != 2 {
		return fail(AlertDecodeError, "alert record of "+strconv.Itoa(len(content))+" bytes")
	}
	switch a := Alert(content[1]); a {
	case AlertCloseNotify:
		return io.EOF
	case AlertUserCanceled:
		return nil
	default:
		return &AlertError{Alert: a, Received: true}
	}
}

// handshakeMessage takes the content of a handshake record. After the
// handshake a client may send only KeyUpdate (this server requests no
// post-handshake authentication); it may come in fragments, and must end
// its record (it changes the key, RFC 8446, 5.1).
func (c *Conn) handshakeMessage(content []byte) error {
	if len(content) == 0 {
		return fail(AlertUnexpectedMessage, "empty handshake record")
	}
	for i, b := range content {
		c.hs[c.hsN] = b
		c.hsN++
		switch c.hsN {
		case 1:
			if b != handshakeKeyUpdate {
				return fail(AlertUnexpectedMessage, "handshake message of type "+strconv.Itoa(int(b))+" after the handshake")
			}
		case 4:
			if c.hs[1] != 0 || c.hs[2] != 0 || c.hs[3] != 1 {
				return fail(AlertDecodeError, "KeyUpdate of the wrong length")
			}
		case keyUpdateLen:
			if i != len(content)-1 {
				return fail(AlertUnexpectedMessage, "KeyUpdate not at the end of its record")
			}
		}
	}
	if c.hsN < keyUpdateLen {
		return nil
	}
	c.hsN = 0
	return c.keyUpdate(c.hs[4])
}

// keyUpdate applies the peer's KeyUpdate: new reading keys, and ours
// updated before our next record when the peer requests it (RFC 8446,
// 4.6.3).
func (c *Conn) keyUpdate(request byte) error {
	if request > 1 {
		return fail(AlertIllegalParameter, "KeyUpdate with request_update "+strconv.Itoa(int(request)))
	}
	if err := c.in.update(); err != nil {
		return fail(AlertInternalError, "KeyUpdate: "+err.Error())
	}
	if request == 1 {
		c.keyUpdateDue.Store(true)
	}
	return nil
}

// ShortestAlertRecord is the length on the wire of an alert record (two
// bytes of content, with the header, content type and tag), the shortest
// record that can mean more than a one-byte keep-alive's (23 bytes).
const ShortestAlertRecord = headerLen + 2 + 1 + tagLen
