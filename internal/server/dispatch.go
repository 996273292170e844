package server

import (
	"context"
	"errors"

	"github.com/parley-im/parley/internal/jid"
	"github.com/parley-im/parley/internal/module"
	"github.com/parley-im/parley/internal/router"
	"github.com/parley-im/parley/internal/session"
	"github.com/parley-im/parley/internal/stanza"
	"github.com/parley-im/parley/internal/store"
)

func isNotFound(err error) bool { return errors.Is(err, store.ErrNotFound) }

// Dispatch processes one stanza from a device (session.Hub). It returns a
// reply for that device, or nil.
func (h *Hub) Dispatch(ctx context.Context, s *session.Session, st *stanza.Element) *stanza.Element {
	to, err := st.To()
	if err != nil {
		return stanza.ErrorReply(st, stanza.NewError(stanza.JIDMalformed, "invalid 'to' address"))
	}
	switch st.Name {
	case stanza.KindIQ:
		if h.dir != nil {
			defer h.announceChanged(s, h.dirStateOf(s))
		}
		return h.dispatchIQ(ctx, s, st, to)
	case stanza.KindPresence:
		if h.dir != nil && to.IsZero() {
			h.dir.Changed(s) // before the broadcast: contacts on other nodes may answer at once
		}
		if h.presence != nil && h.presence(ctx, s, st) {
			return nil
		}
		if to.IsZero() {
			return nil
		}
	case stanza.KindMessage:
		if to.IsZero() {
			st.SetAttr("to", s.JID().Bare().String())
		}
	}
	if rerr := h.router.Route(ctx, st); rerr != nil {
		return stanza.ErrorReply(st, rerr)
	}
	return nil
}

// dispatchIQ answers iq stanzas addressed to the server or the sender's own
// account, and routes the others.
func (h *Hub) dispatchIQ(ctx context.Context, s *session.Session, iq *stanza.Element, to jid.JID) *stanza.Element {
	own := s.JID().Bare()
	var targets []module.Target
	switch {
	case to.IsZero():
		targets = []module.Target{module.ToOwnAccount, module.ToServer}
	case to.Local() == "" && to.Domain() == h.domain && to.IsBare():
		targets = []module.Target{module.ToServer}
	case to == own:
		targets = []module.Target{module.ToOwnAccount}
	default:
		if rerr := h.router.Route(ctx, iq); rerr != nil {
			return stanza.ErrorReply(iq, rerr)
		}
		return nil
	}
	reply := h.answerIQ(ctx, iq, targets)
	if reply != nil && reply.Attr("from") == "" && !to.IsZero() {
		reply.SetAttr("from", to.String())
	}
	return reply
}

// answerIQ runs the handler for the iq's payload namespace.
func (h *Hub) answerIQ(ctx context.Context, iq *stanza.Element, targets []module.Target) *stanza.Element {
	typ := iq.Type()
	if typ == "result" || typ == "error" {
		h.response(ctx, iq) // responses to the server's own requests go to their sender
		return nil
	}
	if (typ != "get" && typ != "set") || len(iq.Children) != 1 || iq.ID() == "" {
		return stanza.ErrorReply(iq, stanza.NewError(stanza.BadRequest, "an iq request has an id, a type of get or set, and one payload"))
	}
	ns := iq.Children[0].Space
	for _, t := range targets {
		fn, ok := h.iq[iqKey{ns, t}]
		if !ok {
			continue
		}
		resp, err := fn(ctx, iq)
		if errors.Is(err, module.ErrReplied) {
			return nil
		}
		if err != nil {
			var se *stanza.Error
			if !errors.As(err, &se) {
				h.log.Error("iq handler failed", "ns", ns, "err", err)
				se = stanza.NewError(stanza.InternalServerError, "")
			}
			return stanza.ErrorReply(iq, se)
		}
		if resp == nil {
			resp = stanza.Result(iq)
		}
		return resp
	}
	return stanza.ErrorReply(iq, stanza.NewError(stanza.ServiceUnavailable, ""))
}

// local handles what the router passes back: presence to local users,
// iq to a user's bare JID, stanzas to the domain.
func (h *Hub) local(ctx context.Context, st *stanza.Element, to jid.JID) {
	switch st.Name {
	case stanza.KindPresence:
		if h.presenceInbound != nil && to.Local() != "" {
			h.presenceInbound(ctx, st, to)
		}
	case stanza.KindIQ:
		target := module.ToOtherAccount
		if to.Local() == "" {
			target = module.ToServer
		}
		reply := h.answerIQ(ctx, st, []module.Target{target})
		if reply == nil {
			return
		}
		if reply.Attr("from") == "" {
			reply.SetAttr("from", to.String())
		}
		_ = h.router.Route(ctx, reply)
	}
}

