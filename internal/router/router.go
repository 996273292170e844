package router

import (
	"context"
	"crypto/rand"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/parley-im/parley/internal/jid"
	"github.com/parley-im/parley/internal/slicepool"
	"github.com/parley-im/parley/internal/stanza"
	"github.com/parley-im/parley/internal/store"
)

// Codec turns stanzas into queue payloads and back.
type Codec interface {
	Encode(st *stanza.Element) []byte
	Decode(b []byte) (*stanza.Element, error)
}

// AppendCodec is a Codec that appends an encoding to a buffer:
// RouteStoredAll then encodes the messages it stores (a group wave's
// copies for up to 256 members) into shared buffers instead of one
// allocation per copy. The queue copies payloads and keeps none of them.
type AppendCodec interface {
	Codec
	AppendEncoded(dst []byte, st *stanza.Element) []byte
}

// Users tells whether a local account exists.
type Users interface {
	UserExists(ctx context.Context, user jid.JID) (bool, error)
}

// Config holds what a Router needs.
type Config struct {
	Domain   string
	Registry *Registry
	Queue    store.Queue
	Codec    Codec
	Users    Users
	Log      *slog.Logger
	// Local handles stanzas the router does not deliver itself: iq to a
	// user's bare JID, and all presence addressed to a local user (the
	// presence feature's inbound processing).
	Local func(ctx context.Context, st *stanza.Element, to jid.JID)
	// Filter, when set, sees each stanza addressed to a local user before
	// it is delivered or stored: ok false stops it, and err, when not nil,
	// is returned to the sender (features' blocking rules).
	Filter func(ctx context.Context, st *stanza.Element, to jid.JID) (ok bool, err *stanza.Error)
	// Delivered, when set, runs after a message was handed to a local
	// user: targets are the devices that got it now (none when it only
	// waits in the queue). It must not modify m.
	Delivered func(ctx context.Context, m *stanza.Element, to jid.JID, targets []Device)
	// DeliveredAll, when set, replaces Delivered for a user's messages
	// routed together (RouteStoredAll: a group's copies), so that what the
	// hooks need per recipient is made once, not once per message. It
	// runs after all of them were handed to targets.
	DeliveredAll func(ctx context.Context, ms []*stanza.Element, to jid.JID, targets []Device)
	// Remote, when set, takes stanzas addressed to another domain (an
	// XEP-0114 component's) and returns the error for the sender, if any.
	// Without it such stanzas get remote-server-not-found.
	Remote func(ctx context.Context, st *stanza.Element, to jid.JID) *stanza.Error
	// AckWindow, when positive, lets a session's message to a user whose
	// devices are all connected here reach them before it is stored: it
	// is stored only if none acknowledges it within the window (see
	// Pending).
	AckWindow time.Duration
}

// Router delivers stanzas to local devices and the offline queue.
type Router struct {
	cfg Config

	logsMu sync.Mutex
	logs   map[string]*logTracker // by log key (logs.go)
	// logEntries holds the arrays of the users' positions of the logs
	// between a user's acknowledgements (logTracker.hold).
	logEntries slicepool.Pool[logEntry]

	pending PendingStats
	waiting waitingPending
	expiry  pendingExpiry
}

// New returns a Router.
func New(cfg Config) *Router {
	return &Router{cfg: cfg, expiry: pendingExpiry{window: cfg.AckWindow, log: cfg.Log}}
}

// QueueKey is the offline-queue key of a user's account-wide queue.
func QueueKey(user jid.JID) string { return user.Bare().String() }

