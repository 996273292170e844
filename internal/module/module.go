package module

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/parley-im/parley/internal/jid"
	"github.com/parley-im/parley/internal/stanza"
)

// Feature is one protocol feature.
type Feature interface {
	// Name is a short identifier used in logs and metrics ("roster", "ping").
	Name() string
	// Register installs the feature's handlers and hooks on h.
	Register(h Host) error
}

// Session is what features see of one connected device.
type Session interface {
	// JID is the device's full JID (after resource binding).
	JID() jid.JID
	// Send queues st for the device. It never blocks; it reports false when
	// the session is gone or its mailbox overflowed (the session is then
	// being disconnected; stored messages stay queued).
	Send(st *stanza.Element) bool
	// Available reports whether the device has sent available presence and
	// not yet unavailable presence.
	Available() bool
	// Priority is the priority of the device's last available presence.
	Priority() int
	// Presence returns the device's last broadcast presence, or nil.
	Presence() *stanza.Element
	// LastStatus is the status text of the device's last broadcast presence,
	// available or unavailable (what "last seen" shows after it leaves).
	LastStatus() string
	// RosterRequested reports whether the device asked for the roster in
	// this session; only such devices get roster pushes (RFC 6121 2.1.6).
	RosterRequested() bool
	// SetRosterRequested records that the device asked for the roster.
	SetRosterRequested()
}

// Target says which addresses an iq handler answers for.
type Target int

const (
	// ToServer: iq addressed to the server's domain (or with no "to").
	ToServer Target = iota + 1
	// ToOwnAccount: iq with no "to", or "to" the sender's own bare JID,
	// handled on the account's behalf (roster, vCard of oneself).
	ToOwnAccount
	// ToOtherAccount: iq to another user's bare JID, answered by the server
	// on that user's behalf (last activity, a contact's vCard).
	ToOtherAccount
)

// IQHandler answers one iq request of type get or set. It returns the
// response (a result built with stanza.Result, or nil to send an empty
// result) or an error; a *stanza.Error is sent as is, any other error as
// internal-server-error. iq.Attr("from") is the sender's full JID, stamped
// by the server.
type IQHandler func(ctx context.Context, iq *stanza.Element) (*stanza.Element, error)

// ErrReplied is returned by an IQHandler that sent the response itself
// with Session.Send, after stanzas that must reach the device before it
// (MAM's result messages before the final iq result): the core sends
// nothing more.
var ErrReplied = errors.New("module: the handler sent the response itself")

// PresenceHandler processes a presence stanza sent by a local device
// (outbound). It reports whether it handled the stanza; unhandled presence
// is routed as directed presence.
type PresenceHandler func(ctx context.Context, from Session, p *stanza.Element) bool

// AvailableHook runs after a device's available presence has been processed;
// initial is true for the first available presence of the session.
type AvailableHook func(ctx context.Context, s Session, initial bool)

// UnavailableHook runs when a device becomes unavailable, by presence or
// because its session ended. ended is true when the session is gone.
type UnavailableHook func(ctx context.Context, s Session, ended bool)

// RouteFilter sees each stanza addressed to a local user (bare or full JID)
// before it is delivered or stored, whoever sent it: a local device, a
// feature or the server. from is the stanza's sender (zero when it has
// none), to its recipient. It returns ok to let the stanza through;
// otherwise the stanza is stopped, and refusal, when not nil, goes back to
// the sender as a stanza error (nil drops it silently). A filter must not
// modify st.
type RouteFilter func(ctx context.Context, st *stanza.Element, from, to jid.JID) (ok bool, refusal *stanza.Error)

// MessageHook runs after a message was handed to a local user: to is the
// address it was routed to and delivered the devices that got it now
// (empty when it only waits in the offline queue). m is the stanza they got
// (with its stanza-id); the hook must not modify it.
type MessageHook func(ctx context.Context, m *stanza.Element, to jid.JID, delivered []Session)

// EndedHook runs once when a session is gone for good, whether or not it
// was ever available (for per-session state kept by features).
type EndedHook func(ctx context.Context, s Session)

