package server

import (
	"context"

	"github.com/parley-im/parley/internal/jid"
	"github.com/parley-im/parley/internal/module"
	"github.com/parley-im/parley/internal/router"
	"github.com/parley-im/parley/internal/stanza"
)

// The routing hooks of module.Host: filters before delivery to a local
// user, message hooks after it, and the end of every session.

// OnSessionEnded adds a hook run when any session ends (module.Host).
func (h *Hub) OnSessionEnded(fn module.EndedHook) { h.onEnded = append(h.onEnded, fn) }

// FilterRoute adds a route filter (module.Host).
func (h *Hub) FilterRoute(fn module.RouteFilter) { h.filters = append(h.filters, fn) }

// OnMessageRouted adds a hook run after a message was delivered (module.Host).
func (h *Hub) OnMessageRouted(fn module.MessageHook) { h.onMessage = append(h.onMessage, fn) }

// Disconnect closes every session of a user (module.Host).
func (h *Hub) Disconnect(user jid.JID, err *stanza.StreamError) {
	for _, d := range h.reg.Devices(user) {
		if s, ok := d.(closer); ok { // here or on another node
			s.Close(err, false)
		}
	}
}

// DisconnectDevice closes the sessions of one linked device
// (module.DeviceDisconnecter).
func (h *Hub) DisconnectDevice(user jid.JID, id string, err *stanza.StreamError) {
	for _, d := range h.reg.Devices(user) {
		if s, ok := d.(closer); ok && id != "" && s.LinkedDevice() == id {
			s.Close(err, false)
		}
	}
}

// filter runs the features' route filters (router.Config.Filter).
func (h *Hub) filter(ctx context.Context, st *stanza.Element, to jid.JID) (bool, *stanza.Error) {
	if len(h.filters) == 0 {
		return true, nil
	}
	from, err := st.From()
	if err != nil {
		return true, nil
	}
	for _, fn := range h.filters {
		if ok, refusal := fn(ctx, st, from, to); !ok {
			return false, refusal
		}
	}
	return true, nil
}

// delivered runs the message hooks (router.Config.Delivered).
func (h *Hub) delivered(ctx context.Context, m *stanza.Element, to jid.JID, targets []router.Device) {
	h.deliveredAll(ctx, []*stanza.Element{m}, to, targets)
}

// deliveredAll runs the message hooks for messages handed to the same
// devices (router.Config.DeliveredAll), with one list of sessions for all
// of them: a group's wave gives each member many copies.
func (h *Hub) deliveredAll(ctx context.Context, ms []*stanza.Element, to jid.JID, targets []router.Device) {
	if len(h.onMessage) == 0 {
		return
	}
	got := sessionsOf(targets)
	for _, m := range ms {
		for _, fn := range h.onMessage {
			fn(ctx, m, to, got)
		}
	}
}

// sessionsOf is targets as the hooks see them.
func sessionsOf(targets []router.Device) []module.Session {
	got := make([]module.Session, len(targets))
	for i, d := range targets {
		got[i] = d
	}
	return got
}
