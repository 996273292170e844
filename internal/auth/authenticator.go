package auth

import (
	"context"
	"crypto/rand"
	"errors"
	"strings"
	"sync"

	"github.com/parley-im/parley/internal/jid"
	"github.com/parley-im/parley/internal/store"
)

// SASL mechanism names.
const (
	MechSCRAMSHA256Plus = "SCRAM-SHA-256-PLUS"
	MechSCRAMSHA1Plus   = "SCRAM-SHA-1-PLUS"
	MechSCRAMSHA256     = "SCRAM-SHA-256"
	MechSCRAMSHA1       = "SCRAM-SHA-1"
	MechPlain           = "PLAIN"
	// MechDevice is a linked device's login with its id and token
	// (docs/protocol/devices.md).
	MechDevice = "X-PARLEY-DEVICE"
)

// maxMessage bounds every client message (a 1023-byte localpart escaped
// for SCRAM, a nonce, a proof and a 64-byte binding fit easily).
const maxMessage = 8192

// CredentialStore looks up an account's keys by its bare JID. store.Accounts
// satisfies it.
type CredentialStore interface {
	// GetAccount returns the account or an error wrapping store.ErrNotFound.
	GetAccount(ctx context.Context, bareJID string) (store.Account, error)
}

// Config describes one connection to the SASL code.
type Config struct {
	// Domain is the served domain: authenticated users are localpart@Domain.
	Domain string
	// Store overrides the Authenticator's store for this connection (nil:
	// use the Authenticator's).
	Store CredentialStore
	// AllowPlain offers PLAIN. The caller decides (TLS, or an explicit
	// allow-plaintext-auth setting).
	AllowPlain bool
	// ChannelBinding returns the tls-exporter channel binding data (RFC
	// 9266: ExportKeyingMaterial("EXPORTER-Channel-Binding", nil, 32)); ok
	// false (or a nil func) when unavailable, and then no -PLUS mechanism
	// is offered.
	ChannelBinding func() ([]byte, bool)
	// Devices offers X-PARLEY-DEVICE, checking linked devices' tokens
	// there. The caller sets it only on TLS connections; nil: not offered.
	Devices DeviceStore
}

// DeviceStore looks up linked devices. store.Devices satisfies it.
type DeviceStore interface {
	// GetDevice returns the device or an error wrapping store.ErrNotFound.
	GetDevice(ctx context.Context, user, id string) (store.Device, error)
}

// binding returns the channel binding data, if any.
func (c Config) binding() ([]byte, bool) {
	if c.ChannelBinding == nil {
		return nil, false
	}
	b, ok := c.ChannelBinding()
	if !ok || len(b) == 0 {
		return nil, false
	}
	return b, true
}

// Authenticator runs SASL exchanges against a credential store. Create one
// per server with NewAuthenticator; it is safe for concurrent use.
type Authenticator struct {
	store   CredentialStore
	fakeKey [32]byte // per-process key for unknown users' fake credentials
	// fakeMACs holds *fakeMAC, HMAC-SHA-512s keyed with fakeKey: a Reset
	// one starts from its keyed state instead of hashing the key's pads
	// again.
	fakeMACs sync.Pool

	// Test hooks: nonce replaces the server nonce generator (RFC test
	// vectors); fakeIterations, when non-zero, replaces DefaultIterations in
	// fake credentials (cheaper fuzzing).
	nonce          func() string
	fakeIterations int
}

// NewAuthenticator returns an Authenticator looking up credentials in s. It
// draws the random key for unknown users' fake credentials.
func NewAuthenticator(s CredentialStore) *Authenticator {
	a := &Authenticator{store: s}
	rand.Read(a.fakeKey[:]) // never fails (Go 1.24+)
	return a
}

// Mechanisms returns the mechanism names to offer on a connection described
// by c, strongest first: SCRAM-SHA-256-PLUS and SCRAM-SHA-1-PLUS (only with
// channel binding), SCRAM-SHA-256, SCRAM-SHA-1, PLAIN (if c.AllowPlain),
// then X-PARLEY-DEVICE (if c.Devices is set).
func (a *Authenticator) Mechanisms(c Config) []string {
	_, cb := c.binding()
	return mechanisms(c, cb)
}

func mechanisms(c Config, cb bool) []string {
	m := make([]string, 0, 6)
	if cb {
		m = append(m, MechSCRAMSHA256Plus, MechSCRAMSHA1Plus)
	}
	m = append(m, MechSCRAMSHA256, MechSCRAMSHA1)
	if c.AllowPlain {
		m = append(m, MechPlain)
	}
	if c.Devices != nil {
		m = append(m, MechDevice)
	}
	return m
}

type negState int

const (
	stateFirst negState = iota // waiting for the initial response
	stateFinal                 // SCRAM: waiting for client-final
	stateDone                  // success
	stateFailed
)

// Negotiation is one SASL exchange on one connection. It is not safe for
// concurrent use. After an error it is finished: start a new one.
type Negotiation struct {
	a       *Authenticator
	store   CredentialStore
	domain  string // normalized
	mech    string
	hash    Hash
	plus    bool   // a -PLUS mechanism
	cbData  []byte // channel binding data when the connection has it
	cbOK    bool
	state   negState
	user    string // bare JID; set from the first message, exposed once Done
	devices DeviceStore
	device  string // X-PARLEY-DEVICE: the device id, exposed once Done
	scram   *scramState
	success []byte
}