// Route delivers st (from already stamped) to its "to" address. It returns
// a stanza error to be sent back to the sender, or nil.
func (r *Router) Route(ctx context.Context, st *stanza.Element) *stanza.Error {
	to, err := st.To()
	if err != nil {
		return stanza.NewError(stanza.JIDMalformed, "invalid 'to' address")
	}
	if to.Domain() != r.cfg.Domain {
		if r.cfg.Remote != nil {
			return r.cfg.Remote(ctx, st, to)
		}
		return stanza.NewError(stanza.RemoteServerNotFound, "this server talks to no other server")
	}
	if to.Local() == "" {
		r.cfg.Local(ctx, st, to)
		return nil
	}
	if r.cfg.Filter != nil {
		if ok, ferr := r.cfg.Filter(ctx, st, to); !ok {
			return ferr
		}
	}
	switch st.Name {
	case stanza.KindMessage:
		return r.routeMessage(ctx, st, to)
	case stanza.KindPresence:
		ok, err := r.cfg.Users.UserExists(ctx, to)
		switch {
		case err != nil:
			r.cfg.Log.Error("checking account", "user", to.Bare().String(), "err", err)
		case ok:
			r.cfg.Local(ctx, st, to)
		case st.Type() == "subscribe":
			r.refuseSubscription(ctx, st, to)
		}
		return nil
	case stanza.KindIQ:
		return r.routeIQ(ctx, st, to)
	}
	return stanza.NewError(stanza.BadRequest, "unknown stanza kind")
}

// refuseSubscription answers a subscription request to an account that does
// not exist with "unsubscribed" (RFC 6121 3.1.3), so the requester's pending
// state is cleared.
func (r *Router) refuseSubscription(ctx context.Context, req *stanza.Element, to jid.JID) {
	from, err := req.From()
	if err != nil || from.IsZero() {
		return
	}
	refusal := stanza.NewElement(stanza.NSClient, stanza.KindPresence,
		"type", "unsubscribed", "from", to.Bare().String(), "to", from.Bare().String())
	_ = r.Route(ctx, refusal)
}

func (r *Router) routeIQ(ctx context.Context, iq *stanza.Element, to jid.JID) *stanza.Error {
	if to.IsBare() {
		r.cfg.Local(ctx, iq, to)
		return nil
	}
	if d := r.cfg.Registry.Device(to); d != nil {
		d.Deliver(iq, "", 0)
		return nil
	}
	if t := iq.Type(); t == "result" || t == "error" {
		return nil // responses to gone devices are dropped (RFC 6121 8.5.3.2.2)
	}
	return stanza.NewError(stanza.ServiceUnavailable, "")
}

func (r *Router) routeMessage(ctx context.Context, m *stanza.Element, to jid.JID) *stanza.Error {
	typ := m.Type()
	if !to.IsBare() {
		if d := r.cfg.Registry.Device(to); d != nil {
			return r.deliverMessage(ctx, m, to, func() []Device { return []Device{d} })
		}
		// RFC 6121 8.5.3.2.1: no such resource.
		switch typ {
		case "groupchat":
			return stanza.NewError(stanza.ServiceUnavailable, "")
		case "headline", "error":
			return nil
		}
	}
	exists, err := r.cfg.Users.UserExists(ctx, to)
	if err != nil {
		return stanza.NewError(stanza.InternalServerError, "")
	}
	if !exists {
		if typ == "error" || typ == "headline" {
			return nil
		}
		return stanza.NewError(stanza.ServiceUnavailable, "")
	}
	switch typ {
	case "groupchat":
		return stanza.NewError(stanza.ServiceUnavailable, "")
	case "error":
		return nil
	}
	return r.deliverMessage(ctx, m, to, func() []Device { return r.availableNonNegative(to) })
}

// availableNonNegative returns the user's available devices with a
// non-negative priority. When that is all of them (the usual case) it
// returns the registry's own slice, capped so that an append copies it.
func (r *Router) availableNonNegative(user jid.JID) []Device {
	devs := r.cfg.Registry.Devices(user)
	for i, d := range devs {
		if d.Available() && d.Priority() >= 0 {
			continue
		}
		out := make([]Device, i, len(devs))
		copy(out, devs[:i])
		for _, d := range devs[i+1:] {
			if d.Available() && d.Priority() >= 0 {
				out = append(out, d)
			}
		}
		return out
	}
	return devs[:len(devs):len(devs)]
}

