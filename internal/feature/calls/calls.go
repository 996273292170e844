package calls

import (
	"context"
	"sync"
	"time"

	"github.com/parley-im/parley/internal/jid"
	"github.com/parley-im/parley/internal/module"
	"github.com/parley-im/parley/internal/stanza"
	"github.com/parley-im/parley/internal/store"
)

// NS is the namespace of Parley's call signalling.
const NS = "urn:parley:call:0"

// Limits on what a device may send.
const (
	MaxSDPBytes       = 32 << 10 // an offer's or answer's session description
	MaxCandidateBytes = 1024     // one ICE candidate
	MaxCandidates     = 256      // per call, both parties together
	OffersPerMinute   = 10       // per user
)

// Options configure the feature.
type Options struct {
	// RingTimeout is how long a call rings before it is missed. Default 45s.
	RingTimeout time.Duration
	// Wake, when set, asks the push service to wake the callee's phone
	// (none of whose devices is connected) for an incoming call.
	Wake func(ctx context.Context, callee, caller jid.JID)
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Store is what the feature needs from storage: whether an account exists.
type Store interface {
	GetAccount(ctx context.Context, jid string) (store.Account, error)
}

// Feature is the calls module.
type Feature struct {
	st   Store
	opts Options
	host module.Host // set by Register

	mu     sync.Mutex
	calls  map[string]*call   // by id; guarded by mu
	busy   map[string]*call   // by the bare JIDs of both parties; guarded by mu
	offers map[string]*window // offer rate per caller; guarded by mu
}

// call is one call, ringing or answered.
type call struct {
	id       string
	caller   jid.JID // full: the device that called
	callee   jid.JID // bare
	media    string  // audio or video
	sdp      string  // the offer, for devices that come online while it rings
	ringing  map[string]bool
	answered jid.JID // the device that accepted; zero while ringing
	rang     bool    // the caller was told it rings
	cands    int
	timer    *time.Timer
}

type window struct {
	start time.Time
	n     int
}

// New returns the feature.
func New(st Store, opts Options) *Feature {
	if opts.RingTimeout <= 0 {
		opts.RingTimeout = 45 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Feature{st: st, opts: opts, calls: make(map[string]*call), busy: make(map[string]*call),
		offers: make(map[string]*window)}
}

// Name implements module.Feature.
func (f *Feature) Name() string { return "calls" }

// Register implements module.Feature.
func (f *Feature) Register(h module.Host) error {
	f.host = h
	h.AddDiscoFeature(NS)
	h.OnAvailable(f.online)
	h.OnSessionEnded(f.ended)
	return h.HandleIQ(NS, module.ToServer, f.request)
}

// Active is the number of calls ringing or in progress.
func (f *Feature) Active() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.calls)
}

var errNoCall = stanza.NewError(stanza.ItemNotFound, "no such call")

// request handles one iq set from a device.
func (f *Feature) request(ctx context.Context, iq *stanza.Element) (*stanza.Element, error) {
	from, err := iq.From()
	if err != nil || from.Local() == "" || from.Resource() == "" || iq.Type() != "set" {
		return nil, stanza.NewError(stanza.BadRequest, "call requests are iq set from a device")
	}
	q := iq.Children[0]
	var res *stanza.Element
	var after func()
	switch q.Name {
	case "offer":
		res, err = f.offer(ctx, from, q)
	case "ringing":
		err = f.ringingFrom(from, q.Attr("id"))
	case "accept":
		err = f.accept(from, q)
	case "reject":
		err = f.reject(from, q.Attr("id"), q.Attr("reason"))
	case "terminate":
		after, err = f.terminate(from, q.Attr("id"), q.Attr("reason"))
	case "candidate":
		err = f.candidate(from, q)
	default:
		err = stanza.NewError(stanza.BadRequest, "unknown call request <"+q.Name+"/>")
	}
	if after != nil {
		after()
	}
	if err != nil {
		return nil, err
	}
	r := stanza.Result(iq)
	if res != nil {
		r.AddChild(res)
	}
	return r, nil
}

// window check: at most OffersPerMinute offers per caller.
func (f *Feature) allowOffer(user string, now time.Time) bool {
	w := f.offers[user]
	if w == nil || now.Sub(w.start) >= time.Minute {
		if len(f.offers) > 10000 {
			clear(f.offers)
		}
		w = &window{start: now}
		f.offers[user] = w
	}
	w.n++
	return w.n <= OffersPerMinute
}
