package client

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"time"

	"github.com/xdg-go/scram"

	"github.com/parley-im/parley/internal/stanza"
)

const (
	mechSCRAMSHA256 = "SCRAM-SHA-256"
	mechSCRAMSHA1   = "SCRAM-SHA-1"
	mechPLAIN       = "PLAIN"
)

// AuthError is the server's refusal of our credentials or mechanism.
type AuthError struct {
	Condition string // RFC 6120 SASL condition, e.g. not-authorized
	Text      string
}

func (e *AuthError) Error() string {
	if e.Text != "" {
		return "authentication failed: " + e.Condition + ": " + e.Text
	}
	return "authentication failed: " + e.Condition
}

// StreamError is a stream-level error the server sent before closing.
type StreamError struct {
	Condition, Text string
	// ReconnectAfter is Parley's reconnect hint (a server being upgraded
	// spreads its devices' logins): the first reconnect waits this long.
	// Zero when the server gave none.
	ReconnectAfter time.Duration
}

func (e *StreamError) Error() string { return "stream error: " + e.Condition + " " + e.Text }

// wire is one connection with its codec, read synchronously during
// negotiation.
type wire struct {
	conn  net.Conn
	codec codec
	buf   []byte
	out   []byte
}

// queue adds el to what the next flush writes.
func (w *wire) queue(el *stanza.Element) { w.out = w.codec.appendStanza(w.out, el) }

// queueOpen adds a stream open (or restart) to what the next flush writes.
func (w *wire) queueOpen(domain string) {
	w.codec.reset()
	w.out = w.codec.appendOpen(w.out, domain)
}

// flush writes what was queued, in one write.
func (w *wire) flush() error {
	_, err := w.conn.Write(w.out)
	w.out = w.out[:0]
	return err
}

func (w *wire) send(el *stanza.Element) error {
	w.queue(el)
	return w.flush()
}

func (w *wire) open(domain string) error {
	w.queueOpen(domain)
	return w.flush()
}

// read returns the next stanza, reading from the connection as needed.
func (w *wire) read() (*stanza.Element, error) {
	for {
		el, ended, ok, err := w.codec.next()
		if err != nil {
			return nil, err
		}
		if ended {
			return nil, errors.New("the server closed the stream")
		}
		if ok {
			if el.Space == stanza.NSStream && el.Name == "error" {
				se := stanza.ParseStreamError(el)
				return nil, &StreamError{Condition: string(se.Condition), Text: se.Text, ReconnectAfter: reconnectHint(se.App)}
			}
			return el, nil
		}
		n, err := w.conn.Read(w.buf)
		if n > 0 {
			w.codec.feed(w.buf[:n])
			continue
		}
		if err != nil {
			return nil, err
		}
	}
}

// session is what a successful negotiation yields.
type session struct {
	w       *wire
	jid     string
	smID    string // stream-management resumption id ("" if not offered)
	resumed bool
	h       uint32 // on resume: how many of our stanzas the server had
	// initialSent: the initial stanza (Options.Available's presence) went
	// with the login's last write.
	initialSent bool
}