// PresenceChanged runs the availability hooks (session.Hub).
func (h *Hub) PresenceChanged(ctx context.Context, s *session.Session, available, initial bool) {
	if available {
		for _, fn := range h.onAvailable {
			fn(ctx, s, initial)
		}
		if initial && h.dir != nil {
			h.dir.CatchUp(s)
		}
		return
	}
	for _, fn := range h.onUnavailable {
		fn(ctx, s, false)
	}
}

// Resumable indexes a session by its resumption id (session.Hub).
func (h *Hub) Resumable(s *session.Session) {
	h.mu.Lock()
	h.resumable[s.ResumptionID()] = s
	h.mu.Unlock()
}

// Ended unregisters a session that is gone (session.Hub).
func (h *Hub) Ended(ctx context.Context, s *session.Session, wasAvailable bool) {
	h.reg.Remove(s)
	if h.dir != nil {
		h.dir.Down(s)
	}
	h.mu.Lock()
	if h.resumable[s.ResumptionID()] == s {
		delete(h.resumable, s.ResumptionID())
	}
	h.mu.Unlock()
	if wasAvailable {
		for _, fn := range h.onUnavailable {
			fn(ctx, s, true)
		}
	}
	for _, fn := range h.onEnded {
		fn(ctx, s)
	}
}

// Bounce answers an iq request that its recipient will never see (session.Hub).
func (h *Hub) Bounce(ctx context.Context, st *stanza.Element) {
	h.bounceError(ctx, st, stanza.NewError(stanza.ServiceUnavailable, ""))
}

// Bind starts a new session (c2s.Binder).
func (h *Hub) Bind(ctx context.Context, full jid.JID, tr session.Transport) *session.Session {
	s := session.New(ctx, h.sessCfg, h, full, tr)
	old := h.reg.Add(s)
	if h.dir != nil {
		h.dir.Up(s)
	}
	if oc, ok := old.(closer); ok { // a session here, or on another node
		oc.Close(stanza.NewStreamError(stanza.StreamConflict, "replaced by a new connection with the same resource"), false)
	}
	h.closeIfShuttingDown(s)
	return s
}

// closeIfShuttingDown ends a session that arrived while the server shuts
// down. Shutdown sets closing before it closes the registry's sessions, and
// sessions are added before this check: each session is closed by one or
// the other.
func (h *Hub) closeIfShuttingDown(s *session.Session) {
	if h.closing.Load() {
		s.Close(stanza.NewStreamError(stanza.StreamSystemShutdown, "the server is shutting down"), false)
	}
}

// Resume attaches a connection to a resumable session (c2s.Binder): one
// of this process, or else one handed off by another process or node,
// from its resumption record.
func (h *Hub) Resume(ctx context.Context, user jid.JID, id string, ack uint32, tr session.Transport) (*session.Session, bool) {
	h.mu.Lock()
	s := h.resumable[id]
	h.mu.Unlock()
	if s == nil {
		return h.resumeFromRecord(ctx, user, id, ack, tr)
	}
	if s.JID().Bare() != user || s.LinkedDevice() != session.LinkedDeviceOf(tr) {
		return nil, false
	}
	if !s.Resume(tr, ack) {
		return nil, false
	}
	h.closeIfShuttingDown(s)
	return s, true
}

// Sessions are the router's devices.
var _ router.Device = (*session.Session)(nil)

// resumeFromRecord resumes a session another process (or node) handed off:
// it takes its record (if the user and device own it and it has not
// expired: a record is used once), registers the restored session as Bind
// does, and starts it.
func (h *Hub) resumeFromRecord(ctx context.Context, user jid.JID, id string, ack uint32, tr session.Transport) (*session.Session, bool) {
	if h.sessCfg.Resumptions == nil || id == "" {
		return nil, false
	}
	rec, err := h.sessCfg.Resumptions.TakeResumption(ctx, id, user.String(), session.LinkedDeviceOf(tr), h.sessCfg.Now())
	if err != nil {
		if !isNotFound(err) {
			h.log.Warn("reading a resumption record", "user", user.String(), "err", err)
		} else {
			h.log.Debug("no resumption record to resume", "user", user.String(), "id", id)
		}
		return nil, false
	}
	s, err := session.Restore(ctx, h.sessCfg, h, rec, tr)
	if err != nil {
		h.log.Warn("restoring a handed-off session", "user", user.String(), "err", err)
		return nil, false
	}
	register := func() {
		old := h.reg.Add(s)
		if h.dir != nil {
			h.dir.Up(s)
		}
		if oc, ok := old.(closer); ok {
			oc.Close(stanza.NewStreamError(stanza.StreamConflict, "replaced by a resumed session"), false)
		}
	}
	if !s.StartRestored(ack, rec.Presence, register) {
		return nil, false
	}
	h.closeIfShuttingDown(s)
	return s, true
}
