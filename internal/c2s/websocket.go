package c2s

import (
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// WebSocket framing (RFC 6455), the small part XMPP needs: text messages,
// fragmentation, ping/pong and close. Frames from clients are masked.

const (
	wsOpContinuation = 0x0
	wsOpText         = 0x1
	wsOpBinary       = 0x2
	wsOpClose        = 0x8
	wsOpPing         = 0x9
	wsOpPong         = 0xA

	wsMaxHeader = 10 // server frames are not masked: at most 2+8 bytes
	wsGUID      = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
)

var errWSProtocol = errors.New("c2s: websocket protocol error")

// wsFinishFrame turns dst[start:start+wsMaxHeader] (reserved space) and the
// payload after it into one frame, moving the payload if the header is
// shorter than the reserved space.
func wsFinishFrame(dst []byte, start int, op byte) []byte {
	payload := len(dst) - start - wsMaxHeader
	var hdr [wsMaxHeader]byte
	hdr[0] = 0x80 | op
	n := 2
	switch {
	case payload < 126:
		hdr[1] = byte(payload)
	case payload <= 0xFFFF:
		hdr[1] = 126
		binary.BigEndian.PutUint16(hdr[2:], uint16(payload))
		n = 4
	default:
		hdr[1] = 127
		binary.BigEndian.PutUint64(hdr[2:], uint64(payload))
		n = 10
	}
	copy(dst[start:], hdr[:n])
	if n < wsMaxHeader {
		copy(dst[start+n:], dst[start+wsMaxHeader:])
		dst = dst[:len(dst)-(wsMaxHeader-n)]
	}
	return dst
}

func wsAppendFrame(dst []byte, op byte, payload []byte) []byte {
	start := len(dst)
	dst = append(dst, make([]byte, wsMaxHeader)...)
	dst = append(dst, payload...)
	return wsFinishFrame(dst, start, op)
}

// wsMessage is one complete message read from a client.
type wsMessage struct {
	op      byte
	payload []byte
}

// wsReader is a push decoder of client frames that reassembles fragmented
// messages. maxMessage bounds a message's size.
type wsReader struct {
	buf        []byte
	msg        []byte
	msgOp      byte
	inMessage  bool
	maxMessage int
}

// feed appends raw bytes.
func (r *wsReader) feed(b []byte) { r.buf = append(r.buf, b...) }

// next returns the next complete message; ok is false when more bytes are
// needed.
func (r *wsReader) next() (m wsMessage, ok bool, err error) {
	for {
		if len(r.buf) < 2 {
			return m, false, nil
		}
		fin := r.buf[0]&0x80 != 0
		op := r.buf[0] & 0x0F
		if r.buf[0]&0x70 != 0 || r.buf[1]&0x80 == 0 {
			return m, false, errWSProtocol // reserved bits, or an unmasked client frame
		}
		length := uint64(r.buf[1] & 0x7F)
		pos := 2
		switch length {
		case 126:
			if len(r.buf) < 4 {
				return m, false, nil
			}
			length = uint64(binary.BigEndian.Uint16(r.buf[2:]))
			pos = 4
		case 127:
			if len(r.buf) < 10 {
				return m, false, nil
			}
			length = binary.BigEndian.Uint64(r.buf[2:])
			pos = 10
		}
		if length > uint64(r.maxMessage) || len(r.msg)+int(length) > r.maxMessage {
			return m, false, errWSTooBig
		}
		if len(r.buf) < pos+4+int(length) {
			return m, false, nil
		}
		mask := r.buf[pos : pos+4]
		payload := r.buf[pos+4 : pos+4+int(length)]
		for i := range payload {
			payload[i] ^= mask[i&3]
		}
		consumed := pos + 4 + int(length)
		m, done, err := r.frame(fin, op, payload)
		r.buf = r.buf[consumed:]
		if len(r.buf) == 0 {
			r.buf = nil
		}
		if err != nil || done {
			return m, done, err
		}
	}
}

var errWSTooBig = errors.New("c2s: websocket message too large")

func (r *wsReader) frame(fin bool, op byte, payload []byte) (wsMessage, bool, error) {
	if op >= 0x8 { // control frames: never fragmented, may come mid-message
		if !fin || len(payload) > 125 {
			return wsMessage{}, false, errWSProtocol
		}
		return wsMessage{op: op, payload: append([]byte(nil), payload...)}, true, nil
	}
	if op == wsOpContinuation {
		if !r.inMessage {
			return wsMessage{}, false, errWSProtocol
		}
	} else {
		if r.inMessage {
			return wsMessage{}, false, errWSProtocol
		}
		r.msgOp = op
		r.inMessage = true
	}
	r.msg = append(r.msg, payload...)
	if !fin {
		return wsMessage{}, false, nil
	}
	m := wsMessage{op: r.msgOp, payload: r.msg}
	r.msg = nil
	r.inMessage = false
	return m, true, nil
}

// wsAccept checks an upgrade request for the "xmpp" subprotocol (RFC 7395)
// and returns the Sec-WebSocket-Accept value.
func wsAccept(r *http.Request, subprotocol string) (string, error) {
	if !headerHas(r.Header, "Connection", "upgrade") || !headerHas(r.Header, "Upgrade", "websocket") {
		return "", errors.New("not a WebSocket upgrade request")
	}
	if r.Header.Get("Sec-WebSocket-Version") != "13" {
		return "", errors.New("unsupported WebSocket version (13 required)")
	}
	if !headerHas(r.Header, "Sec-WebSocket-Protocol", subprotocol) {
		return "", fmt.Errorf("the %q WebSocket subprotocol is required", subprotocol)
	}
	key := r.Header.Get("Sec-WebSocket-Key")
	if key == "" {
		return "", errors.New("missing Sec-WebSocket-Key")
	}
	sum := sha1.Sum([]byte(key + wsGUID))
	return base64.StdEncoding.EncodeToString(sum[:]), nil
}

func headerHas(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		for _, part := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(part), token) {
				return true
			}
		}
	}
	return false
}
