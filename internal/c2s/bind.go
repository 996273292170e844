package c2s

import (
	"context"
	"strconv"

	"github.com/parley-im/parley/internal/devicelink"
	"github.com/parley-im/parley/internal/router"
	"github.com/parley-im/parley/internal/stanza"
)

// negotiationIQ handles the iq stanzas allowed before a session exists:
// in-band registration before authentication, resource binding after.
func (c *conn) negotiationIQ(ctx context.Context, iq *stanza.Element) error {
	if c.user.IsZero() {
		if iq.Child(devicelink.NS, "pair") != nil {
			return c.pair(ctx, iq)
		}
		if iq.ChildNS(stanza.NSRegister) != nil {
			if reply := c.register(ctx, iq); reply != nil {
				c.out = c.fr.appendElement(c.out, reply)
			}
			return nil
		}
		return stanza.NewStreamError(stanza.StreamNotAuthorized, "authenticate first")
	}
	bind := iq.Child(stanza.NSBind, "bind")
	if bind == nil || iq.Type() != "set" {
		c.out = c.fr.appendElement(c.out, stanza.ErrorReply(iq,
			stanza.NewError(stanza.NotAllowed, "bind a resource first")))
		return nil
	}
	return c.bind(ctx, iq, bind.ChildText(stanza.NSBind, "resource"))
}

// register answers an in-band registration request (XEP-0077) sent before
// authentication: service-unavailable when registration is off, not-allowed
// before TLS, otherwise the Registrar's answer.
func (c *conn) register(ctx context.Context, iq *stanza.Element) *stanza.Element {
	switch {
	case c.srv.cfg.Registration == nil:
		return stanza.ErrorReply(iq, stanza.NewError(stanza.ServiceUnavailable, "in-band registration is off on this server"))
	case !c.canAuthenticate():
		return stanza.ErrorReply(iq, stanza.NewError(stanza.NotAllowed, "start TLS before registering"))
	}
	return c.srv.cfg.Registration.Register(ctx, c.remoteIP, iq)
}

// bind binds a resource (the client's or a generated one) and starts the session.
func (c *conn) bind(ctx context.Context, iq *stanza.Element, resource string) error {
	switch {
	case c.device != "": // a linked device's resource is its id
		resource = c.device
	case resource == "" || devicelink.IsDeviceID(resource):
		// Device ids are reserved to linked devices: a password login
		// never takes over (conflict) a linked device's full JID.
		resource = "parley-" + router.NewID()[:10]
	}
	full, err := c.user.WithResource(resource)
	if err != nil {
		c.out = c.fr.appendElement(c.out, stanza.ErrorReply(iq, stanza.NewError(stanza.BadRequest, "invalid resource")))
		return nil
	}
	res := stanza.NewIQ("result", iq.ID())
	b := stanza.NewElement(stanza.NSBind, "bind")
	j := stanza.NewElement(stanza.NSBind, "jid")
	j.Text = full.String()
	res.AddChild(b.AddChild(j))
	c.out = c.fr.appendElement(c.out, res)
	c.deferNegotiationOutput() // the session's first write carries it
	c.sess = c.srv.cfg.Binder.Bind(ctx, full, &c.tr)
	c.flags.Or(connFlagBound)
	c.srv.cfg.Log.Debug("session bound", "jid", full.String(), "remote", c.remoteIP, "transport", c.kind)
	return nil
}

// resume takes over a detached session (XEP-0198).
func (c *conn) resume(ctx context.Context, el *stanza.Element) error {
	if c.user.IsZero() {
		return stanza.NewStreamError(stanza.StreamNotAuthorized, "authenticate first")
	}
	h, err := strconv.ParseUint(el.Attr("h"), 10, 32)
	if err != nil {
		c.out = c.fr.appendElement(c.out, smFailed(stanza.BadRequest))
		return nil
	}
	if err := c.flushNegotiation(); err != nil {
		return err
	}
	s, ok := c.srv.cfg.Binder.Resume(ctx, c.user, el.Attr("previd"), uint32(h), &c.tr)
	if !ok {
		c.out = c.fr.appendElement(c.out, smFailed(stanza.ItemNotFound))
		return nil
	}
	c.sess = s
	c.flags.Or(connFlagBound)
	c.srv.cfg.Log.Debug("session resumed", "jid", s.JID().String(), "remote", c.remoteIP, "transport", c.kind)
	return nil
}
