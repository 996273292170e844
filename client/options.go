package client

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"
)

// Transport says how the connection is secured.
type Transport int

const (
	// STARTTLS connects in plaintext and upgrades with STARTTLS before
	// authenticating (XMPP's port 5222). The default.
	STARTTLS Transport = iota
	// DirectTLS speaks TLS from the first byte (XEP-0368, port 5223).
	DirectTLS
	// Plaintext never uses TLS: only for loopback benchmarks against a
	// server that allows it (Parley's --allow-plaintext-auth).
	Plaintext
)

// Encoding is the wire format of the stream.
type Encoding int

const (
	// Binary is Parley's compact binary encoding of the same stanzas
	// (docs/protocol/binary.md), on Parley's native port 5224, TLS from
	// the first byte. The default.
	Binary Encoding = iota
	// XML is standard XMPP: works with any XMPP server (port 5222, with
	// the Transport chosen).
	XML
)

// Options configure a Client.
type Options struct {
	// JID is the account, "alice@example.org", optionally with a resource
	// ("alice@example.org/phone"); without one the server picks it.
	JID string
	// Password of the account. Never logged.
	Password string
	// Device logs in as a linked device with its credential (from
	// StartPairing) instead of the password; JID may then be empty.
	Device *DeviceCredential
	// Addr is the server's host:port. Default: the JID's domain, port 5224
	// for Binary; 5222 for XML (5223 with DirectTLS).
	Addr string
	// Fallback lists other addresses of the same service (the other nodes
	// of a cluster), dialed in turn when Addr cannot be reached; a
	// reconnect tries Addr first again. A session held by a node that
	// died is not resumable elsewhere: the client logs in afresh there and
	// gets what it had not acknowledged from the offline queue.
	Fallback []string
	Encoding Encoding
	// Transport secures the connection. With Binary, STARTTLS (the zero
	// value) means TLS from the first byte: there is no STARTTLS there.
	Transport Transport
	// TLS configures certificate checks. Nil verifies the server's
	// certificate for the JID's domain against the system roots.
	TLS *tls.Config
	// KeyCache, when set, keeps the SCRAM keys derived from Password for
	// the next login of the same account (see KeyCache).
	KeyCache *KeyCache
	// Mechanism forces a SASL mechanism ("SCRAM-SHA-256", "SCRAM-SHA-1",
	// "PLAIN"). Empty picks the strongest the server offers.
	Mechanism string
	// Pipeline sends the steps of a login that Parley's servers answer in
	// order without waiting for each answer: after SASL success the stream
	// restart, the resource binding (or resumption) and stream
	// management's enable go in one write. With Mechanism set (or a linked
	// device's credential) the SASL initial response also goes with the
	// stream open, so that a login takes three round trips instead of six.
	// It assumes the server offers stream management after authentication,
	// as Parley's does; the binary encoding (Parley's own) always pipelines.
	Pipeline bool
	// SASL2 logs in with Extensible SASL (XEP-0388) and Bind 2 (XEP-0386):
	// authentication, resource binding and stream management's enable in
	// one exchange, with no stream restart (Parley's --c2s and --c2s-tls, Prosody
	// and ejabberd offer them). The server chooses the resource: the JID's
	// resource (or "parley") is sent as Bind 2's tag, to which it adds a
	// random part. With Pipeline and Mechanism (or a linked device's
	// credential) the <authenticate/> goes with the stream open, so that a
	// SCRAM login takes two round trips; the server must then offer SASL2.
	// A reconnection that resumes a session uses RFC 6120's SASL and
	// XEP-0198's resume. Not used with the binary encoding, whose login is
	// pipelined already.
	SASL2 bool
	// Available makes the device available from its login, as
	// SetPresence("", "") right after Dial would: when the login
	// pipelines (Pipeline, or SASL2 with Pipeline), the initial presence
	// goes with the login's last write (one write and one wake-up of the
	// server fewer), else right after the login.
	Available bool
	// Reconnect redials after a lost connection (exponential backoff with
	// jitter between MinBackoff and MaxBackoff) and resumes the session.
	Reconnect              bool
	MinBackoff, MaxBackoff time.Duration
	// DialTimeout bounds each connection attempt, negotiation included.
	DialTimeout time.Duration
	// TCPKeepAlive is the connection's TCP keep-alive period
	// (net.Dialer.KeepAlive): zero for Go's default (15 s), negative to
	// leave TCP keep-alive off, for an application that sends its own
	// keep-alives (KeepAlive) or a load generator on loopback (four
	// setsockopt calls fewer per connection).
	TCPKeepAlive time.Duration
	// LocalAddr is the local address to dial from (net.Dialer.LocalAddr);
	// nil lets the kernel choose. A load generator holding many
	// connections to one server spreads them over loopback addresses: from
	// one address, Linux's connect() takes about 1 ms instead of 20 µs
	// once some 14,000 are open (it tries the even half of the ephemeral
	// ports first, and scans it all when that half is used up).
	LocalAddr net.Addr
	// Dedupe drops copies of messages already received (by stanza-id, and
	// by origin-id from the same sender) before they become events. The
	// server delivers at least once: a stored message the client had not
	// acknowledged comes again after a reconnect, and one re-sent after a
	// lost connection may be stored twice. Off, every copy is an event
	// (load generators and tests counting duplicates).
	Dedupe bool
	// EventBuffer is the capacity of the Events channel (default 1024).
	// When it is full the reader waits: the server then holds the data.
	EventBuffer int
	// Logger receives connection events (no secrets). Nil discards them.
	Logger *slog.Logger
	// HTTPClient uploads and downloads files (the media server). Nil
	// means one without a global timeout (files are large; contexts bound
	// the calls) whose certificate checks follow TLS (InsecureSkipVerify,
	// RootCAs).
	HTTPClient *http.Client
}