// Host is what the core offers features.
type Host interface {
	// Domain is the server's domain.
	Domain() string
	// Log is the feature's logger.
	Log() *slog.Logger

	// HandleIQ routes iq get/set requests whose payload element is in
	// namespace ns and addressed as target to h. Registering the same
	// namespace and target twice is an error.
	HandleIQ(ns string, target Target, h IQHandler) error
	// HandlePresence installs the handler for presence sent by local devices.
	HandlePresence(h PresenceHandler)
	// OnAvailable and OnUnavailable add event hooks, run in registration order.
	OnAvailable(h AvailableHook)
	OnUnavailable(h UnavailableHook)
	// OnSessionEnded adds a hook run when any session ends.
	OnSessionEnded(h EndedHook)
	// FilterRoute adds a filter on stanzas routed to local users; filters
	// run in registration order and the first refusal wins.
	FilterRoute(f RouteFilter)
	// OnMessageRouted adds a hook run after each message delivered (or
	// stored) for a local user.
	OnMessageRouted(h MessageHook)
	// AddDiscoFeature declares a feature var for the server's disco#info.
	AddDiscoFeature(v string)
	// DiscoFeatures lists all declared feature vars (for the disco feature).
	DiscoFeatures() []string

	// Sessions returns the connected devices of a user (bare JID).
	Sessions(user jid.JID) []Session
	// SessionCount is len(Sessions(user)) without making the list: a hook
	// run for every message asks it first.
	SessionCount(user jid.JID) int
	// Session returns the connected device with this full JID, or nil.
	Session(full jid.JID) Session
	// Route delivers a stanza whose from attribute is set, following RFC
	// 6121 section 8 (messages may be stored for later delivery).
	Route(ctx context.Context, st *stanza.Element)
	// Deliver sends st to every available device of user (presence
	// broadcast, roster pushes use Session.Send directly).
	DeliverToAvailable(user jid.JID, st *stanza.Element)
	// Disconnect closes every session of user (bare JID) with err, after
	// what they were already sent; the sessions are not resumable.
	Disconnect(user jid.JID, err *stanza.StreamError)
}

// DiscoIdentity is one identity of the server's disco#info (XEP-0030).
type DiscoIdentity struct{ Category, Type, Name string }

// DiscoExtender is implemented by a Host that lets features add identities
// and XEP-0128 extended information forms to the server's disco#info. A
// feature that needs it checks for it, as a net/http handler checks for
// http.Flusher.
type DiscoExtender interface {
	// AddDiscoIdentity declares an identity besides the server's own.
	AddDiscoIdentity(id DiscoIdentity)
	// AddDiscoForm adds a jabber:x:data form of type result with a
	// FORM_TYPE field.
	AddDiscoForm(form *stanza.Element)
	// DiscoIdentities and DiscoForms list what was declared.
	DiscoIdentities() []DiscoIdentity
	DiscoForms() []*stanza.Element
}

// DiscoItem is one item of the server's disco#items (XEP-0030): a
// service the server runs, such as the groups' MUC service.
type DiscoItem struct{ JID, Name string }

// DiscoItems is implemented by a Host that lets features list services in
// the server's disco#items. A feature checks for it, as for DiscoExtender.
type DiscoItems interface {
	// AddDiscoItem declares an item.
	AddDiscoItem(it DiscoItem)
	// ServerDiscoItems lists them in declaration order.
	ServerDiscoItems() []DiscoItem
}

// AccountDisco is implemented by a Host that lets features add feature
// vars to the disco#info of user accounts (a bare JID): MAM, PEP. A
// feature that needs it checks for it, as for DiscoExtender.
type AccountDisco interface {
	// AddAccountDiscoFeature declares a feature var of every account.
	AddAccountDiscoFeature(v string)
	// AccountDiscoFeatures lists them, sorted.
	AccountDiscoFeatures() []string
	// AddAccountDiscoIdentity declares an identity of every account
	// besides account/registered (PEP's pubsub/pep).
	AddAccountDiscoIdentity(id DiscoIdentity)
	// AccountDiscoIdentities lists them in declaration order.
	AccountDiscoIdentities() []DiscoIdentity
}

// LinkedSession is implemented by Sessions that can tell how the device
// logged in. A feature checks for it, as for DiscoExtender.
type LinkedSession interface {
	// LinkedDevice is the id of the linked device the session belongs to
	// (it logged in with X-PARLEY-DEVICE, docs/protocol/devices.md), or ""
	// for a password login.
	LinkedDevice() string
}

// LinkedDevice returns s's linked device id, "" for a password login (or
// a Session that cannot tell).
func LinkedDevice(s Session) string {
	if l, ok := s.(LinkedSession); ok {
		return l.LinkedDevice()
	}
	return ""
}

// BatchSender is implemented by Sessions that can queue several stanzas
// as one mailbox item: a burst answering one request of the device (a
// room's occupants when it joins), which must not overflow the mailbox
// limit meant for slow readers. Use SendAll.
type BatchSender interface {
	SendAll(sts []*stanza.Element) bool
}

// SendAll queues sts for s in order: as one item when s is a BatchSender,
// else one by one.
func SendAll(s Session, sts []*stanza.Element) bool {
	if b, ok := s.(BatchSender); ok {
		return b.SendAll(sts)
	}
	for _, st := range sts {
		if !s.Send(st) {
			return false
		}
	}
	return true
}

