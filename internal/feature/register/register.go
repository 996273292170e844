package register

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"time"
	"unicode/utf8"

	"github.com/parley-im/parley/internal/jid"
	"github.com/parley-im/parley/internal/module"
	"github.com/parley-im/parley/internal/stanza"
	"github.com/parley-im/parley/internal/store"
)

// Store is what the feature needs from storage.
type Store interface {
	CreateAccount(ctx context.Context, a store.Account) error
	UpdateCredentials(ctx context.Context, jid string, sha1, sha256 store.SCRAMKeys) error
	DeleteAccount(ctx context.Context, jid string) error
}

// Credentials derives the stored SCRAM keys (SHA-1 and SHA-256) for a
// password; an error means the password is unusable (e.g. after PRECIS
// preparation). In the server it is auth.NewCredentials.
type Credentials func(password string) (sha1, sha256 store.SCRAMKeys, err error)

// Limiter bounds account creations per client address: Allow reports
// whether ip may try now, Fail counts one attempt (auth.FailureLimiter
// with the per-hour budget fits).
type Limiter interface {
	Allow(ip netip.Addr) bool
	Fail(ip netip.Addr)
}

// Options are the feature's settings.
type Options struct {
	// MinPasswordLen is the shortest password accepted, in characters
	// (not-acceptable below). Default 8.
	MinPasswordLen int
}

// DefaultOptions returns the default settings.
func DefaultOptions() Options { return Options{MinPasswordLen: 8} }

// ErrInvalidConfig is returned (wrapped) by New for an unusable Config.
var ErrInvalidConfig = errors.New("register: invalid configuration")

// Config holds the feature's dependencies and settings.
type Config struct {
	Store       Store
	Credentials Credentials
	Limiter     Limiter // nil: no limit
	Options     Options
	Now         func() time.Time // nil: time.Now
}

// Feature is the in-band registration module.
type Feature struct {
	cfg Config

	// Set by Register, read-only afterwards.
	host   module.Host
	log    *slog.Logger
	domain string
}

// New returns the feature.
func New(cfg Config) (*Feature, error) {
	if cfg.Store == nil || cfg.Credentials == nil {
		return nil, fmt.Errorf("%w: Store and Credentials are required", ErrInvalidConfig)
	}
	if cfg.Options.MinPasswordLen < 1 {
		return nil, fmt.Errorf("%w: MinPasswordLen must be at least 1, not %d", ErrInvalidConfig, cfg.Options.MinPasswordLen)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Feature{cfg: cfg}, nil
}

// Name implements module.Feature.
func (f *Feature) Name() string { return "register" }

// Register implements module.Feature: the logged-in half (password change,
// account removal) and the disco feature.
func (f *Feature) Register(h module.Host) error {
	f.host, f.log, f.domain = h, h.Log(), h.Domain()
	h.AddDiscoFeature(stanza.NSRegister)
	return h.HandleIQ(stanza.NSRegister, module.ToServer, f.loggedIn)
}

// Registrar returns the pre-authentication half, for the connection layer
// (c2s.Config.Registration). Call it after Register.
func (f *Feature) Registrar() Registrar { return Registrar{f: f} }

// Registrar answers jabber:iq:register before authentication.
type Registrar struct{ f *Feature }

// Register answers one registration request from a client at ip that has
// not authenticated: get returns the form, set creates the account.
func (r Registrar) Register(ctx context.Context, ip netip.Addr, iq *stanza.Element) *stanza.Element {
	q := iq.Child(stanza.NSRegister, "query")
	switch {
	case q == nil:
		return stanza.ErrorReply(iq, stanza.NewError(stanza.BadRequest, "expected a jabber:iq:register query"))
	case iq.Type() == "get":
		return stanza.Result(iq).AddChild(form())
	case iq.Type() != "set":
		return stanza.ErrorReply(iq, stanza.NewError(stanza.BadRequest, ""))
	case q.Child(stanza.NSRegister, "remove") != nil:
		return stanza.ErrorReply(iq, stanza.NewError(stanza.NotAllowed, "log in to remove an account"))
	}
	if err := r.f.create(ctx, ip, q); err != nil {
		return stanza.ErrorReply(iq, err)
	}
	return stanza.Result(iq)
}

// form is the registration form: the fields required and instructions.
func form() *stanza.Element {
	q := stanza.NewElement(stanza.NSRegister, "query")
	in := stanza.NewElement(stanza.NSRegister, "instructions")
	in.Text = "Choose a username and a password to create your account."
	return q.AddChild(in).
		AddChild(stanza.NewElement(stanza.NSRegister, "username")).
		AddChild(stanza.NewElement(stanza.NSRegister, "password"))
}

// create validates a registration and stores the account.
func (f *Feature) create(ctx context.Context, ip netip.Addr, q *stanza.Element) *stanza.Error {
	if f.cfg.Limiter != nil && !f.cfg.Limiter.Allow(ip) {
		return stanza.NewError(stanza.ResourceConstraint, "too many registrations from your address; try again later")
	}
	user, serr := f.username(q.ChildText(stanza.NSRegister, "username"))
	if serr != nil {
		return serr
	}
	sha1, sha256, serr := f.credentials(q.ChildText(stanza.NSRegister, "password"))
	if serr != nil {
		return serr
	}
	if f.cfg.Limiter != nil {
		f.cfg.Limiter.Fail(ip) // every attempt that reaches the store counts, taken names included
	}
	a := store.Account{JID: user.String(), SHA1: sha1, SHA256: sha256, Created: f.cfg.Now()}
	err := f.cfg.Store.CreateAccount(ctx, a)
	switch {
	case errors.Is(err, store.ErrExists):
		return stanza.NewError(stanza.Conflict, "this username is taken")
	case err != nil:
		f.log.Error("registration: creating the account", "user", a.JID, "err", err)
		return stanza.NewError(stanza.InternalServerError, "")
	}
	f.log.Info("account registered", "user", a.JID, "remote", ip)
	return nil
}

// username checks a requested username and returns the account's bare JID.
func (f *Feature) username(name string) (jid.JID, *stanza.Error) {
	if name == "" {
		return jid.JID{}, stanza.NewError(stanza.NotAcceptable, "a username is required")
	}
	j, err := jid.New(name, f.domain, "")
	if err != nil || j.Local() == "" {
		return jid.JID{}, stanza.NewError(stanza.NotAcceptable, "this username is not valid in an XMPP address")
	}
	return j, nil
}

// credentials checks a password and derives its SCRAM keys.
func (f *Feature) credentials(password string) (sha1, sha256 store.SCRAMKeys, serr *stanza.Error) {
	if utf8.RuneCountInString(password) < f.cfg.Options.MinPasswordLen {
		return sha1, sha256, stanza.NewError(stanza.NotAcceptable,
			fmt.Sprintf("the password must have at least %d characters", f.cfg.Options.MinPasswordLen))
	}
	sha1, sha256, err := f.cfg.Credentials(password)
	if err != nil {
		return sha1, sha256, stanza.NewError(stanza.NotAcceptable, "this password cannot be used")
	}
	return sha1, sha256, nil
}