// ErrBadOptions reports unusable Options.
var ErrBadOptions = errors.New("client: bad options")

type account struct {
	local, domain, resource string
}

func (o *Options) normalize() (account, error) {
	var a account
	if err := o.applyDevice(); err != nil {
		return a, err
	}
	bare, res, _ := strings.Cut(o.JID, "/")
	local, domain, ok := strings.Cut(bare, "@")
	if !ok || local == "" || domain == "" {
		return a, fmt.Errorf("%w: JID %q must look like user@domain", ErrBadOptions, o.JID)
	}
	a = account{local: local, domain: domain, resource: res}
	if o.Encoding == Binary && o.Transport == STARTTLS {
		o.Transport = DirectTLS
	}
	if o.Addr == "" {
		port := "5222"
		switch {
		case o.Encoding == Binary:
			port = "5224"
		case o.Transport == DirectTLS:
			port = "5223"
		}
		o.Addr = net.JoinHostPort(domain, port)
	}
	switch o.Mechanism {
	case "", mechSCRAMSHA256, mechSCRAMSHA1, mechPLAIN, mechDevice:
	default:
		return a, fmt.Errorf("%w: unknown mechanism %q", ErrBadOptions, o.Mechanism)
	}
	if o.MinBackoff <= 0 {
		o.MinBackoff = 250 * time.Millisecond
	}
	if o.MaxBackoff < o.MinBackoff {
		o.MaxBackoff = 30 * time.Second
	}
	if o.DialTimeout <= 0 {
		o.DialTimeout = 15 * time.Second
	}
	if o.EventBuffer <= 0 {
		o.EventBuffer = 1024
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.HTTPClient == nil {
		o.HTTPClient = o.defaultHTTPClient()
	}
	return a, nil
}

// defaultHTTPClient is the media client: the default transport with the
// certificate checks of o.TLS.
func (o *Options) defaultHTTPClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	if o.TLS != nil {
		t.TLSClientConfig = &tls.Config{InsecureSkipVerify: o.TLS.InsecureSkipVerify, RootCAs: o.TLS.RootCAs, MinVersion: tls.VersionTLS12}
	}
	return &http.Client{Transport: t}
}

func (o *Options) tlsConfig(domain string) *tls.Config {
	if o.TLS != nil {
		c := o.TLS.Clone()
		if c.ServerName == "" && !c.InsecureSkipVerify {
			c.ServerName = domain
		}
		return c
	}
	return &tls.Config{ServerName: domain, MinVersion: tls.VersionTLS12}
}

// usesSASL2 reports whether a login without resume (or with nothing to
// resume) goes through SASL2 and Bind 2 (Options.SASL2).
func (o *Options) usesSASL2(resume *resumeState) bool {
	return o.SASL2 && o.Encoding != Binary && (resume == nil || resume.id == "")
}

// pipelines reports whether a login pipelines its last steps (Pipeline).
func (o *Options) pipelines() bool { return o.Pipeline || o.Encoding == Binary }
