package devices

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/parley-im/parley/internal/devicelink"
	"github.com/parley-im/parley/internal/jid"
	"github.com/parley-im/parley/internal/module"
	"github.com/parley-im/parley/internal/stanza"
	"github.com/parley-im/parley/internal/store"
)

// NS is the feature's namespace.
const NS = devicelink.NS

// maxNameBytes bounds a device's name.
const maxNameBytes = 128

// Store is what the feature needs of the backend (store.Devices).
type Store interface {
	AddDevice(ctx context.Context, user string, d store.Device, limit int) error
	ListDevices(ctx context.Context, user string) ([]store.Device, error)
	RevokeDevice(ctx context.Context, user, id string) error
}

// Options configure the feature.
type Options struct {
	// MaxDevices is the most devices an account may link (default 4).
	MaxDevices int
	// Rotation is how long one pairing reference is valid (default 20s).
	Rotation time.Duration
	// Timeout is how long a pairing stream may wait for a link (default 2m).
	Timeout time.Duration
	// MaxPending bounds the pairings waiting at once (default 10,000).
	MaxPending int
	// MaxPerIP bounds the pairings waiting at once from one client
	// address, an IPv6 one by /64 (default 16), so that one client cannot
	// take them all.
	MaxPerIP int
}

// DefaultOptions are the defaults documented on Options.
func DefaultOptions() Options {
	return Options{MaxDevices: 4, Rotation: 20 * time.Second, Timeout: 2 * time.Minute, MaxPending: 10000, MaxPerIP: 16}
}

// Validate checks the options.
func (o Options) Validate() error {
	if o.MaxDevices <= 0 || o.Rotation <= 0 || o.Timeout < o.Rotation || o.MaxPending <= 0 || o.MaxPerIP <= 0 {
		return fmt.Errorf("devices: bad options %+v", o)
	}
	return nil
}

// Feature is the linked-devices module.
type Feature struct {
	store Store
	opts  Options
	now   func() time.Time
	host  module.Host // set by Register, read-only afterwards

	mu      sync.Mutex
	pending map[string]*pairing // guarded by mu; by current reference
	perIP   map[netip.Addr]int  // guarded by mu; pending pairings by client address group (auth.LimiterKey)
}

// New returns the feature.
func New(st Store, opts Options) (*Feature, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	return &Feature{store: st, opts: opts, now: time.Now, pending: make(map[string]*pairing),
		perIP: make(map[netip.Addr]int)}, nil
}

// Name implements module.Feature.
func (f *Feature) Name() string { return "devices" }

// Register implements module.Feature.
func (f *Feature) Register(h module.Host) error {
	f.host = h
	h.AddDiscoFeature(NS)
	return h.HandleIQ(NS, module.ToServer, f.handle)
}

// handle dispatches <link/>, <list/> and <revoke/>.
func (f *Feature) handle(ctx context.Context, iq *stanza.Element) (*stanza.Element, error) {
	from, err := iq.From()
	if err != nil {
		return nil, stanza.NewError(stanza.JIDMalformed, "")
	}
	s := f.host.Session(from)
	if s == nil {
		return nil, stanza.NewError(stanza.ItemNotFound, "")
	}
	q := iq.Children[0]
	switch {
	case q.Name == "list" && iq.Type() == "get":
		return f.list(ctx, iq, from.Bare())
	case (q.Name == "link" || q.Name == "revoke") && iq.Type() == "set":
		if module.LinkedDevice(s) != "" {
			return nil, stanza.NewError(stanza.NotAllowed, "only a device logged in with the password may link or revoke devices")
		}
		if q.Name == "link" {
			return f.link(ctx, iq, q, from.Bare())
		}
		return f.revoke(ctx, iq, q.Attr("id"), from.Bare())
	}
	return nil, stanza.NewError(stanza.BadRequest, "send <list/> in an iq get, <link/> or <revoke/> in an iq set")
}

// list answers the account's devices, oldest id order.
func (f *Feature) list(ctx context.Context, iq *stanza.Element, user jid.JID) (*stanza.Element, error) {
	devs, err := f.store.ListDevices(ctx, user.String())
	if err != nil {
		return nil, err
	}
	out := stanza.NewElement(NS, "list", "max", strconv.Itoa(f.opts.MaxDevices))
	for _, d := range devs {
		el := stanza.NewElement(NS, "device", "id", d.ID, "name", d.Name, "created", stamp(d.Created))
		if !d.LastSeen.IsZero() {
			el.SetAttr("last-seen", stamp(d.LastSeen))
		}
		if f.online(user, d.ID) {
			el.SetAttr("online", "true")
		}
		out.AddChild(el)
	}
	return stanza.Result(iq).AddChild(out), nil
}

// online reports whether the linked device id has a session.
func (f *Feature) online(user jid.JID, id string) bool {
	for _, s := range f.host.Sessions(user) {
		if module.LinkedDevice(s) == id {
			return true
		}
	}
	return false
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// revoke deletes a device and closes its sessions.
func (f *Feature) revoke(ctx context.Context, iq *stanza.Element, id string, user jid.JID) (*stanza.Element, error) {
	if id == "" {
		return nil, stanza.NewError(stanza.BadRequest, "<revoke/> needs the device's id")
	}
	err := f.store.RevokeDevice(ctx, user.String(), id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, stanza.NewError(stanza.ItemNotFound, "no linked device "+id)
	}
	if err != nil {
		return nil, err
	}
	if d, ok := f.host.(module.DeviceDisconnecter); ok {
		d.DisconnectDevice(user, id, stanza.NewStreamError(stanza.StreamNotAuthorized, "this device was unlinked from the account"))
	}
	f.host.Log().Info("device revoked", "user", user.String(), "device", id)
	return nil, nil
}

// link confirms a pairing: it creates the device and hands the sealed
// credential to the waiting new device.
func (f *Feature) link(ctx context.Context, iq, q *stanza.Element, user jid.JID) (*stanza.Element, error) {
	name := q.Attr("name")
	if name == "" {
		name = "linked device"
	}
	if len(name) > maxNameBytes || !utf8.ValidString(name) {
		return nil, stanza.NewError(stanza.BadRequest, "the device name is too long")
	}
	key, kerr := devicelink.DecodeKey(q.Attr("key"))
	p, err := f.claim(q.Attr("ref"), key, kerr)
	if err != nil {
		return nil, err
	}
	d := store.Device{ID: devicelink.NewDeviceID(), Name: name, Created: f.now().UTC().Truncate(time.Second)}
	token := devicelink.NewToken()
	d.TokenHash = devicelink.HashToken(token)
	if err := f.store.AddDevice(ctx, user.String(), d, f.opts.MaxDevices); err != nil {
		f.unclaim(p)
		if errors.Is(err, store.ErrLimit) {
			return nil, stanza.NewError(stanza.ResourceConstraint,
				fmt.Sprintf("at most %d linked devices: revoke one first", f.opts.MaxDevices))
		}
		return nil, err
	}
	eph, sealed, err := devicelink.Seal(p.key, []byte(token), devicelink.AAD(user.String(), d.ID))
	if err != nil { // the key was checked at <pair/>: cannot happen
		return nil, err
	}
	p.done <- credential{jid: user.String(), id: d.ID, eph: eph, sealed: sealed}
	f.host.Log().Info("device linked", "user", user.String(), "device", d.ID)
	return stanza.Result(iq).AddChild(stanza.NewElement(NS, "device", "id", d.ID, "name", d.Name, "created", stamp(d.Created))), nil
}