// deliverMessage stores m durably when it is storable, then hands it to
// the devices targets returns. With no targets a storable message simply
// waits in the queue. The targets are chosen after the message is stored:
// a device that becomes available after that point reads it in its
// offline drain, one that was available before gets it here (chosen
// before, a device becoming available meanwhile would drain the queue
// without it and never be handed it).
func (r *Router) deliverMessage(ctx context.Context, m *stanza.Element, to jid.JID, targetsOf func() []Device) *stanza.Error {
	a, _ := ctx.Value(assignedKey{}).(*Assigned)
	if a != nil && a.Defer && a.Batch != nil { // not while the hooks of a message run (Defer off)
		key := QueueKey(to)
		switch {
		case Storable(m) && a.Batch.batchable(key, targetsOf):
			r.batchMessage(a, m, to, key)
			return nil
		case a.Batch.keyIndex(key) >= 0:
			commitBefore(ctx, a) // what was sent to to before m reaches it first
		}
	}
	if !Storable(m) {
		targets := targetsOf()
		for _, d := range targets {
			d.Deliver(m, "", 0)
		}
		r.delivered(ctx, m, to, targets)
		return nil
	}
	key := QueueKey(to) // also the stanza-id's "by"
	m, id := stampStanzaID(m, key)
	if a != nil && a.Defer && r.cfg.AckWindow > 0 && r.deliverPending(ctx, a, m, to, key, id, targetsOf()) {
		return nil
	}
	r.StoreWaiting(key) // the user's pending messages go first in the queue, as they went first to the devices
	seq, wait, err := r.enqueue(ctx, key, r.cfg.Codec.Encode(m))
	if err != nil {
		return r.writeFailed(err)
	}
	// Deliver while the write syncs: the devices get the message one sync
	// sooner, and the sender's "sent" (Route's return) still waits for it.
	targets := targetsOf() // after the enqueue made it visible (see above)
	for _, d := range targets {
		d.Deliver(m, key, seq)
	}
	deferWait := a != nil && a.Defer
	if deferWait {
		// What the hooks route meanwhile (a feature's own stanzas) is
		// waited for before they return, as always: only the device's
		// message is left to its session.
		a.Defer = false
		defer func() { a.Defer = true }()
	}
	r.delivered(ctx, m, to, targets)
	if wait != nil {
		if deferWait {
			a.addWait(SettleFunc(func() *stanza.Error { return r.waitFailed(wait()) }))
		} else if err := wait(); err != nil {
			return r.writeFailed(err)
		}
	}
	if a != nil {
		a.StanzaID, a.Stored = id, time.Now()
	}
	return nil
}

// waitFailed is writeFailed for a deferred wait's error, nil for none.
func (r *Router) waitFailed(err error) *stanza.Error {
	if err == nil {
		return nil
	}
	return r.writeFailed(err)
}

// enqueue appends payload to the queue under key (store.StartEnqueue):
// visible on return, and durable once wait returns (wait nil: already).
func (r *Router) enqueue(ctx context.Context, key string, payload []byte) (seq uint64, wait func() error, err error) {
	return store.StartEnqueue(ctx, r.cfg.Queue, key, payload)
}

// writeFailed is the sender's error for a failed durable write.
func (r *Router) writeFailed(err error) *stanza.Error {
	r.cfg.Log.Error("offline queue write failed", "err", err)
	if errors.Is(err, store.ErrUnavailable) {
		return stanza.NewError(stanza.ResourceConstraint, "the server cannot store messages right now; try again later")
	}
	return stanza.NewError(stanza.InternalServerError, "")
}

