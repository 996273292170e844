package router

import (
	"hash/maphash"
	"sync"
	"sync/atomic"

	"github.com/parley-im/parley/internal/jid"
	"github.com/parley-im/parley/internal/module"
	"github.com/parley-im/parley/internal/stanza"
)

// Device is a connected device as the router sees it: a module.Session that
// can take deliveries.
type Device interface {
	module.Session
	// Deliver queues st for the device. key and seq identify the stanza in
	// the durable queue ("" and 0 when it is not stored); the device acks
	// them once the client has the stanza. It never blocks and reports false
	// when the device cannot take it (gone, or mailbox overflow).
	Deliver(st *stanza.Element, key string, seq uint64) bool
}

// LogBatchDevice is a Device that takes a user's copies of a log's wave at
// once (RouteLogged): one mailbox item for them all instead of one per
// copy, so that a wave of many posts to a member costs one hand-over.
type LogBatchDevice interface {
	Device
	// DeliverLog queues sts, at positions seqs of log key, in order, as
	// Deliver does each of them; false when the device takes none of them.
	// sts and seqs are not modified.
	DeliverLog(sts []*stanza.Element, key string, seqs []uint64) bool
}

// RemoteDevice is a Device connected to another node of a cluster: a
// proxy whose deliveries cross the cluster bus (internal/cluster).
type RemoteDevice interface {
	Device
	// Node is the id of the node the device is connected to.
	Node() string
}

// IsRemote reports whether d is connected to another node.
func IsRemote(d Device) bool {
	_, ok := d.(RemoteDevice)
	return ok
}

const shardCount = 64

// Registry maps users to their connected devices: this node's own, and,
// in a cluster, proxies of the devices connected to the other nodes.
type Registry struct {
	seed   maphash.Seed
	shards [shardCount]shard
	count  atomic.Int64 // local devices
	remote atomic.Int64 // remote devices (proxies)
}

type shard struct {
	mu    sync.RWMutex
	users map[string][]Device // bare JID -> devices; guarded by mu
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	r := &Registry{seed: maphash.MakeSeed()}
	for i := range r.shards {
		r.shards[i].users = make(map[string][]Device)
	}
	return r
}

func (r *Registry) shard(bare string) *shard {
	return &r.shards[maphash.String(r.seed, bare)%shardCount]
}

// Add registers d. If a device with the same full JID was registered it is
// replaced and returned, so the caller can close it with a conflict error
// (a remote one included: a new local login wins).
func (r *Registry) Add(d Device) (replaced Device) {
	replaced, _ = r.put(d, true)
	return replaced
}

// AddRemote registers the proxy of a device connected to another node,
// replacing the proxy with the same full JID, if any. It never replaces a
// local device (it then reports false: the two nodes settle the conflict).
func (r *Registry) AddRemote(d RemoteDevice) bool {
	_, ok := r.put(d, false)
	return ok
}

func (r *Registry) put(d Device, overLocal bool) (replaced Device, ok bool) {
	full := d.JID()
	bare := full.Bare().String()
	sh := r.shard(bare)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	devs := sh.users[bare]
	for i, old := range devs {
		if old.JID() != full {
			continue
		}
		if !overLocal && !IsRemote(old) {
			return nil, false
		}
		next := make([]Device, len(devs))
		copy(next, devs)
		next[i] = d
		sh.users[bare] = next
		r.counter(old).Add(-1)
		r.counter(d).Add(1)
		return old, true
	}
	// Copy on write: readers may hold the old slice without the lock.
	next := make([]Device, len(devs), len(devs)+1)
	copy(next, devs)
	sh.users[bare] = append(next, d)
	r.counter(d).Add(1)
	return nil, true
}

func (r *Registry) counter(d Device) *atomic.Int64 {
	if IsRemote(d) {
		return &r.remote
	}
	return &r.count
}

// Remove unregisters d if it is still the registered device for its full
// JID, and reports whether it was.
func (r *Registry) Remove(d Device) bool {
	bare := d.JID().Bare().String()
	sh := r.shard(bare)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	devs := sh.users[bare]
	for i, old := range devs {
		if old != d {
			continue
		}
		if len(devs) == 1 {
			delete(sh.users, bare)
		} else {
			next := make([]Device, 0, len(devs)-1)
			next = append(next, devs[:i]...)
			sh.users[bare] = append(next, devs[i+1:]...)
		}
		r.counter(d).Add(-1)
		return true
	}
	return false
}

// Devices returns the devices of a user. The slice must not be modified.
func (r *Registry) Devices(user jid.JID) []Device {
	// Called for every routed stanza (and by carbons for each): the key
	// is built on the stack, and a map index by string(bytes) does not
	// allocate.
	var buf [128]byte
	bare := user.AppendBare(buf[:0])
	sh := &r.shards[maphash.Bytes(r.seed, bare)%shardCount] // as shard(string(bare))
	sh.mu.RLock()
	devs := sh.users[string(bare)]
	sh.mu.RUnlock()
	return devs
}

// Device returns the device with this full JID, or nil.
func (r *Registry) Device(full jid.JID) Device {
	for _, d := range r.Devices(full) {
		if d.JID() == full {
			return d
		}
	}
	return nil
}

// Len returns the number of registered local devices.
func (r *Registry) Len() int { return int(r.count.Load()) }

// RemoteLen returns the number of registered remote devices (proxies).
func (r *Registry) RemoteLen() int { return int(r.remote.Load()) }

// Each calls f for every registered device (for the keep-alive sweep and
// shutdown). f must not call back into the registry's write methods.
func (r *Registry) Each(f func(Device)) {
	// One snapshot buffer for all shards: the keep-alive sweep walks the
	// registry every 5 s, and a fresh slice per shard made it allocate
	// about 30 bytes per device per sweep on an idle server (garbage that
	// set its collection pace).
	var all []Device
	for i := range r.shards {
		sh := &r.shards[i]
		sh.mu.RLock()
		all = all[:0]
		for _, devs := range sh.users {
			all = append(all, devs...)
		}
		sh.mu.RUnlock()
		for _, d := range all {
			f(d)
		}
	}
}
