package server

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/parley-im/parley/internal/jid"
	"github.com/parley-im/parley/internal/module"
	"github.com/parley-im/parley/internal/router"
	"github.com/parley-im/parley/internal/session"
	"github.com/parley-im/parley/internal/stanza"
	"github.com/parley-im/parley/internal/store"
)

type iqKey struct {
	ns     string
	target module.Target
}

// Hub dispatches stanzas between sessions, the router and features.
type Hub struct {
	// closing is set when the server starts shutting down: a session bound
	// or resumed after that is closed at once (see Bind).
	closing atomic.Bool

	domain   string
	log      *slog.Logger
	accounts store.Accounts
	reg      *router.Registry
	router   *router.Router
	sessCfg  *session.Config
	dir      directory    // the cluster's directory of this node's devices; nil on a single server
	carbons  carbonsState // set at start-up when the carbons feature runs

	// Set during start-up (Register calls), read-only afterwards.
	iq              map[iqKey]module.IQHandler
	presence        module.PresenceHandler
	presenceInbound func(ctx context.Context, p *stanza.Element, to jid.JID)
	onAvailable     []module.AvailableHook
	onUnavailable   []module.UnavailableHook
	onEnded         []module.EndedHook
	filters         []module.RouteFilter
	onMessage       []module.MessageHook
	disco           []string
	discoIdentities []module.DiscoIdentity
	discoForms      []*stanza.Element
	discoItems      []module.DiscoItem
	accountDisco    []string
	accountIDs      []module.DiscoIdentity
	streamFeatures  []*stanza.Element
	nonzas          map[string]module.NonzaHandler
	services        map[string]module.ServiceHandler // by domain (groups.<domain>)

	mu        sync.Mutex
	resumable map[string]*session.Session // resumption id -> session; guarded by mu
	pendingIQ map[string]*pendingIQ       // features' iq requests by id; guarded by mu
}

// hubHost is the module.Host given to one feature (it carries the
// feature's logger).
type hubHost struct {
	*Hub
	log *slog.Logger
}

func (h hubHost) Log() *slog.Logger { return h.log }

// Domain returns the served domain.
func (h *Hub) Domain() string { return h.domain }

// HandleIQ registers an iq handler (module.Host).
func (h *Hub) HandleIQ(ns string, target module.Target, fn module.IQHandler) error {
	k := iqKey{ns, target}
	if _, dup := h.iq[k]; dup {
		return fmt.Errorf("server: two handlers for iq namespace %s", ns)
	}
	h.iq[k] = fn
	return nil
}

// HandlePresence installs the presence handler (module.Host).
func (h *Hub) HandlePresence(fn module.PresenceHandler) { h.presence = fn }

// OnAvailable adds an availability hook (module.Host).
func (h *Hub) OnAvailable(fn module.AvailableHook) { h.onAvailable = append(h.onAvailable, fn) }

// OnUnavailable adds an unavailability hook (module.Host).
func (h *Hub) OnUnavailable(fn module.UnavailableHook) {
	h.onUnavailable = append(h.onUnavailable, fn)
}

// AddDiscoFeature declares a disco feature var (module.Host).
func (h *Hub) AddDiscoFeature(v string) { h.disco = append(h.disco, v) }

// DiscoFeatures returns the declared disco features, sorted (module.Host).
func (h *Hub) DiscoFeatures() []string {
	out := append([]string(nil), h.disco...)
	sort.Strings(out)
	return out
}

// AddDiscoIdentity declares a disco identity (module.DiscoExtender).
func (h *Hub) AddDiscoIdentity(id module.DiscoIdentity) {
	h.discoIdentities = append(h.discoIdentities, id)
}

// AddDiscoForm adds an XEP-0128 form to disco#info (module.DiscoExtender).
func (h *Hub) AddDiscoForm(form *stanza.Element) { h.discoForms = append(h.discoForms, form) }

// DiscoIdentities lists the declared identities (module.DiscoExtender).
func (h *Hub) DiscoIdentities() []module.DiscoIdentity { return h.discoIdentities }

// DiscoForms lists the declared forms (module.DiscoExtender).
func (h *Hub) DiscoForms() []*stanza.Element { return h.discoForms }

// AddAccountDiscoFeature declares a feature var of accounts' disco#info
// (module.AccountDisco).
func (h *Hub) AddAccountDiscoFeature(v string) { h.accountDisco = append(h.accountDisco, v) }

// AccountDiscoFeatures lists the accounts' feature vars, sorted
// (module.AccountDisco).
func (h *Hub) AccountDiscoFeatures() []string {
	out := append([]string(nil), h.accountDisco...)
	sort.Strings(out)
	return out
}

// AddAccountDiscoIdentity declares an identity of accounts' disco#info
// (module.AccountDisco).
func (h *Hub) AddAccountDiscoIdentity(id module.DiscoIdentity) {
	h.accountIDs = append(h.accountIDs, id)
}

// AccountDiscoIdentities lists the accounts' extra identities
// (module.AccountDisco).
func (h *Hub) AccountDiscoIdentities() []module.DiscoIdentity { return h.accountIDs }

// Sessions returns a user's connected devices (module.Host).
func (h *Hub) Sessions(user jid.JID) []module.Session {
	devs := h.reg.Devices(user)
	out := make([]module.Session, len(devs))
	for i, d := range devs {
		out[i] = d
	}
	return out
}

// SessionCount returns the number of connected devices of a user
// (module.Host).
func (h *Hub) SessionCount(user jid.JID) int { return len(h.reg.Devices(user)) }

// Session returns the device with this full JID or nil (module.Host).
func (h *Hub) Session(full jid.JID) module.Session {
	if d := h.reg.Device(full); d != nil {
		return d
	}
	return nil
}

// Route routes a stanza produced by a feature (module.Host). Errors go back
// to the stanza's sender when that is a local device.
func (h *Hub) Route(ctx context.Context, st *stanza.Element) {
	if err := h.router.Route(ctx, st); err != nil {
		h.bounceError(ctx, st, err)
	}
}

// DeliverToAvailable sends st to the user's available devices (module.Host).
func (h *Hub) DeliverToAvailable(user jid.JID, st *stanza.Element) {
	h.router.DeliverToAvailable(user, st)
}

func (h *Hub) bounceError(ctx context.Context, st *stanza.Element, err *stanza.Error) {
	reply := stanza.ErrorReply(st, err)
	if reply == nil {
		return
	}
	to, perr := reply.To()
	if perr != nil || to.Local() == "" {
		return
	}
	_ = h.router.Route(ctx, reply)
}

// UserExists reports whether a local account exists (router.Users).
func (h *Hub) UserExists(ctx context.Context, user jid.JID) (bool, error) {
	if len(h.reg.Devices(user)) > 0 {
		return true, nil
	}
	if ac, ok := h.accounts.(store.AccountChecker); ok {
		return ac.AccountExists(ctx, user.Bare().String())
	}
	_, err := h.accounts.GetAccount(ctx, user.Bare().String())
	switch {
	case err == nil:
		return true, nil
	case isNotFound(err):
		return false, nil
	}
	return false, err
}
