package c2s

import (
	"context"
	"encoding/base64"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/parley-im/parley/internal/auth"
	"github.com/parley-im/parley/internal/devicelink"
	"github.com/parley-im/parley/internal/jid"
	"github.com/parley-im/parley/internal/router"
	"github.com/parley-im/parley/internal/stanza"
	"github.com/parley-im/parley/internal/tlsrecord"
	"github.com/parley-im/parley/internal/wire/xmlstream"
)

// negotiate runs the stream from its first header until a resource is
// bound or a session resumed (c.sess set), within the negotiation deadline.
func (c *conn) negotiate(ctx context.Context) error {
	if err := c.nc.SetReadDeadline(time.Now().Add(c.srv.cfg.NegotiationTimeout)); err != nil {
		return err
	}
	if c.directTLS {
		if err := c.handshake(); err != nil {
			return err
		}
		c.feedHandshakeRest()
	}
	headerSent := false
	var sasl *auth.Negotiation
	var bind2 *stanza.Element // XEP-0386: the <bind/> of a SASL2 <authenticate/>
	defer c.endPairing()
	for c.sess == nil {
		tok, err := c.next(func() { _ = c.flushNegotiation() })
		if err != nil {
			err = c.pairingTimeout(err)
			var se *stanza.StreamError
			if errors.As(err, &se) && !headerSent && !c.kind.framedOpen() {
				c.out = c.fr.appendOpen(c.out, c.header("")) // an error needs a stream to travel in
			}
			return err
		}
		switch tok.Kind {
		case xmlstream.StreamStart:
			if err := c.openStream(tok.Header); err != nil {
				return err
			}
			headerSent = true
		case xmlstream.StreamEnd:
			return errStreamEnd
		case xmlstream.Stanza:
			if !headerSent {
				return stanza.NewStreamError(stanza.StreamNotWellFormed, "stream not opened")
			}
			if err := c.negotiationElement(ctx, tok.Element, &sasl, &bind2, &headerSent); err != nil {
				return err
			}
		}
	}
	_ = c.flushNegotiation()
	// What only negotiation needed goes, so that a long-lived idle
	// connection does not keep it: the output buffer (the stream features
	// grew it), the TLS state kept for channel binding, the stream's id
	// and the authenticated bare JID (the session has its full JID).
	c.out, c.tlsState = nil, nil
	c.streamID, c.user = "", jid.JID{}
	return c.nc.SetReadDeadline(time.Time{})
}

func (c *conn) header(lang string) xmlstream.StreamHeader {
	if lang == "" {
		lang = "en"
	}
	if c.streamID == "" {
		c.streamID = router.NewID()
	}
	return xmlstream.StreamHeader{From: c.srv.cfg.Domain, ID: c.streamID, Version: "1.0", Lang: lang, DefaultNS: stanza.NSClient}
}

// openStream answers a stream header with ours and the stream features.
func (c *conn) openStream(h xmlstream.StreamHeader) error {
	c.streamID = router.NewID()
	c.out = c.fr.appendOpen(c.out, c.header(h.Lang))
	if h.To != "" {
		if to, err := jid.Parse(h.To); err != nil || to.String() != c.srv.cfg.Domain {
			return stanza.NewStreamError(stanza.StreamHostUnknown, "this server serves "+c.srv.cfg.Domain)
		}
	}
	if h.Version == "" || h.Version[0] != '1' {
		return stanza.NewStreamError(stanza.StreamUnsupportedVersion, "XMPP 1.0 streams only")
	}
	if !c.kind.framedOpen() && h.DefaultNS != stanza.NSClient {
		return stanza.NewStreamError(stanza.StreamInvalidNamespace, "the default namespace must be jabber:client")
	}
	c.out = c.fr.appendElement(c.out, c.features())
	return nil
}

// canAuthenticate reports whether SASL may run on this connection now.
func (c *conn) canAuthenticate() bool { return c.secure || c.srv.cfg.AllowPlaintextAuth }

