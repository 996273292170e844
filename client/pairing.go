package client

import (
	"context"
	"crypto/ecdh"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/parley-im/parley/internal/devicelink"
	"github.com/parley-im/parley/internal/stanza"
)

// Pairing is a new device waiting to be linked to an account by QR code
// (docs/protocol/devices.md). Show each payload from Codes as a QR code
// (or text) until a logged-in device links it; then Wait returns the
// device credential to save and log in with (Options.Device).
type Pairing struct {
	// Codes yields QR payloads, "parley-link:1:<ref>:<key>": the first at
	// once, then a new one each time the server rotates the reference
	// (every 20 s by default). Only the latest is valid. It is closed when
	// the pairing ends.
	Codes <-chan string

	codes  chan string
	key    *ecdh.PrivateKey
	w      *wire
	done   chan struct{}
	once   sync.Once
	result *DeviceCredential // set before done is closed
	err    error             // set before done is closed
}

// StartPairing opens an unauthenticated stream to the server of domain
// (Addr, Encoding, Transport, TLS and DialTimeout of o apply; JID and
// credentials are ignored), generates an X25519 key pair, and asks for a
// pairing reference bound to its public key.
func StartPairing(ctx context.Context, domain string, o Options) (*Pairing, error) {
	o.JID, o.Password, o.Device, o.Mechanism = "pairing@"+domain, "", nil, ""
	a, err := o.normalize()
	if err != nil {
		return nil, err
	}
	key, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	w, first, err := openPairing(ctx, &o, a, key)
	if err != nil {
		return nil, err
	}
	codes := make(chan string, 8)
	p := &Pairing{Codes: codes, codes: codes, key: key, w: w, done: make(chan struct{})}
	p.code(first)
	go p.run()
	return p, nil
}

// openPairing dials, secures the stream and sends <pair/>; it returns the
// first reference.
func openPairing(ctx context.Context, o *Options, a account, key *ecdh.PrivateKey) (*wire, *stanza.Element, error) {
	dctx, cancel := context.WithTimeout(ctx, o.DialTimeout)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(dctx, "tcp", o.Addr)
	if err != nil {
		return nil, nil, err
	}
	if dl, ok := dctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	w, first, err := requestPairing(conn, o, a, key)
	if err != nil {
		conn.Close()
		return nil, nil, err
	}
	_ = w.conn.SetDeadline(time.Time{})
	return w, first, nil
}

func requestPairing(conn net.Conn, o *Options, a account, key *ecdh.PrivateKey) (*wire, *stanza.Element, error) {
	w, features, err := secureStream(conn, o, a)
	if err != nil {
		return nil, nil, err
	}
	if features.Child(devicelink.NS, "pair") == nil {
		return nil, nil, &IQError{Condition: "service-unavailable", Text: "the server does not offer device pairing"}
	}
	pair := stanza.NewElement(devicelink.NS, "pair", "key", devicelink.EncodeKey(key.PublicKey().Bytes()))
	iq := stanza.NewElement(stanza.NSClient, "iq").SetAttr("type", "set").SetAttr("id", "pair1")
	if err := w.send(iq.AddChild(pair)); err != nil {
		return nil, nil, err
	}
	res, err := w.read()
	if err != nil {
		return nil, nil, err
	}
	if res.Type() != "result" {
		return nil, nil, iqError(res)
	}
	first := res.Child(devicelink.NS, "pair")
	if first == nil || !devicelink.ValidRef(first.Attr("ref")) {
		return nil, nil, errors.New("client: the server's pairing answer has no reference")
	}
	return w, first, nil
}

// code publishes the payload of a <pair ref=.../> from the server.
func (p *Pairing) code(el *stanza.Element) {
	payload := devicelink.Payload{Ref: el.Attr("ref"), Key: p.key.PublicKey().Bytes()}.String()
	select {
	case p.codes <- payload:
	default: // nobody reads: the older codes are stale anyway
	}
}

// run reads the pairing stream until the credential arrives or it ends.
func (p *Pairing) run() {
	defer close(p.codes)
	defer p.w.conn.Close()
	for {
		el, err := p.w.read()
		if err != nil {
			p.finish(nil, pairingError(err))
			return
		}
		switch {
		case el.Space == devicelink.NS && el.Name == "pair" && devicelink.ValidRef(el.Attr("ref")):
			p.code(el)
		case el.Space == devicelink.NS && el.Name == "paired":
			p.finish(p.open(el))
			p.w.out = p.w.codec.appendClose(p.w.out[:0])
			_ = p.w.conn.SetWriteDeadline(time.Now().Add(time.Second))
			_, _ = p.w.conn.Write(p.w.out)
			return
		}
	}
}

// open decrypts the credential in <paired/>.
func (p *Pairing) open(el *stanza.Element) (*DeviceCredential, error) {
	eph, err1 := devicelink.DecodeKey(el.Attr("eph"))
	sealed, err2 := base64URL(el.Attr("credential"))
	jid, id := el.Attr("jid"), el.Attr("id")
	if err1 != nil || err2 != nil || jid == "" || id == "" {
		return nil, errors.New("client: malformed <paired/> from the server")
	}
	token, err := devicelink.Open(p.key, eph, sealed, devicelink.AAD(jid, id))
	if err != nil {
		return nil, err
	}
	return &DeviceCredential{JID: jid, DeviceID: id, Token: string(token)}, nil
}

func base64URL(s string) ([]byte, error) {
	if s == "" {
		return nil, errors.New("empty")
	}
	return devicelink.DecodeBytes(s)
}

// ErrPairingExpired is Wait's error when no device linked this one before
// the server ended the pairing (pairing_timeout): start a new pairing.
var ErrPairingExpired = errors.New("client: the pairing expired before a device linked it")

// pairingError names the server's end of a pairing.
func pairingError(err error) error {
	var se *StreamError
	if errors.As(err, &se) && se.Condition == "connection-timeout" {
		return fmt.Errorf("%w: %w", ErrPairingExpired, err)
	}
	return err
}

func (p *Pairing) finish(c *DeviceCredential, err error) {
	p.once.Do(func() {
		p.result, p.err = c, err
		close(p.done)
	})
}

// Wait returns the device credential once a logged-in device linked this
// one, or an error (the pairing expired, the connection broke, ctx ended).
func (p *Pairing) Wait(ctx context.Context) (*DeviceCredential, error) {
	select {
	case <-p.done:
		return p.result, p.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Close abandons the pairing.
func (p *Pairing) Close() error {
	p.finish(nil, errors.New("client: pairing closed"))
	return p.w.conn.Close()
}