// negotiate dials and brings a stream to a bound (or resumed) session.
// initial, when not nil, is a stanza for the bound session that a
// pipelined login sends with its last write (session.initialSent).
func negotiate(ctx context.Context, o *Options, a account, resume *resumeState, initial *stanza.Element) (*session, error) {
	ctx, cancel := context.WithTimeout(ctx, o.DialTimeout)
	defer cancel()
	conn, err := dialAny(ctx, o)
	if err != nil {
		return nil, err
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	s, err := negotiateOn(conn, o, a, resume, initial)
	if err != nil {
		conn.Close()
		return nil, err
	}
	_ = conn.SetDeadline(time.Time{})
	return s, nil
}

// dialAny connects to o.Addr, or else to the first of o.Fallback that
// answers.
func dialAny(ctx context.Context, o *Options) (net.Conn, error) {
	d := net.Dialer{KeepAlive: o.TCPKeepAlive, LocalAddr: o.LocalAddr}
	conn, err := d.DialContext(ctx, "tcp", o.Addr)
	for _, addr := range o.Fallback {
		if err == nil || ctx.Err() != nil {
			break
		}
		conn, err = d.DialContext(ctx, "tcp", addr)
	}
	return conn, err
}

func negotiateOn(conn net.Conn, o *Options, a account, resume *resumeState, initial *stanza.Element) (*session, error) {
	w, err := secureWire(conn, o, a)
	if err != nil {
		return nil, err
	}
	if o.usesSASL2(resume) {
		return loginSASL2(w, o, a, initial)
	}
	if err := openAndAuthenticate(w, o, a); err != nil {
		return nil, err
	}
	if o.pipelines() {
		return bindPipelined(w, a, resume, initial)
	}
	features, err := openStream(w, a.domain)
	if err != nil {
		return nil, err
	}
	smOffered := features.Child(stanza.NSSM, "sm") != nil
	if resume != nil && resume.id != "" && smOffered {
		if s, ok, err := tryResume(w, resume); err != nil || ok {
			return s, err
		}
	}
	s := &session{w: w}
	if s.jid, err = bind(w, a.resource); err != nil {
		return nil, err
	}
	if smOffered {
		if s.smID, err = enableSM(w); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// bindPipelined restarts the stream and binds a resource (or resumes),
// with stream management's enable, all in one write: the third and last
// round trip of a pipelined login (Options.Pipeline).
func bindPipelined(w *wire, a account, resume *resumeState, initial *stanza.Element) (*session, error) {
	w.queueOpen(a.domain)
	resuming := resume != nil && resume.id != ""
	if resuming {
		w.queue(resumeRequest(resume))
	} else {
		queueBindAndEnable(w, a.resource)
		if initial != nil {
			w.queue(initial)
		}
	}
	if err := w.flush(); err != nil {
		return nil, err
	}
	if _, err := readFeatures(w); err != nil {
		return nil, err
	}
	if resuming {
		s, ok, err := readResumed(w, resume)
		if err != nil || ok {
			return s, err
		}
		queueBindAndEnable(w, a.resource) // the server no longer has it
		if err := w.flush(); err != nil {
			return nil, err
		}
	}
	s := &session{w: w, initialSent: initial != nil && !resuming}
	var err error
	if s.jid, err = readBound(w); err != nil {
		return nil, err
	}
	if s.smID, err = readEnabled(w); err != nil {
		return nil, err
	}
	return s, nil
}

func queueBindAndEnable(w *wire, resource string) {
	w.queue(bindRequest(resource))
	w.queue(enableElement())
}

// enableElement asks for stream management with resumption, and promises
// the server an ack before the stream closes (Close sends one), so that
// it asks for acks lazily rather than at every write
// (docs/protocol/binary.md, "Acknowledgements").
func enableElement() *stanza.Element {
	en := stanza.NewElement(stanza.NSSM, "enable").SetAttr("resume", "true")
	en.AddChild(stanza.NewElement(stanza.NSParley, "acks-before-close"))
	return en
}

func openStream(w *wire, domain string) (*stanza.Element, error) {
	if err := w.open(domain); err != nil {
		return nil, err
	}
	return readFeatures(w)
}

// readFeatures reads the stream features that answer a stream open.
func readFeatures(w *wire) (*stanza.Element, error) {
	el, err := w.read()
	if err != nil {
		return nil, err
	}
	if el.Space != stanza.NSStream || el.Name != "features" {
		return nil, fmt.Errorf("expected stream features, got <%s>", el.Name)
	}
	return el, nil
}

// startTLS asks for TLS and runs the handshake; the caller opens the
// secured stream (nothing sent before the handshake is kept).
func startTLS(w *wire, o *Options, a account, features *stanza.Element) error {
	if features.Child(stanza.NSTLS, "starttls") == nil {
		return errors.New("the server does not offer STARTTLS; refusing to authenticate in plaintext")
	}
	if err := w.send(stanza.NewElement(stanza.NSTLS, "starttls")); err != nil {
		return err
	}
	el, err := w.read()
	if err != nil {
		return err
	}
	if el.Name != "proceed" {
		return fmt.Errorf("STARTTLS refused: <%s>", el.Name)
	}
	tc := tls.Client(w.conn, o.tlsConfig(a.domain))
	if err := tc.Handshake(); err != nil {
		return fmt.Errorf("TLS handshake: %w", err)
	}
	w.conn = tc
	return nil
}

func offeredMechanisms(features *stanza.Element) []string {
	var out []string
	if m := features.Child(stanza.NSSASL, "mechanisms"); m != nil {
		for _, c := range m.Children {
			if c.Name == "mechanism" {
				out = append(out, c.Text)
			}
		}
	}
	return out
}

func chooseMechanism(o *Options, offered []string) (string, error) {
	if o.Mechanism != "" {
		if !slices.Contains(offered, o.Mechanism) {
			return "", fmt.Errorf("the server does not offer %s (it offers %v)", o.Mechanism, offered)
		}
		return o.Mechanism, nil
	}
	for _, m := range []string{mechSCRAMSHA256, mechSCRAMSHA1, mechPLAIN} {
		if slices.Contains(offered, m) {
			return m, nil
		}
	}
	return "", fmt.Errorf("no supported SASL mechanism offered (%v)", offered)
}

// openAndAuthenticate opens the stream and authenticates. When the login
// pipelines and the mechanism is known before the stream features
// (Options.Mechanism, a linked device's credential), the SASL initial
// response goes with the stream open: one round trip fewer.
func openAndAuthenticate(w *wire, o *Options, a account) error {
	w.queueOpen(a.domain)
	var conv *scram.ClientConversation
	mech := ""
	if o.pipelines() {
		mech = o.Mechanism
	}
	if mech != "" {
		var err error
		if conv, err = queueAuth(w, o, a, mech); err != nil {
			return err
		}
	}
	if err := w.flush(); err != nil {
		return err
	}
	features, err := readFeatures(w)
	if err != nil {
		return err
	}
	if mech != "" {
		if offered := offeredMechanisms(features); !slices.Contains(offered, mech) {
			return fmt.Errorf("the server does not offer %s (it offers %v)", mech, offered)
		}
	} else {
		if mech, err = chooseMechanism(o, offeredMechanisms(features)); err != nil {
			return err
		}
		if conv, err = queueAuth(w, o, a, mech); err != nil {
			return err
		}
		if err := w.flush(); err != nil {
			return err
		}
	}
	return saslExchange(w, conv)
}

// queueAuth queues the SASL <auth> of mech with its initial response;
// conv is the SCRAM conversation to go on with (nil for the others).
func queueAuth(w *wire, o *Options, a account, mech string) (*scram.ClientConversation, error) {
	conv, first, err := initialResponse(o, a, mech)
	if err != nil {
		return nil, err
	}
	auth := stanza.NewElement(stanza.NSSASL, "auth").SetAttr("mechanism", mech)
	auth.Text = base64.StdEncoding.EncodeToString([]byte(first))
	w.queue(auth)
	return conv, nil
}

// initialResponse starts mech: its initial response, and the SCRAM
// conversation to go on with (nil for the others).
func initialResponse(o *Options, a account, mech string) (*scram.ClientConversation, string, error) {
	switch mech {
	case mechDevice:
		return nil, a.local + "\x00" + o.Device.DeviceID + "\x00" + o.Device.Token, nil
	case mechPLAIN:
		return nil, "\x00" + a.local + "\x00" + o.Password, nil
	}
	hash := scram.SHA256
	if mech == mechSCRAMSHA1 {
		hash = scram.SHA1
	}
	var cl *scram.Client
	var err error
	if o.KeyCache != nil {
		cl, err = o.KeyCache.client(mech, hash, a.local, o.Password)
	} else {
		cl, err = hash.NewClient(a.local, o.Password, "")
	}
	if err != nil {
		return nil, "", err
	}
	conv := cl.NewConversation()
	first, _ := conv.Step("")
	return conv, first, nil
}

func saslExchange(w *wire, conv *scram.ClientConversation) error {
	for {
		el, err := w.read()
		if err != nil {
			return err
		}
		data, derr := base64.StdEncoding.DecodeString(el.Text)
		if derr != nil {
			return fmt.Errorf("bad base64 from the server in <%s>", el.Name)
		}
		switch el.Name {
		case "challenge":
			if conv == nil {
				return errors.New("unexpected SASL challenge")
			}
			resp, err := conv.Step(string(data))
			if err != nil {
				return fmt.Errorf("SCRAM: %w", err)
			}
			r := stanza.NewElement(stanza.NSSASL, "response")
			r.Text = base64.StdEncoding.EncodeToString([]byte(resp))
			if err := w.send(r); err != nil {
				return err
			}
		case "success":
			if conv != nil && !conv.Done() {
				if _, err := conv.Step(string(data)); err != nil || !conv.Valid() {
					return errors.New("the server's SCRAM signature is wrong: not the real server")
				}
			}
			return nil
		case "failure":
			return authFailure(el)
		default:
			return fmt.Errorf("unexpected <%s> during authentication", el.Name)
		}
	}
}

func bindRequest(resource string) *stanza.Element {
	b := stanza.NewElement(stanza.NSBind, "bind")
	if resource != "" {
		r := stanza.NewElement(stanza.NSBind, "resource")
		r.Text = resource
		b.AddChild(r)
	}
	iq := stanza.NewElement(stanza.NSClient, "iq").SetAttr("type", "set").SetAttr("id", "bind")
	return iq.AddChild(b)
}

func bind(w *wire, resource string) (string, error) {
	if err := w.send(bindRequest(resource)); err != nil {
		return "", err
	}
	return readBound(w)
}

// readBound reads the answer to a bind request: the full JID bound.
func readBound(w *wire) (string, error) {
	el, err := w.read()
	if err != nil {
		return "", err
	}
	res := el.Child(stanza.NSBind, "bind")
	if el.Type() != "result" || res == nil {
		return "", fmt.Errorf("resource binding refused: %s", el)
	}
	return res.ChildText(stanza.NSBind, "jid"), nil
}

func enableSM(w *wire) (string, error) {
	if err := w.send(enableElement()); err != nil {
		return "", err
	}
	return readEnabled(w)
}

// readEnabled reads the answer to stream management's enable: the
// resumption id.
func readEnabled(w *wire) (string, error) {
	el, err := w.read()
	if err != nil {
		return "", err
	}
	if el.Name != "enabled" {
		return "", fmt.Errorf("stream management refused: <%s>", el.Name)
	}
	return el.Attr("id"), nil
}

func resumeRequest(r *resumeState) *stanza.Element {
	return stanza.NewElement(stanza.NSSM, "resume").SetAttr("previd", r.id).SetAttr("h", fmt.Sprint(r.inbound))
}

// tryResume asks to resume; ok is false (and err nil) when the server no
// longer has the session: the caller binds a new one.
func tryResume(w *wire, r *resumeState) (*session, bool, error) {
	if err := w.send(resumeRequest(r)); err != nil {
		return nil, false, err
	}
	return readResumed(w, r)
}

// readResumed reads the answer to a resume request; ok is false (and err
// nil) when the server no longer has the session.
func readResumed(w *wire, r *resumeState) (*session, bool, error) {
	el, err := w.read()
	if err != nil {
		return nil, false, err
	}
	if el.Name != "resumed" {
		return nil, false, nil
	}
	var h uint32
	if _, err := fmt.Sscan(el.Attr("h"), &h); err != nil {
		return nil, false, fmt.Errorf("bad h in <resumed>: %q", el.Attr("h"))
	}
	return &session{w: w, jid: r.jid, smID: r.id, resumed: true, h: h}, true, nil
}

// reconnectHint reads <reconnect xmlns='urn:parley:0' after-ms='N'/> from a
// stream error (docs/protocol/binary.md, 10.1); 0 when absent or invalid.
func reconnectHint(app *stanza.Element) time.Duration {
	if app == nil || app.Space != stanza.NSParley || app.Name != "reconnect" {
		return 0
	}
	ms, err := strconv.ParseUint(app.Attr("after-ms"), 10, 32)
	if err != nil {
		return 0
	}
	return min(time.Duration(ms)*time.Millisecond, maxReconnectHint)
}

// maxReconnectHint caps a server's reconnect hint.
const maxReconnectHint = 5 * time.Minute