// features returns the <features/> this connection is offered now. They
// depend only on whether it is authenticated, secure, framed (WebSocket or
// binary) and able to bind a channel, so each combination is built once
// per server and shared (an element shared this way is only read).
func (c *conn) features() *stanza.Element {
	key := featureKey{authenticated: !c.user.IsZero(), secure: c.secure, framed: c.kind.framedOpen()}
	var offered []string
	if !key.authenticated && c.canAuthenticate() {
		offered = c.srv.auth.Mechanisms(c.authConfig())
		key.plus = slices.ContainsFunc(offered, func(m string) bool { return strings.HasSuffix(m, "-PLUS") })
	}
	slot := &c.srv.features[key.index()]
	if f := slot.Load(); f != nil {
		return f
	}
	f := c.buildFeatures(offered, key.plus)
	slot.Store(f)
	return f
}

// featureKey is what a connection's stream features depend on.
type featureKey struct{ authenticated, secure, framed, plus bool }

// featureKinds is the number of distinct featureKeys.
const featureKinds = 16

func (k featureKey) index() int {
	return bit(k.authenticated, 0) | bit(k.secure, 1) | bit(k.framed, 2) | bit(k.plus, 3)
}

// bit is 1<<n when set, else 0.
func bit(set bool, n int) int {
	if set {
		return 1 << n
	}
	return 0
}

// buildFeatures builds the features of c's state; offered are the SASL
// mechanisms when c may authenticate now, plus whether a -PLUS one is
// among them.
func (c *conn) buildFeatures(offered []string, plus bool) *stanza.Element {
	f := stanza.NewElement(stanza.NSStream, "features")
	switch {
	case !c.user.IsZero():
		f.AddChild(stanza.NewElement(stanza.NSBind, "bind"))
		sess := stanza.NewElement(stanza.NSSession, "session")
		sess.AddChild(stanza.NewElement(stanza.NSSession, "optional"))
		f.AddChild(sess)
		f.AddChild(stanza.NewElement(stanza.NSSM, "sm"))
		f.AddChild(stanza.NewElement(stanza.NSRosterVer, "ver"))
		f.AddChild(stanza.NewElement(stanza.NSPreApproval, "sub"))
		f.Children = append(f.Children, c.srv.cfg.StreamFeatures...)
	default:
		if !c.secure && c.srv.cfg.TLS != nil && !c.kind.framedOpen() {
			st := stanza.NewElement(stanza.NSTLS, "starttls")
			if !c.srv.cfg.AllowPlaintextAuth {
				st.AddChild(stanza.NewElement(stanza.NSTLS, "required"))
			}
			f.AddChild(st)
		}
		if c.canAuthenticate() {
			mechs := stanza.NewElement(stanza.NSSASL, "mechanisms")
			for _, m := range offered {
				el := stanza.NewElement(stanza.NSSASL, "mechanism")
				el.Text = m
				mechs.AddChild(el)
			}
			f.AddChild(mechs)
			if c.offersSASL2() {
				f.AddChild(sasl2Feature(offered))
			}
			if plus { // XEP-0440: the binding type -PLUS means
				cb := stanza.NewElement(stanza.NSSASLChannelBinding, "sasl-channel-binding")
				t := stanza.NewElement(stanza.NSSASLChannelBinding, "channel-binding")
				t.SetAttr("type", "tls-exporter")
				cb.AddChild(t)
				f.AddChild(cb)
			}
			if c.srv.cfg.Registration != nil {
				f.AddChild(stanza.NewElement(stanza.NSRegisterFeature, "register"))
			}
			if c.srv.cfg.Pairing != nil && c.secure { // QR-code pairing (docs/protocol/devices.md)
				f.AddChild(stanza.NewElement(devicelink.NS, "pair"))
			}
		}
	}
	return f
}