// RouteStored stores ms, in order, in the queue of the local user to
// (one durable write) and hands them to the user's available devices,
// whatever their type (a service's messages, such as group messages of
// type groupchat). Each must already carry its stanza-id by to. The
// filter runs for each as for Route (a message it stops is skipped), the
// message hooks once all were handed over (Config.DeliveredAll).
func (r *Router) RouteStored(ctx context.Context, to jid.JID, ms ...*stanza.Element) *stanza.Error {
	return r.RouteStoredAll(ctx, []Stored{{To: to, Msgs: ms}})
}

// Stored is one local user's messages for RouteStoredAll.
type Stored struct {
	To jid.JID
	// Msgs may be posts (stanza.NewPost). RouteLogged hands a post
	// itself to To's local devices (which encode To's copy) and to the
	// message hooks, and keeps it in its record; where a message goes
	// to To's queue, the router makes To's copy of it.
	Msgs []*stanza.Element
	Seqs []uint64 // RouteLogged: the messages' positions in the log
}

// RouteStoredAll is RouteStored for many users: with a queue that has
// store.BatchQueue, all their messages are stored with one durable write;
// otherwise each user's with its own, concurrently (so that they share
// the backend's group commits). It returns an error if a write failed;
// then no device got the messages of a user whose write failed.
func (r *Router) RouteStoredAll(ctx context.Context, all []Stored) *stanza.Error {
	bs := make([]store.QueueBatch, len(all))
	kept := make([][]*stanza.Element, len(all))
	enc := payloadEncoder{codec: r.cfg.Codec}
	for i := range all {
		all[i].To = all[i].To.Bare()
		bs[i].Key = QueueKey(all[i].To)
		kept[i], bs[i].Payloads = r.storable(ctx, all[i], &enc)
	}
	if err := r.enqueueAll(ctx, bs); err != nil {
		r.cfg.Log.Error("offline queue write failed", "err", err)
		return stanza.NewError(stanza.InternalServerError, "")
	}
	for i, u := range all {
		if len(kept[i]) == 0 {
			continue
		}
		targets := r.availableNonNegative(u.To)
		for j, m := range kept[i] {
			for _, d := range targets {
				d.Deliver(m, bs[i].Key, bs[i].First+uint64(j))
			}
		}
		r.deliveredAll(ctx, kept[i], u.To, targets)
	}
	return nil
}

// deliveredAll runs the message hooks for ms, all handed to targets.
func (r *Router) deliveredAll(ctx context.Context, ms []*stanza.Element, to jid.JID, targets []Device) {
	if r.cfg.DeliveredAll != nil {
		r.cfg.DeliveredAll(ctx, ms, to, targets)
		return
	}
	for _, m := range ms {
		r.delivered(ctx, m, to, targets)
	}
}

// storable returns the messages of u the filter lets through and their
// encodings (a group post's copies are encoded from their post's
// template: stanza.Shared).
func (r *Router) storable(ctx context.Context, u Stored, enc *payloadEncoder) ([]*stanza.Element, [][]byte) {
	kept := make([]*stanza.Element, 0, len(u.Msgs))
	payloads := make([][]byte, 0, len(u.Msgs))
	for _, m := range u.Msgs {
		if r.cfg.Filter != nil {
			if ok, _ := r.cfg.Filter(ctx, m, u.To); !ok {
				continue
			}
		}
		m = stanza.For(m, u.To.String())
		kept = append(kept, m)
		payloads = append(payloads, enc.encode(m))
	}
	return kept, payloads
}

// payloadEncoder encodes the payloads of one RouteStoredAll call into
// shared buffers of payloadBuffer bytes when the codec can append
// (AppendCodec): a wave's copies for up to 256 members, about 70 to a
// buffer. Not one buffer for the whole call: a fresh multi-megabyte
// array costs page faults and cache misses on every use, where buffers
// of a small size class reuse warm memory.
type payloadEncoder struct {
	codec Codec
	buf   []byte
	last  int // the size of the last payload, to guess whether the next fits
}