// CarbonsSession is implemented by Sessions whose carbons state (XEP-0280)
// is kept elsewhere: a device connected to another node of a cluster, as
// its own node's carbons feature decided. The carbons feature checks for
// it, as for LinkedSession.
type CarbonsSession interface {
	// Carbons reports whether the device gets carbon copies.
	Carbons() bool
}

// DeviceDisconnecter is implemented by a Host that can close the sessions
// of one linked device (revocation). A feature checks for it.
type DeviceDisconnecter interface {
	// DisconnectDevice closes, with err and not resumable, every session
	// of user (bare JID) that logged in as the linked device id.
	DisconnectDevice(user jid.JID, id string, err *stanza.StreamError)
}

// RouteChecker is implemented by a Host that can tell, without routing
// it, whether the route filters (blocking, privacy) let st through to the
// local user to; refusal is what the sender would get. A feature checks
// for it (calls: a blocked caller rings nowhere).
type RouteChecker interface {
	Allowed(ctx context.Context, st *stanza.Element, to jid.JID) (ok bool, refusal *stanza.Error)
}

// Stored is what a service handler reports of a message it stored
// durably; the sender's "sent" ack carries it (Parley's extensions).
type Stored struct {
	StanzaID string
	Time     time.Time
}

// ServiceHandler handles a stanza addressed to a service domain a feature
// owns (the domain itself or an address at it), from a local device, a
// feature or a component; "from" is set. It returns what it stored, if
// anything, and the error for the sender, if any.
type ServiceHandler func(ctx context.Context, st *stanza.Element, to jid.JID) (Stored, *stanza.Error)

// ServiceHost is implemented by a Host that lets a feature own a service
// domain (groups.<domain>): every stanza to that domain or an address at
// it goes to the handler instead of leaving the server. A feature checks
// for it, as for DiscoExtender.
type ServiceHost interface {
	// HandleService installs h for domain; one handler per domain.
	HandleService(domain string, h ServiceHandler) error
}

// DurabilityDeferrer is implemented by a Host that lets a service handler
// leave the wait for its durable write to the device that sent the
// stanza: the device's session acknowledges the stanza once the wait
// returns (and answers with its error if it fails), and reads the
// device's next stanzas meanwhile, so that a burst of them shares the
// store's syncs. A feature checks for it.
type DurabilityDeferrer interface {
	// DeferDurability hands wait to the session whose own message ctx
	// carries; false when ctx carries none (a stanza a feature sends, an
	// iq): the caller then calls wait itself.
	DeferDurability(ctx context.Context, wait func() *stanza.Error) bool
}

// StoredDeliverer is implemented by a Host that delivers messages to a
// local user as stored ones whatever their type (group messages of type
// groupchat): enqueued in order in the user's offline queue with one
// durable write, then handed to the user's available devices. Each
// carries its stanza-id by the user; route filters (a stopped message is
// skipped) and message hooks run as for Route. A feature checks for it.
type StoredDeliverer interface {
	// DeliverStored delivers each user's messages; their durable writes
	// are shared (one write for all of them when the store can). An
	// error means a write failed: the caller tries them all again.
	DeliverStored(ctx context.Context, ds []StoredDelivery) *stanza.Error
}

// StoredDelivery is one local user's messages for DeliverStored.
type StoredDelivery struct {
	To jid.JID
	// Msgs may be posts (stanza.NewPost): the host then makes or encodes
	// To's copy of each where it needs one.
	Msgs []*stanza.Element
	Seqs []uint64 // DeliverLogged: the messages' positions in the feature's log
}

// LogDeliverer is implemented by a Host that can hand a feature's
// messages, kept durably in the feature's own log (a store.Queue key), to
// a user's live devices with their log positions instead of a copy in
// the user's queue (groups: a post stored once). The host tracks the
// positions handed out until a device acknowledges them or they are
// written to the user's queue (its session ended first), in log order,
// before the user's later messages of the log. The feature keeps every
// log entry at or above LogLowWater.
type LogDeliverer interface {
	// DeliverLogged is DeliverStored for entries of log key (each
	// delivery's Seqs set): users with live devices only on this node get
	// no queue copy.
	DeliverLogged(ctx context.Context, key string, ds []StoredDelivery) *stanza.Error
	// SettleLog writes to their users' queues the positions of key no
	// device holds any more; the feature calls it after OnLogReleased's
	// wake, from the goroutine that calls DeliverLogged.
	SettleLog(ctx context.Context, key string) *stanza.Error
	// LogLowWater is the smallest position of key handed out and still
	// unsettled; ok is false when there is none.
	LogLowWater(key string) (seq uint64, ok bool)
	// OnLogReleased sets wake (it must not block), run when a position
	// of key is left with no device and must be queued.
	OnLogReleased(key string, wake func())
}