// authConfig describes this connection to the SASL code.
func (c *conn) authConfig() auth.Config {
	cfg := auth.Config{Domain: c.srv.cfg.Domain, AllowPlain: c.canAuthenticate()}
	if c.secure && c.srv.cfg.Devices != nil {
		cfg.Devices = c.srv.cfg.Devices
	}
	if c.tlsState != nil {
		st := c.tlsState
		cfg.ChannelBinding = func() ([]byte, bool) {
			b, err := st.ExportKeyingMaterial("EXPORTER-Channel-Binding", nil, 32)
			return b, err == nil
		}
	}
	return cfg
}

// negotiationElement handles one element before a resource is bound.
func (c *conn) negotiationElement(ctx context.Context, el *stanza.Element, sasl **auth.Negotiation, bind2 **stanza.Element, headerSent *bool) error {
	switch {
	case el.Space == stanza.NSTLS && el.Name == "starttls":
		return c.startTLS(headerSent)
	case el.Space == stanza.NSSASL:
		return c.saslElement(ctx, el, sasl, headerSent)
	case el.Space == stanza.NSSASL2 && c.offersSASL2():
		return c.sasl2Element(ctx, el, sasl, bind2)
	case el.Space == stanza.NSSM && el.Name == "resume":
		return c.resume(ctx, el)
	case el.Space == stanza.NSSM:
		c.out = c.fr.appendElement(c.out, smFailed(stanza.UnexpectedRequest))
		return nil
	case el.Space == stanza.NSClient && el.Name == stanza.KindIQ:
		return c.negotiationIQ(ctx, el)
	}
	if c.user.IsZero() {
		return stanza.NewStreamError(stanza.StreamNotAuthorized, "authenticate first")
	}
	return stanza.NewStreamError(stanza.StreamNotAuthorized, "bind a resource first")
}

func (c *conn) startTLS(headerSent *bool) error {
	if c.secure || c.kind.framedOpen() || c.srv.cfg.TLS == nil {
		return stanza.NewStreamError(stanza.StreamPolicyViolation, "STARTTLS is not available here")
	}
	c.out = c.fr.appendElement(c.out, stanza.NewElement(stanza.NSTLS, "proceed"))
	if err := c.flushNegotiation(); err != nil {
		return err
	}
	if err := c.handshake(); err != nil {
		return err
	}
	c.in.restart()
	c.feedHandshakeRest()
	*headerSent = false
	return nil
}

// handshake runs the TLS handshake (crypto/tls) on the socket; TLS 1.3
// connections then run on Parley's record layer (package tlsrecord), the
// others on crypto/tls.
func (c *conn) handshake() error {
	nc, st, err := c.srv.tls.Server(c.raw)
	if err != nil {
		return err
	}
	c.nc = nc
	c.rec, _ = nc.(*tlsrecord.Conn)
	c.tlsState = &st
	c.secure = true
	return nil
}

// feedHandshakeRest feeds the decoder what the client sent right after
// its Finished, which the handshake's last read brought with it (the
// record layer opened it); the decoder must be ready for the TLS stream.
func (c *conn) feedHandshakeRest() {
	if c.rec == nil {
		return
	}
	if b := c.rec.TakeRead(); len(b) > 0 {
		c.feed(b)
	}
}

func (c *conn) saslElement(ctx context.Context, el *stanza.Element, neg **auth.Negotiation, headerSent *bool) error {
	challenge, err, answered, serr := c.saslStep(ctx, el, rfc6120SASL, neg)
	if answered || serr != nil {
		return serr
	}
	return c.saslResult(*neg, challenge, err, neg, headerSent)
}

// saslDialect is what differs between RFC 6120's SASL elements and
// XEP-0388's (SASL2): the element that starts an exchange, where its
// initial response is, and the failure element.
type saslDialect struct {
	start   string
	initial func(el *stanza.Element) string
	failure func(cond, text string) *stanza.Element
	name    string // in the stream error for an unknown element
}