// payloadBuffer is the size of payloadEncoder's buffers, the largest
// small-object size class.
const payloadBuffer = 32 << 10

// encode returns m's payload; with an AppendCodec it points into a shared
// buffer (a payload that outgrew its buffer is in the grown copy; the
// ones before stay valid in the old array).
func (e *payloadEncoder) encode(m *stanza.Element) []byte {
	ac, ok := e.codec.(AppendCodec)
	if !ok {
		return e.codec.Encode(m)
	}
	if cap(e.buf)-len(e.buf) < e.last || e.buf == nil {
		e.buf = make([]byte, 0, max(payloadBuffer, 2*e.last))
	}
	n := len(e.buf)
	e.buf = ac.AppendEncoded(e.buf, m)
	e.last = len(e.buf) - n
	return e.buf[n:len(e.buf):len(e.buf)]
}

// enqueueAll stores the batches: with one write if the queue can,
// otherwise one Enqueue per batch, concurrently.
func (r *Router) enqueueAll(ctx context.Context, bs []store.QueueBatch) error {
	if bq, ok := r.cfg.Queue.(store.BatchQueue); ok {
		return bq.EnqueueAll(ctx, bs)
	}
	errs := make([]error, len(bs))
	var wg sync.WaitGroup
	for i := range bs {
		if len(bs[i].Payloads) > 0 {
			wg.Go(func() { bs[i].First, errs[i] = r.cfg.Queue.Enqueue(ctx, bs[i].Key, bs[i].Payloads...) })
		}
	}
	wg.Wait()
	return errors.Join(errs...)
}

func (r *Router) delivered(ctx context.Context, m *stanza.Element, to jid.JID, targets []Device) {
	if r.cfg.Delivered != nil {
		r.cfg.Delivered(ctx, m, to, targets)
	}
}

// Assigned records what Route gave a message it stored durably: the
// stanza-id of the recipient's copy and when. A session asks for it with
// WithAssigned to send Parley's explicit "sent" ack.
//
// With Defer set (by the caller, before Route), Route returns as soon as a
// stored message is visible, before it is durable, and leaves the wait to
// the caller in Wait (nil when the message is already durable or was not
// stored). The message must not be acknowledged to its sender before
// Wait returned nil. A Wait whose message a sync already covered returns
// at once (store.QueueStarter): a device's burst of messages is routed one
// after the other, then their Waits are called in turn, and the first
// one's sync covers the others: one WAL sync for the burst instead of one
// each.
//
// With Batch set as well, a storable message to a user with no device
// online is not even stored by Route: it joins the batch, stored by the
// caller's Batch.Commit with the other messages of its read (see Batch).
type Assigned struct {
	StanzaID string
	Stored   time.Time
	Defer    bool
	Wait     Settlement // nil: durable already (or not stored)
	Batch    *Batch
	// Sender is the sending device's own session, if it is one: a
	// message to it is never pending (Pending).
	Sender Device
}

// A Settlement waits until a routed message is settled: durable, or
// acknowledged by its devices before it had to be (Pending). Settle
// returns the error the sender's ack gets instead, or nil. An interface,
// not a func: a message's *Pending (or its batch's commit) is one
// already, where a method value would be an allocation per message.
type Settlement interface{ Settle() *stanza.Error }

// SettleFunc is a func as a Settlement.
type SettleFunc func() *stanza.Error

// Settle calls f.
func (f SettleFunc) Settle() *stanza.Error { return f() }

// DeferSettlement makes the Assigned in ctx wait for w too when it defers
// its wait to the sending session (Assigned.Defer: the device's own
// message, while no hook of it runs), as Route does for a message it
// stored; false when ctx has no such Assigned and the caller must settle
// w itself.
func DeferSettlement(ctx context.Context, w Settlement) bool {
	a, ok := ctx.Value(assignedKey{}).(*Assigned)
	if !ok || !a.Defer {
		return false
	}
	a.addWait(w)
	return true
}

