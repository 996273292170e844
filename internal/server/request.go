package server

import (
	"context"
	"time"

	"github.com/parley-im/parley/internal/module"
	"github.com/parley-im/parley/internal/router"
	"github.com/parley-im/parley/internal/stanza"
)

// pendingIQ is a request sent for a feature (module.IQRequester).
type pendingIQ struct {
	to    string // who must answer
	fn    module.ResponseHandler
	timer *time.Timer
}

// RequestIQ sends a feature's iq request and remembers whom it waits for
// (module.IQRequester).
func (h *Hub) RequestIQ(ctx context.Context, iq *stanza.Element, timeout time.Duration, fn module.ResponseHandler) {
	id := "srv-" + router.NewID()
	iq.SetAttr("id", id)
	if iq.Attr("from") == "" {
		iq.SetAttr("from", h.domain)
	}
	p := &pendingIQ{to: iq.Attr("to"), fn: fn}
	h.mu.Lock()
	if h.pendingIQ == nil {
		h.pendingIQ = make(map[string]*pendingIQ)
	}
	h.pendingIQ[id] = p
	p.timer = time.AfterFunc(timeout, func() {
		if h.takePending(id, p.to) != nil {
			fn(ctx, nil)
		}
	})
	h.mu.Unlock()
	if err := h.router.Route(ctx, iq); err != nil && h.takePending(id, p.to) != nil {
		p.timer.Stop()
		fn(ctx, stanza.ErrorReply(iq, err))
	}
}

// takePending removes and returns the request id sent to to, or nil.
func (h *Hub) takePending(id, to string) *pendingIQ {
	h.mu.Lock()
	defer h.mu.Unlock()
	p := h.pendingIQ[id]
	if p == nil || p.to != to {
		return nil
	}
	delete(h.pendingIQ, id)
	return p
}

// response hands an iq result or error addressed to the server to the
// feature that asked; other responses are dropped.
func (h *Hub) response(ctx context.Context, iq *stanza.Element) {
	p := h.takePending(iq.ID(), iq.Attr("from"))
	if p == nil {
		return
	}
	p.timer.Stop()
	p.fn(ctx, iq)
}

var _ module.IQRequester = hubHost{}
