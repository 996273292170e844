package roster

import (
	"context"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"testing"

	"github.com/parley-im/parley/internal/jid"
	"github.com/parley-im/parley/internal/module"
	"github.com/parley-im/parley/internal/stanza"
	"github.com/parley-im/parley/internal/store"
)

const domain = "example.org"

// memStore is an in-memory store.Roster.
type memStore struct {
	mu       sync.Mutex
	items    map[string]map[string]store.RosterItem
	versions map[string]uint64
}

func newMemStore() *memStore {
	return &memStore{items: map[string]map[string]store.RosterItem{}, versions: map[string]uint64{}}
}

func (m *memStore) GetRoster(_ context.Context, owner string) ([]store.RosterItem, uint64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []store.RosterItem
	for _, it := range m.items[owner] {
		it.Groups = slices.Clone(it.Groups)
		out = append(out, it)
	}
	slices.SortFunc(out, func(a, b store.RosterItem) int {
		if a.JID < b.JID {
			return -1
		}
		if a.JID > b.JID {
			return 1
		}
		return 0
	})
	return out, m.versions[owner], nil
}

func (m *memStore) GetRosterItem(_ context.Context, owner, contact string) (store.RosterItem, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	it, ok := m.items[owner][contact]
	if !ok {
		return store.RosterItem{}, store.ErrNotFound
	}
	it.Groups = slices.Clone(it.Groups)
	return it, nil
}

func (m *memStore) PutRosterItem(_ context.Context, owner string, it store.RosterItem) (uint64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.items[owner] == nil {
		m.items[owner] = map[string]store.RosterItem{}
	}
	it.Groups = slices.Clone(it.Groups)
	m.items[owner][it.JID] = it
	m.versions[owner]++
	return m.versions[owner], nil
}

func (m *memStore) DeleteRosterItem(_ context.Context, owner, contact string) (uint64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.items[owner][contact]; !ok {
		return 0, store.ErrNotFound
	}
	delete(m.items[owner], contact)
	m.versions[owner]++
	return m.versions[owner], nil
}

// fakeSession is a connected device.
type fakeSession struct {
	jid jid.JID

	mu              sync.Mutex
	available       bool
	priority        int
	presence        *stanza.Element
	rosterRequested bool
	initialDone     bool
	received        []*stanza.Element
}

func (s *fakeSession) JID() jid.JID { return s.jid }
func (s *fakeSession) Send(st *stanza.Element) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.received = append(s.received, st)
	return true
}
func (s *fakeSession) Available() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.available
}
func (s *fakeSession) Priority() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.priority
}
func (s *fakeSession) Presence() *stanza.Element {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.presence
}
func (s *fakeSession) LastStatus() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.presence == nil {
		return ""
	}
	return s.presence.ChildText(stanza.NSClient, "status")
}
func (s *fakeSession) RosterRequested() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rosterRequested
}
func (s *fakeSession) SetRosterRequested() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rosterRequested = true
}

// fakeHost plays the core: a registry of sessions, a router that passes
// presence to local users back to the feature's Inbound, and the session's
// own presence processing (state update, handler, hooks).
type fakeHost struct {
	t        *testing.T
	f        *Feature
	iq       module.IQHandler
	presence module.PresenceHandler
	onAvail  []module.AvailableHook
	onUnav   []module.UnavailableHook

	mu       sync.Mutex
	users    map[string]bool           // existing accounts
	sessions map[string][]*fakeSession // bare JID -> devices
}

func newHost(t *testing.T, st Store, users ...string) *fakeHost {
	t.Helper()
	h := &fakeHost{t: t, users: map[string]bool{}, sessions: map[string][]*fakeSession{}}
	for _, u := range users {
		h.users[u+"@"+domain] = true
	}
	h.f = New(st)
	if err := h.f.Register(h); err != nil {
		t.Fatal(err)
	}
	return h
}