// addWait makes a's Wait wait for w too: a feature that routes several
// messages under one Assigned (a group's invitations) settles them all.
func (a *Assigned) addWait(w Settlement) {
	prev := a.Wait
	if prev == nil {
		a.Wait = w
		return
	}
	a.Wait = SettleFunc(func() *stanza.Error {
		err := prev.Settle()
		if err2 := w.Settle(); err == nil {
			err = err2
		}
		return err
	})
}

type assignedKey struct{}

// WithAssigned returns a context in which Route fills the returned
// Assigned when it stores a message.
func WithAssigned(ctx context.Context) (context.Context, *Assigned) {
	return WithAssignedTo(ctx, &Assigned{})
}

// WithAssignedTo is WithAssigned with the caller's Assigned (a session
// reuses one, and sets Defer).
func WithAssignedTo(ctx context.Context, a *Assigned) (context.Context, *Assigned) {
	return context.WithValue(ctx, assignedKey{}, a), a
}

// RecordAssigned fills the Assigned of ctx, if any (a service that stored
// a message itself).
func RecordAssigned(ctx context.Context, stanzaID string, stored time.Time) {
	if a, ok := ctx.Value(assignedKey{}).(*Assigned); ok {
		a.StanzaID, a.Stored = stanzaID, stored
	}
}

// DeliverToAvailable sends st to every available device of user.
func (r *Router) DeliverToAvailable(user jid.JID, st *stanza.Element) {
	for _, d := range r.cfg.Registry.Devices(user) {
		if d.Available() {
			d.Deliver(st, "", 0)
		}
	}
}

// Storable reports whether a message is kept for offline delivery: a chat
// or normal message with a body, a receipt, a chat marker, a call proposal
// (XEP-0353) or a store hint, unless the sender asked for no-store
// (XEP-0334). Chat states alone are never stored.
func Storable(m *stanza.Element) bool {
	switch m.Type() {
	case "", "normal", "chat":
	default:
		return false
	}
	worth := false
	for _, c := range m.Children {
		switch {
		case c.Space == stanza.NSHints && (c.Name == "no-store" || c.Name == "no-permanent-store"):
			return false
		case c.Space == stanza.NSHints && c.Name == "store":
			worth = true
		case c.Space == stanza.NSClient && c.Name == "body",
			c.Space == stanza.NSReceipts && c.Name == "received",
			c.Space == stanza.NSMarkers,
			c.Space == stanza.NSJingleMessage: // XEP-0353: a call proposed to an offline device
			worth = true
		}
	}
	return worth
}

// StampStanzaID returns a copy of m carrying a fresh server stanza-id
// (XEP-0359) by the recipient's bare JID; any stanza-id claiming to be by
// that JID is removed first, so that a sender cannot forge one.
func StampStanzaID(m *stanza.Element, by jid.JID) *stanza.Element {
	m, _ = stampStanzaID(m, by.String())
	return m
}

// stampStanzaID is StampStanzaID with the "by" address as a string; it
// also returns the new id. The copy shares m's children (a routed stanza
// is immutable): copying the whole tree was 15% of the objects the server
// allocated per one-to-one message.
func stampStanzaID(m *stanza.Element, by string) (*stanza.Element, string) {
	m = m.CopyTop(1)
	kept := m.Children[:0]
	for _, c := range m.Children {
		if c.Space == stanza.NSSID && c.Name == "stanza-id" && c.Attr("by") == by {
			continue
		}
		kept = append(kept, c)
	}
	clear(m.Children[len(kept):])
	m.Children = kept
	id := NewID()
	m.AddChild(stanza.NewElement(stanza.NSSID, "stanza-id", "id", id, "by", by))
	return m, id
}

// NewID returns a fresh random identifier (128 bits, base32).
func NewID() string { return rand.Text() }
