package c2s

import (
	"context"
	"errors"
	"net"
	"time"

	"github.com/parley-im/parley/internal/stanza"
)

// pair starts QR-code pairing for a new device on this unauthenticated
// stream (docs/protocol/devices.md): the Pairer answers and then pushes
// rotated references and the sealed credential through c.push, while this
// goroutine keeps reading the stream (the device may close it, or log in
// on it once it has its credential). The read deadline becomes the
// pairing's expiry.
func (c *conn) pair(ctx context.Context, iq *stanza.Element) error {
	switch {
	case c.srv.cfg.Pairing == nil:
		c.out = c.fr.appendElement(c.out, stanza.ErrorReply(iq, stanza.NewError(stanza.ServiceUnavailable, "device pairing is off on this server")))
		return nil
	case !c.secure:
		c.out = c.fr.appendElement(c.out, stanza.ErrorReply(iq, stanza.NewError(stanza.NotAllowed, "pairing needs TLS")))
		return nil
	case c.pairCancel != nil:
		c.out = c.fr.appendElement(c.out, stanza.ErrorReply(iq, stanza.NewError(stanza.Conflict, "a pairing already runs on this stream")))
		return nil
	}
	pctx, cancel := context.WithCancel(ctx)
	reply, expires := c.srv.cfg.Pairing.StartPairing(pctx, c.remoteIP, iq, c.push)
	if expires.IsZero() {
		cancel()
	} else {
		c.pairCancel = cancel
	}
	c.out = c.fr.appendElement(c.out, reply)
	if err := c.flushNegotiation(); err != nil || expires.IsZero() {
		return err
	}
	return c.nc.SetReadDeadline(expires)
}

// push writes one element from the pairing goroutine (writes are
// serialized by wmu; the negotiation goroutine writes whole elements too).
func (c *conn) push(el *stanza.Element) error {
	return c.write(c.fr.appendElement(nil, el))
}

// endPairing stops the pairing goroutine, if any, when negotiation ends.
func (c *conn) endPairing() {
	if c.pairCancel != nil {
		c.pairCancel()
		c.pairCancel = nil
	}
}

// pairingTimeout turns the read timeout of an expired pairing into a
// stream error the device can show.
func (c *conn) pairingTimeout(err error) error {
	var ne net.Error
	if c.pairCancel != nil && errors.As(err, &ne) && ne.Timeout() {
		return stanza.NewStreamError(stanza.StreamConnectionTimeout, "the pairing expired: start a new one")
	}
	return err
}

// touchDevice records a linked device's login (its "last seen" in the
// device list). A failure only costs that timestamp.
func (c *conn) touchDevice() {
	if c.device == "" || c.srv.cfg.Devices == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.srv.cfg.Devices.TouchDevice(ctx, c.user.String(), c.device, time.Now()); err != nil {
		c.srv.cfg.Log.Debug("recording a device login", "jid", c.user.String(), "device", c.device, "err", err)
	}
}