func (h *fakeHost) Domain() string    { return domain }
func (h *fakeHost) Log() *slog.Logger { return slog.New(slog.DiscardHandler) }
func (h *fakeHost) HandleIQ(ns string, target module.Target, fn module.IQHandler) error {
	if ns != stanza.NSRoster || target != module.ToOwnAccount || h.iq != nil {
		h.t.Fatalf("unexpected HandleIQ(%s, %d)", ns, target)
	}
	h.iq = fn
	return nil
}
func (h *fakeHost) HandlePresence(fn module.PresenceHandler) { h.presence = fn }
func (h *fakeHost) OnAvailable(fn module.AvailableHook)      { h.onAvail = append(h.onAvail, fn) }
func (h *fakeHost) OnUnavailable(fn module.UnavailableHook)  { h.onUnav = append(h.onUnav, fn) }
func (h *fakeHost) AddDiscoFeature(string)                   {}
func (h *fakeHost) DiscoFeatures() []string                  { return nil }

func (h *fakeHost) SessionCount(user jid.JID) int { return len(h.Sessions(user)) }

func (h *fakeHost) Sessions(user jid.JID) []module.Session {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []module.Session
	for _, s := range h.sessions[user.Bare().String()] {
		out = append(out, s)
	}
	return out
}

func (h *fakeHost) Session(full jid.JID) module.Session {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, s := range h.sessions[full.Bare().String()] {
		if s.jid == full {
			return s
		}
	}
	return nil
}

// Route implements the part of RFC 6121 section 8 these tests need:
// presence to an existing local user goes to Inbound.
func (h *fakeHost) Route(ctx context.Context, st *stanza.Element) {
	to, err := st.To()
	if err != nil || to.Domain() != domain || to.Local() == "" {
		h.t.Errorf("route to unexpected address: %v", st)
		return
	}
	h.mu.Lock()
	exists := h.users[to.Bare().String()]
	h.mu.Unlock()
	if st.Name == stanza.KindPresence && exists {
		h.f.Inbound(ctx, st, to)
	}
}

func (h *fakeHost) DeliverToAvailable(user jid.JID, st *stanza.Element) {
	for _, s := range h.Sessions(user) {
		if s.Available() {
			s.Send(st)
		}
	}
}

// connect binds a device ("alice/phone").
func (h *fakeHost) connect(addr string) *fakeSession {
	s := &fakeSession{jid: jid.MustParse(addr[:indexSlash(addr)] + "@" + domain + addr[indexSlash(addr):])}
	h.mu.Lock()
	defer h.mu.Unlock()
	bare := s.jid.Bare().String()
	h.users[bare] = true
	h.sessions[bare] = append(h.sessions[bare], s)
	return s
}

func indexSlash(s string) int {
	for i := range s {
		if s[i] == '/' {
			return i
		}
	}
	return len(s)
}

// login connects a device, fetches the roster and sends initial presence,
// then forgets what it received.
func (h *fakeHost) login(addr string) *fakeSession {
	s := h.connect(addr)
	h.getRoster(s, "")
	h.send(s, `presence`)
	s.drain()
	return s
}

// end ends a session the way the core does.
func (h *fakeHost) end(s *fakeSession) {
	h.mu.Lock()
	bare := s.jid.Bare().String()
	h.sessions[bare] = slices.DeleteFunc(h.sessions[bare], func(o *fakeSession) bool { return o == s })
	h.mu.Unlock()
	s.mu.Lock()
	was := s.available
	s.available, s.presence = false, nil
	s.mu.Unlock()
	if was {
		for _, fn := range h.onUnav {
			fn(context.Background(), s, true)
		}
	}
}

// send processes a stanza the device sent, given as name and attribute
// pairs, with optional children.
func (h *fakeHost) send(s *fakeSession, name string, attrs ...string) {
	h.sendEl(s, stanza.NewElement(stanza.NSClient, name, attrs...))
}

// sendEl mimics session.HandleInbound and Hub.Dispatch for presence.
func (h *fakeHost) sendEl(s *fakeSession, p *stanza.Element) {
	ctx := context.Background()
	p.SetAttr("from", s.jid.String())
	if p.Attr("to") != "" {
		if !h.presence(ctx, s, p) {
			h.Route(ctx, p)
		}
		return
	}
	s.mu.Lock()
	was := s.available
	switch p.Type() {
	case "":
		s.priority, _ = strconv.Atoi(p.ChildText(stanza.NSClient, "priority"))
		s.presence, s.available = p, true
	case "unavailable":
		s.presence, s.available = nil, false
	}
	now := s.available
	initial := now && !s.initialDone
	if initial {
		s.initialDone = true
	}
	s.mu.Unlock()
	h.presence(ctx, s, p)
	switch {
	case now:
		for _, fn := range h.onAvail {
			fn(ctx, s, initial)
		}
	case was:
		for _, fn := range h.onUnav {
			fn(ctx, s, false)
		}
	}
}

