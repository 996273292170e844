package server

import (
	"context"
	"fmt"

	"github.com/parley-im/parley/internal/feature/groups"
	"github.com/parley-im/parley/internal/jid"
	"github.com/parley-im/parley/internal/mamquery"
	"github.com/parley-im/parley/internal/module"
	"github.com/parley-im/parley/internal/router"
	"github.com/parley-im/parley/internal/stanza"
)

// HandleService gives a feature a service domain (module.ServiceHost).
func (h *Hub) HandleService(domain string, fn module.ServiceHandler) error {
	if _, dup := h.services[domain]; dup {
		return fmt.Errorf("server: two handlers for service %s", domain)
	}
	if h.services == nil {
		h.services = make(map[string]module.ServiceHandler)
	}
	h.services[domain] = fn
	return nil
}

// DeliverStored stores messages for a local user and delivers them
// (module.StoredDeliverer).
func (h *Hub) DeliverStored(ctx context.Context, ds []module.StoredDelivery) *stanza.Error {
	all := make([]router.Stored, len(ds))
	for i, d := range ds {
		all[i] = router.Stored{To: d.To, Msgs: d.Msgs}
	}
	return h.router.RouteStoredAll(ctx, all)
}

// DeliverLogged hands a log's entries to local users, live devices
// without a queue copy (module.LogDeliverer); in a cluster every copy
// goes through the queue, as DeliverStored (a device on another node
// acknowledges to its own node).
func (h *Hub) DeliverLogged(ctx context.Context, key string, ds []module.StoredDelivery) *stanza.Error {
	if h.dir != nil {
		return h.DeliverStored(ctx, ds)
	}
	all := make([]router.Stored, len(ds))
	for i, d := range ds {
		all[i] = router.Stored{To: d.To, Msgs: d.Msgs, Seqs: d.Seqs}
	}
	return h.router.RouteLogged(ctx, key, all)
}

// SettleLog writes released log positions to queues (module.LogDeliverer).
func (h *Hub) SettleLog(ctx context.Context, key string) *stanza.Error {
	return h.router.SettleLog(ctx, key)
}

// LogLowWater is the log's smallest unsettled position (module.LogDeliverer).
func (h *Hub) LogLowWater(key string) (uint64, bool) { return h.router.LogLowWater(key) }

// OnLogReleased sets the log owner's wake (module.LogDeliverer).
func (h *Hub) OnLogReleased(key string, wake func()) { h.router.OnLogReleased(key, wake) }

// DeferDurability leaves a service's durable wait to the sending device's
// session (module.DurabilityDeferrer).
func (h *Hub) DeferDurability(ctx context.Context, wait func() *stanza.Error) bool {
	return router.DeferSettlement(ctx, router.SettleFunc(wait))
}

// service hands a stanza to the feature owning its domain; ok is false
// when no feature does. A message the feature stored is recorded for the
// sender's "sent" ack.
func (h *Hub) service(ctx context.Context, st *stanza.Element, to jid.JID) (ok bool, err *stanza.Error) {
	fn, ok := h.services[to.Domain()]
	if !ok {
		return false, nil
	}
	stored, err := fn(ctx, st, to)
	if stored.StanzaID != "" {
		router.RecordAssigned(ctx, stored.StanzaID, stored.Time)
	}
	return true, err
}

// groupsFeature builds the groups feature (docs/protocol/groups.md).
func (s *Server) groupsFeature(codec groups.Codec) *groups.Feature {
	// A page of the group archive waits in the device's mailbox, as MAM's.
	maxPage := max(1, min(100, s.cfg.MailboxSize/2))
	return groups.New(s.store, codec, groups.Options{MaxMembers: s.cfg.GroupMaxMembers,
		Archive:     !s.cfg.NoServerHistory,
		ArchivePage: mamquery.Limits{DefaultPage: min(50, maxPage), MaxPage: maxPage}})
}

// runGroups starts the groups' fan-out worker; the returned stop ends it
// and waits until it has finished the entry it began (the store must stay
// open until then).
func (s *Server) runGroups(ctx context.Context) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.groups.Run(ctx)
	}()
	return func() { cancel(); <-done }
}

// AddDiscoItem lists a service in the server's disco#items
// (module.DiscoItems).
func (h *Hub) AddDiscoItem(it module.DiscoItem) { h.discoItems = append(h.discoItems, it) }

// ServerDiscoItems lists the declared items (module.DiscoItems).
func (h *Hub) ServerDiscoItems() []module.DiscoItem { return h.discoItems }
