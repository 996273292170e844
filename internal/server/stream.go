package server

import (
	"context"
	"fmt"

	"github.com/parley-im/parley/internal/module"
	"github.com/parley-im/parley/internal/session"
	"github.com/parley-im/parley/internal/stanza"
)

// The stream extensions of module.StreamExtender: stream features offered
// after authentication and top-level elements (nonzas) of bound sessions.

// AddStreamFeature adds a post-authentication stream feature
// (module.StreamExtender).
func (h *Hub) AddStreamFeature(el *stanza.Element) {
	h.streamFeatures = append(h.streamFeatures, el)
}

// HandleNonza registers the handler of a nonza namespace
// (module.StreamExtender).
func (h *Hub) HandleNonza(ns string, fn module.NonzaHandler) error {
	if h.nonzas == nil {
		h.nonzas = make(map[string]module.NonzaHandler)
	}
	if _, dup := h.nonzas[ns]; dup {
		return fmt.Errorf("server: two handlers for nonza namespace %s", ns)
	}
	h.nonzas[ns] = fn
	return nil
}

// Nonza runs the feature handling el's namespace (session.Hub).
func (h *Hub) Nonza(ctx context.Context, s *session.Session, el *stanza.Element) bool {
	fn, ok := h.nonzas[el.Space]
	if !ok {
		return false
	}
	fn(ctx, s, el)
	return true
}

var (
	_ module.StreamExtender = hubHost{}
	_ module.Holdable       = (*session.Session)(nil)
)
