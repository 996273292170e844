package groups

import (
	"sort"
	"sync"

	"github.com/parley-im/parley/internal/jid"
)

// occupant is one device joined to a group's MUC room (XEP-0045). Its
// nickname is always its member's bare JID.
type occupant struct {
	device jid.JID // the device's full JID
	nick   string  // the member's bare JID
	show   string  // its presence's <show/>, "" when available
	status string  // its presence's <status/>
}

// occupants are the devices joined to MUC rooms, in memory only: after a
// restart XMPP apps find out with a self-ping (XEP-0410) and join again.
// Safe for concurrent use.
type occupants struct {
	mu    sync.Mutex
	rooms map[string]map[string]occupant // group id -> device full JID -> occupant; guarded by mu
}

func newOccupants() *occupants { return &occupants{rooms: make(map[string]map[string]occupant)} }

// join adds or updates a device; first reports that no other device of
// the same member was joined (the nickname just came in).
func (o *occupants) join(group string, oc occupant) (first, existed bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	room := o.rooms[group]
	if room == nil {
		room = make(map[string]occupant)
		o.rooms[group] = room
	}
	_, existed = room[oc.device.String()]
	first = true
	for d, other := range room {
		if other.nick == oc.nick && d != oc.device.String() {
			first = false
		}
	}
	room[oc.device.String()] = oc
	return first, existed
}

// leave removes a device; last reports that no other device of the same
// member is still joined (the nickname goes).
func (o *occupants) leave(group string, device jid.JID) (oc occupant, ok, last bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	room := o.rooms[group]
	if oc, ok = room[device.String()]; !ok {
		return oc, false, false
	}
	delete(room, device.String())
	last = true
	for _, other := range room {
		if other.nick == oc.nick {
			last = false
		}
	}
	if len(room) == 0 {
		delete(o.rooms, group)
	}
	return oc, true, last
}

// get returns the occupant of a device.
func (o *occupants) get(group string, device jid.JID) (occupant, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	oc, ok := o.rooms[group][device.String()]
	return oc, ok
}

// list returns a room's occupants sorted by nickname, then device.
func (o *occupants) list(group string) []occupant {
	o.mu.Lock()
	out := make([]occupant, 0, len(o.rooms[group]))
	for _, oc := range o.rooms[group] {
		out = append(out, oc)
	}
	o.mu.Unlock()
	sort.Slice(out, func(i, j int) bool {
		if out[i].nick != out[j].nick {
			return out[i].nick < out[j].nick
		}
		return out[i].device.String() < out[j].device.String()
	})
	return out
}

// roomsOf returns the groups a device is joined to.
func (o *occupants) roomsOf(device jid.JID) []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []string
	for g, room := range o.rooms {
		if _, ok := room[device.String()]; ok {
			out = append(out, g)
		}
	}
	return out
}

// nicks returns one occupant per nickname (the first device), sorted.
func nicks(list []occupant) []occupant {
	var out []occupant
	for _, oc := range list {
		if len(out) == 0 || out[len(out)-1].nick != oc.nick {
			out = append(out, oc)
		}
	}
	return out
}
