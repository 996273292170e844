package c2s

import (
	"context"
	"encoding/base64"
	"errors"

	"github.com/parley-im/parley/internal/auth"
	"github.com/parley-im/parley/internal/devicelink"
	"github.com/parley-im/parley/internal/jid"
	"github.com/parley-im/parley/internal/router"
	"github.com/parley-im/parley/internal/stanza"
)

// Extensible SASL (XEP-0388) with Bind 2 (XEP-0386): authentication,
// resource binding and stream management's enable in one exchange, with
// no stream restart. A client that sends its <authenticate/> with the
// stream open logs in with SCRAM in two round trips (RFC 6120's SASL, a
// restart, bind and enable take six, or three pipelined).

// offersSASL2 reports whether this connection offers SASL2: XML streams
// over TCP and TLS. Not WebSocket (not done yet) nor Parley's binary
// protocol, which pipelines its login already.
func (c *conn) offersSASL2() bool { return !c.kind.framedOpen() }

// sasl2Feature is the <authentication/> stream feature: the mechanisms and
// what may go inline (Bind 2, with stream management's enable inside it).
func sasl2Feature(mechanisms []string) *stanza.Element {
	a := stanza.NewElement(stanza.NSSASL2, "authentication")
	for _, m := range mechanisms {
		el := stanza.NewElement(stanza.NSSASL2, "mechanism")
		el.Text = m
		a.AddChild(el)
	}
	bindInline := stanza.NewElement(stanza.NSBind2, "inline")
	bindInline.AddChild(stanza.NewElement(stanza.NSBind2, "feature", "var", stanza.NSSM))
	bind := stanza.NewElement(stanza.NSBind2, "bind")
	bind.AddChild(bindInline)
	inline := stanza.NewElement(stanza.NSSASL2, "inline")
	inline.AddChild(bind)
	a.AddChild(inline)
	return a
}

// sasl2Element handles <authenticate/>, <response/> and <abort/> of XEP-0388.
func (c *conn) sasl2Element(ctx context.Context, el *stanza.Element, neg **auth.Negotiation, bind2 **stanza.Element) error {
	challenge, err, answered, serr := c.saslStep(ctx, el, xep0388SASL, neg)
	if answered || serr != nil {
		return serr
	}
	if el.Name == xep0388SASL.start {
		*bind2 = el.Child(stanza.NSBind2, "bind")
	}
	return c.sasl2Result(ctx, challenge, err, neg, bind2)
}

var xep0388SASL = saslDialect{
	start:   "authenticate",
	initial: func(el *stanza.Element) string { return el.ChildText(stanza.NSSASL2, "initial-response") },
	failure: sasl2Failure,
	name:    "SASL2",
}

// sasl2Result answers a step of the exchange: a failure, a challenge, or
// the success, with the bound session's full JID when the client asked for
// Bind 2 (the session then exists: negotiation is over, with no restart).
func (c *conn) sasl2Result(ctx context.Context, challenge []byte, err error, neg **auth.Negotiation, bind2 **stanza.Element) error {
	n := *neg
	if err != nil {
		*neg, *bind2 = nil, nil
		c.out = c.fr.appendElement(c.out, sasl2Failure(c.authFailed(err)))
		return nil
	}
	if n == nil || !n.Done() {
		ch := stanza.NewElement(stanza.NSSASL2, "challenge")
		ch.Text = base64.StdEncoding.EncodeToString(challenge)
		c.out = c.fr.appendElement(c.out, ch)
		return nil
	}
	bind := *bind2
	*neg, *bind2 = nil, nil
	if err := c.authenticated(n); err != nil {
		return err
	}
	success := stanza.NewElement(stanza.NSSASL2, "success")
	if d := n.SuccessData(); len(d) > 0 {
		ad := stanza.NewElement(stanza.NSSASL2, "additional-data")
		ad.Text = base64.StdEncoding.EncodeToString(d)
		success.AddChild(ad)
	}
	id := stanza.NewElement(stanza.NSSASL2, "authorization-identifier")
	success.AddChild(id)
	if bind == nil {
		// No inline bind: the stream goes on without a restart, with the
		// features of an authenticated stream (RFC 6120 bind, resume).
		id.Text = c.user.String()
		c.out = c.fr.appendElement(c.out, success)
		c.out = c.fr.appendElement(c.out, c.features())
		return nil
	}
	return c.bind2(ctx, bind, success, id)
}

// bind2 binds a resource as XEP-0386 asks (the client's tag and a random
// part) and completes the success with it: <bound/>, holding <enabled/>
// when stream management was enabled inline. The success is the first
// thing the session writes.
func (c *conn) bind2(ctx context.Context, req, success, id *stanza.Element) error {
	full, err := c.user.WithResource(c.bind2Resource(req.ChildText(stanza.NSBind2, "tag")))
	if err != nil { // a tag that is no valid resource
		if full, err = c.user.WithResource(c.bind2Resource("")); err != nil {
			return stanza.NewStreamError(stanza.StreamInternalError, "")
		}
	}
	id.Text = full.String()
	bound := stanza.NewElement(stanza.NSBind2, "bound")
	success.AddChild(bound)
	c.sess = c.srv.cfg.Binder.Bind(ctx, full, &c.tr)
	c.sess.BindInline(req.Child(stanza.NSSM, "enable"), func(enabled *stanza.Element) {
		if enabled != nil {
			bound.AddChild(enabled)
		}
		c.out = c.fr.appendElement(c.out, success)
		c.deferNegotiationOutput() // the session's first write carries it
	})
	c.flags.Or(connFlagBound)
	c.srv.cfg.Log.Debug("session bound (bind 2)", "jid", full.String(), "remote", c.remoteIP, "transport", c.kind)
	return nil
}

// bind2Resource is the resource of a Bind 2 login: the client's tag (an
// identifier of its software) and a random part, or the device id of a
// linked device.
func (c *conn) bind2Resource(tag string) string {
	if c.device != "" {
		return c.device
	}
	if tag == "" || len(tag) > 64 || devicelink.IsDeviceID(tag) {
		tag = "parley"
	}
	return tag + "-" + router.NewID()[:10]
}

func sasl2Failure(cond, text string) *stanza.Element {
	f := stanza.NewElement(stanza.NSSASL2, "failure")
	f.AddChild(stanza.NewElement(stanza.NSSASL, cond))
	if text != "" {
		t := stanza.NewElement(stanza.NSSASL2, "text")
		t.Text = text
		f.AddChild(t)
	}
	return f
}

// authFailed counts a failed authentication and returns its SASL condition
// and text.
func (c *conn) authFailed(err error) (cond, text string) {
	var f *auth.Failure
	cond = "not-authorized"
	if errors.As(err, &f) {
		cond, text = f.Condition, f.Text
	}
	if cond == "not-authorized" {
		c.srv.failures.Fail(c.remoteIP)
	}
	c.srv.metrics.authFailure()
	return cond, text
}

// authenticated records the user a finished negotiation authenticated.
func (c *conn) authenticated(n *auth.Negotiation) error {
	user, err := jid.Parse(n.User())
	if err != nil {
		return stanza.NewStreamError(stanza.StreamInternalError, "")
	}
	c.user = user.Bare()
	c.device = n.Device()
	c.touchDevice()
	c.srv.failures.Succeed(c.remoteIP)
	c.srv.metrics.authSuccess()
	return nil
}