var rfc6120SASL = saslDialect{
	start:   "auth",
	initial: func(el *stanza.Element) string { return el.Text },
	failure: saslFailure,
	name:    "SASL",
}

// saslStep runs one step of a SASL exchange (start, response or abort) in
// either dialect: the checks before authenticating, the decoding, and the
// mechanism's step (the first one on the deep-call workers, startAuth).
// answered reports that the step's answer was written already (a failure
// or an abort); serr is a stream error that ends the stream.
func (c *conn) saslStep(ctx context.Context, el *stanza.Element, d saslDialect, neg **auth.Negotiation) (challenge []byte, err error, answered bool, serr error) {
	if !c.user.IsZero() {
		return nil, nil, false, stanza.NewStreamError(stanza.StreamPolicyViolation, "already authenticated")
	}
	fail := func(cond, text string) { c.out = c.fr.appendElement(c.out, d.failure(cond, text)) }
	if !c.canAuthenticate() {
		fail("encryption-required", "start TLS before authenticating")
		return nil, nil, true, nil
	}
	switch el.Name {
	case d.start:
		if !c.srv.failures.Allow(c.remoteIP) {
			fail("temporary-auth-failure", "too many failed attempts; try again later")
			return nil, nil, true, nil
		}
		data, derr := decodeSASL(d.initial(el))
		if derr != nil {
			fail("incorrect-encoding", "")
			return nil, nil, true, nil
		}
		*neg, challenge, err = c.startAuth(ctx, el.Attr("mechanism"), data)
	case "response":
		if *neg == nil {
			fail("malformed-request", "no authentication in progress")
			return nil, nil, true, nil
		}
		data, derr := decodeSASL(el.Text)
		if derr != nil {
			*neg = nil
			fail("incorrect-encoding", "")
			return nil, nil, true, nil
		}
		challenge, err = (*neg).Step(ctx, data)
	case "abort":
		*neg = nil
		fail("aborted", "")
		return nil, nil, true, nil
	default:
		return nil, nil, false, stanza.NewStreamError(stanza.StreamUnsupportedStanza, "unexpected "+d.name+" element")
	}
	return challenge, err, false, nil
}

func (c *conn) saslResult(n *auth.Negotiation, challenge []byte, err error, neg **auth.Negotiation, headerSent *bool) error {
	if err != nil {
		*neg = nil
		c.out = c.fr.appendElement(c.out, saslFailure(c.authFailed(err)))
		return nil
	}
	if n == nil || !n.Done() {
		ch := stanza.NewElement(stanza.NSSASL, "challenge")
		ch.Text = base64.StdEncoding.EncodeToString(challenge)
		c.out = c.fr.appendElement(c.out, ch)
		return nil
	}
	*neg = nil
	if err := c.authenticated(n); err != nil {
		return err
	}
	success := stanza.NewElement(stanza.NSSASL, "success")
	if d := n.SuccessData(); len(d) > 0 {
		success.Text = base64.StdEncoding.EncodeToString(d)
	}
	c.out = c.fr.appendElement(c.out, success)
	c.in.restart()
	c.feedHandshakeRest()
	*headerSent = false
	return nil
}

func decodeSASL(text string) ([]byte, error) {
	if text == "" || text == "=" {
		return nil, nil
	}
	return base64.StdEncoding.DecodeString(text)
}

func saslFailure(cond, text string) *stanza.Element {
	f := stanza.NewElement(stanza.NSSASL, "failure")
	f.AddChild(stanza.NewElement(stanza.NSSASL, cond))
	if text != "" {
		t := stanza.NewElement(stanza.NSSASL, "text")
		t.Text = text
		f.AddChild(t)
	}
	return f
}

func smFailed(cond stanza.Condition) *stanza.Element {
	f := stanza.NewElement(stanza.NSSM, "failed")
	f.AddChild(stanza.NewElement(stanza.NSStanzaErr, string(cond)))
	return f
}