// iqRoster sends a roster iq and returns the response or the error.
func (h *fakeHost) iqRoster(s *fakeSession, typ string, query *stanza.Element) (*stanza.Element, error) {
	iq := stanza.NewIQ(typ, "q1")
	iq.SetAttr("from", s.jid.String())
	iq.AddChild(query)
	return h.iq(context.Background(), iq)
}

func (h *fakeHost) getRoster(s *fakeSession, ver string) *stanza.Element {
	h.t.Helper()
	q := stanza.NewElement(stanza.NSRoster, "query")
	if ver != "" {
		q.SetAttr("ver", ver)
	}
	resp, err := h.iqRoster(s, "get", q)
	if err != nil {
		h.t.Fatalf("%s: roster get: %v", s.jid, err)
	}
	return resp
}

// setItem sends a roster set with one item; attrs are the item's attributes.
func (h *fakeHost) setItem(s *fakeSession, groups []string, attrs ...string) error {
	item := stanza.NewElement(stanza.NSRoster, "item", attrs...)
	for _, g := range groups {
		ge := stanza.NewElement(stanza.NSRoster, "group")
		ge.Text = g
		item.AddChild(ge)
	}
	_, err := h.iqRoster(s, "set", stanza.NewElement(stanza.NSRoster, "query").AddChild(item))
	return err
}

func (s *fakeSession) drain() {
	s.mu.Lock()
	s.received = nil
	s.mu.Unlock()
}

func drain(ss ...*fakeSession) {
	for _, s := range ss {
		s.drain()
	}
}

func (s *fakeSession) pop() *stanza.Element {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.received) == 0 {
		return nil
	}
	st := s.received[0]
	s.received = s.received[1:]
	return st
}

// expect checks that the next stanza s received has the given name and
// attributes (an empty value means "absent") and returns it.
func (s *fakeSession) expect(t *testing.T, name string, attrs ...string) *stanza.Element {
	t.Helper()
	st := s.pop()
	if st == nil {
		t.Fatalf("%s received nothing, want <%s %v>", s.jid, name, attrs)
	}
	if st.Name != name || !hasAttrs(st, attrs) {
		t.Fatalf("%s received %v, want <%s %v>", s.jid, st, name, attrs)
	}
	return st
}

// expectPush checks that the next stanza is a roster push whose item has
// the given attributes, and returns the item.
func (s *fakeSession) expectPush(t *testing.T, attrs ...string) *stanza.Element {
	t.Helper()
	st := s.expect(t, "iq", "type", "set", "to", s.jid.String())
	q := st.Child(stanza.NSRoster, "query")
	if q == nil || q.Attr("ver") == "" || len(q.Children) != 1 || !hasAttrs(q.Children[0], attrs) {
		t.Fatalf("%s received push %v, want item %v", s.jid, st, attrs)
	}
	return q.Children[0]
}

// expectNothing checks that s received nothing more.
func (s *fakeSession) expectNothing(t *testing.T) {
	t.Helper()
	if st := s.pop(); st != nil {
		t.Fatalf("%s received %v, want nothing", s.jid, st)
	}
}

func hasAttrs(st *stanza.Element, attrs []string) bool {
	for i := 0; i+1 < len(attrs); i += 2 {
		if st.Attr(attrs[i]) != attrs[i+1] {
			return false
		}
	}
	return true
}

// rosterJIDs lists the items of a roster result.
func rosterJIDs(resp *stanza.Element) []string {
	var out []string
	if q := resp.Child(stanza.NSRoster, "query"); q != nil {
		for _, it := range q.Children {
			out = append(out, it.Attr("jid"))
		}
	}
	return out
}

// Hooks the roster feature does not use.
func (h *fakeHost) OnSessionEnded(module.EndedHook)         {}
func (h *fakeHost) FilterRoute(module.RouteFilter)          {}
func (h *fakeHost) OnMessageRouted(module.MessageHook)      {}
func (h *fakeHost) Disconnect(jid.JID, *stanza.StreamError) {}