// Start begins an exchange with mechanism and the client's initial response
// (nil or empty: none; the returned challenge is then empty and the client
// sends its first message with Step). It returns the challenge to send, or
// an error (a *Failure). A PLAIN exchange with an initial response completes
// in Start: check Done.
func (a *Authenticator) Start(ctx context.Context, c Config, mechanism string, initial []byte) (*Negotiation, []byte, error) {
	cbData, cbOK := c.binding()
	offered := false
	for _, m := range mechanisms(c, cbOK) {
		if m == mechanism {
			offered = true
		}
	}
	if !offered {
		if mechanism == MechPlain {
			return nil, nil, fail(CondEncryptionRequired, "PLAIN needs an encrypted stream")
		}
		return nil, nil, fail(CondInvalidMechanism, "")
	}
	st := c.Store
	if st == nil {
		st = a.store
	}
	if st == nil {
		return nil, nil, &Failure{Condition: CondTemporaryAuthFailure, cause: errors.New("auth: no credential store")}
	}
	dom, err := jid.New("", c.Domain, "")
	if err != nil {
		return nil, nil, &Failure{Condition: CondTemporaryAuthFailure, cause: errors.New("auth: bad configured domain")}
	}
	n := &Negotiation{a: a, store: st, domain: dom.Domain(), mech: mechanism, cbData: cbData, cbOK: cbOK,
		devices: c.Devices}
	switch mechanism {
	case MechSCRAMSHA256Plus:
		n.hash, n.plus = SHA256, true
	case MechSCRAMSHA1Plus:
		n.hash, n.plus = SHA1, true
	case MechSCRAMSHA256:
		n.hash = SHA256
	case MechSCRAMSHA1:
		n.hash = SHA1
	}
	if len(initial) == 0 {
		return n, []byte{}, nil
	}
	ch, err := n.Step(ctx, initial)
	if err != nil {
		return nil, nil, err
	}
	return n, ch, nil
}

// Step processes the client's next response and returns the next challenge.
// When the exchange succeeds it returns a nil challenge and Done reports
// true; send <success/> with SuccessData.
func (n *Negotiation) Step(ctx context.Context, response []byte) (challenge []byte, err error) {
	if len(response) > maxMessage {
		n.state = stateFailed
		return nil, fail(CondMalformedRequest, "message too large")
	}
	switch n.state {
	case stateFirst:
		switch n.mech {
		case MechPlain:
			err = n.plain(ctx, response)
		case MechDevice:
			err = n.deviceLogin(ctx, response)
		default:
			challenge, err = n.scramFirst(ctx, response)
		}
	case stateFinal:
		err = n.scramFinal(response)
	default:
		err = fail(CondMalformedRequest, "the exchange is over")
	}
	if err != nil {
		n.state = stateFailed
		n.scram = nil
		return nil, err
	}
	return challenge, nil
}

// Done reports whether the exchange succeeded.
func (n *Negotiation) Done() bool { return n.state == stateDone }

// User returns the authenticated bare JID (localpart@Domain), or "" before
// success.
func (n *Negotiation) User() string {
	if n.state != stateDone {
		return ""
	}
	return n.user
}

// SuccessData returns the additional data for <success/>: the SCRAM
// server-final message ("v=..."), or nil for PLAIN and before success.
func (n *Negotiation) SuccessData() []byte {
	if n.state != stateDone {
		return nil
	}
	return n.success
}

// Device returns the linked device's id after an X-PARLEY-DEVICE success,
// "" otherwise (a password login).
func (n *Negotiation) Device() string {
	if n.state != stateDone {
		return ""
	}
	return n.device
}

// Mechanism returns the mechanism of the exchange.
func (n *Negotiation) Mechanism() string { return n.mech }

// resolveUser maps what the client gave as its username (a localpart, or a
// bare JID of our domain) to the canonical bare JID. ok is false when the
// name can never be an account here; the caller then runs the exchange
// against fake credentials.
func (n *Negotiation) resolveUser(name string) (string, bool) {
	var j jid.JID
	var err error
	if strings.IndexByte(name, '@') >= 0 {
		j, err = jid.Parse(name)
	} else {
		j, err = jid.New(name, n.domain, "")
	}
	if err != nil || j.Local() == "" || !j.IsBare() || j.Domain() != n.domain {
		return "", false
	}
	return j.String(), true
}

// checkAuthzid accepts an empty authzid or one naming the authenticating
// user's bare JID.
func checkAuthzid(authzid, bare string, ok bool) error {
	if authzid == "" {
		return nil
	}
	if ok {
		if j, err := jid.Parse(authzid); err == nil && j.String() == bare {
			return nil
		}
	}
	return fail(CondInvalidAuthzid, "the authorization identity must be empty or your own bare JID")
}

// keys returns the stored keys of bare for hash h, or deterministic fake
// ones (found false) when the user is unknown, the name invalid or the
// account has no usable keys for h. Only a store failure is an error. The
// fake keys are computed in every case, so that CPU work does not depend
// on whether the user exists.
func (n *Negotiation) keys(ctx context.Context, bare string, ok bool, rawName string, h Hash) (k store.SCRAMKeys, found bool, err error) {
	identity := rawName
	if ok {
		identity = bare
	}
	fake := n.a.fakeKeys(h, identity)
	if !ok {
		return fake, false, nil
	}
	acct, err := n.store.GetAccount(ctx, bare)
	switch {
	case err == nil:
		k = acct.SHA256
		if h == SHA1 {
			k = acct.SHA1
		}
		if usable(k, h) {
			return k, true, nil
		}
	case errors.Is(err, store.ErrNotFound):
	default:
		return store.SCRAMKeys{}, false, &Failure{Condition: CondTemporaryAuthFailure, cause: err}
	}
	return fake, false, nil
}
