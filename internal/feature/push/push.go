package push

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/parley-im/parley/internal/jid"
	"github.com/parley-im/parley/internal/module"
	"github.com/parley-im/parley/internal/stanza"
	"github.com/parley-im/parley/internal/store"
)

// Options are the feature's settings.
type Options struct {
	// Components are the app-server domains reached over XMPP: XEP-0114
	// components configured on this server. A registration whose JID is
	// in one of them gets pubsub publishes.
	Components []string
	// Webhook, when its URL is set, gets the notifications of every other
	// registration as signed JSON POSTs.
	Webhook WebhookOptions
	// IncludeBody sends the last message's body in notifications. Off by
	// default: the app server (and the phone vendor's push service) then
	// never sees message text.
	IncludeBody bool
	// Interval is the shortest time between two notifications of one
	// account; messages in between are counted into the next. Default 5s.
	Interval time.Duration
	// QueueSize bounds the messages waiting for the worker; more are
	// dropped and counted. Default 4096.
	QueueSize int
	// PublishTimeout is how long an app server has to answer a publish.
	// Default 10s.
	PublishTimeout time.Duration
	// Metrics, when not nil, count what the feature does.
	Metrics *Metrics
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// ErrInvalidOptions is returned (wrapped) by New for bad Options.
var ErrInvalidOptions = errors.New("push: invalid options")

func (o *Options) defaults() error {
	if len(o.Components) == 0 && o.Webhook.URL == "" {
		return fmt.Errorf("%w: no component and no webhook: notifications could reach no app server", ErrInvalidOptions)
	}
	if o.Interval <= 0 {
		o.Interval = 5 * time.Second
	}
	if o.QueueSize <= 0 {
		o.QueueSize = 4096
	}
	if o.PublishTimeout <= 0 {
		o.PublishTimeout = 10 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o.Webhook.defaults()
}

// Store is what the feature needs from storage.
type Store interface {
	store.Push
}

// Feature is the push notifications module.
type Feature struct {
	st   Store
	opts Options
	q    chan event
	hook *webhook // nil without a webhook

	// Set by Register, read-only afterwards.
	host module.Host
	req  module.IQRequester
	log  *slog.Logger

	mu    sync.Mutex
	cache map[string]cached // by bare JID; bounded; guarded by mu
}

// cached is a user's registrations as read from the store at some time.
type cached struct {
	regs []store.PushRegistration
	at   time.Time
}

// event is what the routing path hands the worker: a message for an
// offline account, or an account back online (reset).
type event struct {
	user, sender, body string
	reset              bool
}

// New returns the feature.
func New(st Store, opts Options) (*Feature, error) {
	if err := opts.defaults(); err != nil {
		return nil, err
	}
	f := &Feature{st: st, opts: opts, q: make(chan event, opts.QueueSize),
		log: slog.New(slog.DiscardHandler), cache: make(map[string]cached)}
	if opts.Webhook.URL != "" {
		f.hook = newWebhook(opts.Webhook, opts.Metrics)
	}
	return f, nil
}

// Name implements module.Feature.
func (f *Feature) Name() string { return "push" }

// Register implements module.Feature.
func (f *Feature) Register(h module.Host) error {
	f.host, f.log = h, h.Log()
	if f.hook != nil {
		f.hook.log = f.log
	}
	req, ok := h.(module.IQRequester)
	if !ok && len(f.opts.Components) > 0 {
		return errors.New("push: the host cannot send iq requests (module.IQRequester)")
	}
	f.req = req
	h.AddDiscoFeature(NS)
	if ad, ok := h.(module.AccountDisco); ok {
		ad.AddAccountDiscoFeature(NS)
	}
	h.OnMessageRouted(f.routed)
	h.OnAvailable(f.online)
	return h.HandleIQ(NS, module.ToOwnAccount, f.command)
}

// command answers <enable/> and <disable/> (iq set to the own account).
func (f *Feature) command(ctx context.Context, iq *stanza.Element) (*stanza.Element, error) {
	from, err := iq.From()
	if err != nil || iq.Type() != "set" {
		return nil, stanza.NewError(stanza.BadRequest, "send <enable/> or <disable/> in an iq set")
	}
	user := from.Bare().String()
	switch q := iq.Children[0]; q.Name {
	case "enable":
		return nil, f.enable(ctx, user, q)
	case "disable":
		return nil, f.disable(ctx, user, q)
	}
	return nil, stanza.NewError(stanza.BadRequest, "send <enable/> or <disable/>")
}

func (f *Feature) enable(ctx context.Context, user string, q *stanza.Element) error {
	r, serr := parseEnable(q)
	if serr != nil {
		return serr
	}
	if !f.reachable(r.Service) {
		return stanza.NewError(stanza.RemoteServerNotFound, "this server cannot reach that app server")
	}
	regs, err := f.registrations(ctx, user)
	if err != nil {
		return err
	}
	if len(regs) >= maxRegistrations && !slices.ContainsFunc(regs, func(o store.PushRegistration) bool {
		return o.Service == r.Service && o.Node == r.Node
	}) {
		return stanza.NewError(stanza.NotAcceptable, "too many push registrations; disable one first")
	}
	r.Created = f.opts.Now().UTC().Truncate(time.Microsecond)
	if err := f.st.AddPushRegistration(ctx, user, r); err != nil {
		return fmt.Errorf("push: enabling for %s: %w", user, err)
	}
	f.forget(user)
	f.log.Info("push enabled", "user", user, "service", r.Service)
	return nil
}

func (f *Feature) disable(ctx context.Context, user string, q *stanza.Element) error {
	service, err := jid.Parse(q.Attr("jid"))
	if err != nil || q.Attr("jid") == "" {
		return stanza.NewError(stanza.JIDMalformed, "the app server's jid is missing or invalid")
	}
	if _, err := f.st.RemovePushRegistrations(ctx, user, service.String(), q.Attr("node")); err != nil {
		return fmt.Errorf("push: disabling for %s: %w", user, err)
	}
	f.forget(user)
	f.log.Info("push disabled", "user", user, "service", service.String())
	return nil
}

// reachable reports whether notifications to service can be delivered:
// its domain is a component's, or a webhook takes the others.
func (f *Feature) reachable(service string) bool {
	return f.viaComponent(service) || f.hook != nil
}

func (f *Feature) viaComponent(service string) bool {
	j, err := jid.Parse(service)
	return err == nil && slices.Contains(f.opts.Components, j.Domain())
}

// The registration cache: at most maxCached users (past it, it starts
// over), each entry trusted for cacheTTL. This node's changes update it at
// once; another node's (a cluster sharing PostgreSQL) are seen within
// cacheTTL.
const (
	maxCached = 10000
	cacheTTL  = time.Minute
)

// registrations returns the user's registrations, from the cache or the
// store.
func (f *Feature) registrations(ctx context.Context, user string) ([]store.PushRegistration, error) {
	now := f.opts.Now()
	f.mu.Lock()
	c, ok := f.cache[user]
	f.mu.Unlock()
	if ok && now.Sub(c.at) < cacheTTL {
		return c.regs, nil
	}
	regs, err := f.st.PushRegistrations(ctx, user)
	if err != nil {
		return nil, fmt.Errorf("push: registrations of %s: %w", user, err)
	}
	f.mu.Lock()
	if len(f.cache) >= maxCached {
		clear(f.cache)
	}
	f.cache[user] = cached{regs: regs, at: now}
	f.mu.Unlock()
	return regs, nil
}

// forget drops the user's cached registrations after a change.
func (f *Feature) forget(user string) {
	f.mu.Lock()
	delete(f.cache, user)
	f.mu.Unlock()
}

// detachable is a session that may be waiting for stream-management
// resumption (the core's sessions are); Detached must not block.
type detachable interface{ Detached() bool }

// routed hands the worker each important message stored for an account
// none of whose devices got it live: none was available, or the ones that
// got it are detached, waiting for resumption (module.MessageHook). It
// never blocks: when the queue is full the message is counted as dropped.
func (f *Feature) routed(_ context.Context, m *stanza.Element, to jid.JID, delivered []module.Session) {
	user := to.Bare().String()
	if !important(m) || !storedFor(m, user) || liveDevice(delivered) {
		return
	}
	from, err := m.From()
	// A group's copy of the user's own post comes from <group>/<user>.
	if err != nil || from.Bare() == to.Bare() || (m.Type() == "groupchat" && from.Resource() == user) {
		return
	}
	ev := event{user: user, sender: from.Bare().String()}
	if f.opts.IncludeBody {
		ev.body = m.Body()
	}
	f.enqueue(ev)
}

// liveDevice reports whether one of the devices is connected (not detached).
func liveDevice(delivered []module.Session) bool {
	for _, s := range delivered {
		if d, ok := s.(detachable); !ok || !d.Detached() {
			return true
		}
	}
	return false
}

// online resets the account's count when a device becomes available
// (module.AvailableHook).
func (f *Feature) online(_ context.Context, s module.Session, initial bool) {
	if initial {
		f.enqueue(event{user: s.JID().Bare().String(), reset: true})
	}
}

// Wake notifies the app servers of user (a bare JID) of an incoming call
// from caller, as for a message stored while none of its devices is
// connected; throttled and counted like messages. It never blocks.
func (f *Feature) Wake(_ context.Context, user, caller jid.JID) {
	f.enqueue(event{user: user.Bare().String(), sender: caller.Bare().String()})
}

func (f *Feature) enqueue(ev event) {
	select {
	case f.q <- ev:
	default:
		f.opts.Metrics.count(outcomeDropped)
	}
}
