package pep

import (
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"hash"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/parley-im/parley/internal/module"
	"github.com/parley-im/parley/internal/stanza"
)

// capsTimeout bounds the wait for a device's disco#info answer.
const capsTimeout = 30 * time.Second

// capsCacheSize bounds the verified capabilities kept in memory.
const capsCacheSize = 10_000

// interest is the set of nodes a device wants notifications of, and the
// caps ver it came from.
type interest struct {
	ver   string
	nodes map[string]bool
}

func (i interest) wants(node string) bool { return i.nodes[node] }

// capsCache maps verified "hash ver" keys to the nodes of their +notify
// features.
type capsCache struct {
	mu    sync.Mutex
	nodes map[string]map[string]bool // guarded by mu
	// pending holds the keys being asked and the devices waiting for the
	// answer (the asked one first), so that devices announcing the same
	// caps while one is asked do not each get a query. Guarded by mu.
	pending map[string][]module.Session
}

func newCapsCache() *capsCache {
	return &capsCache{nodes: make(map[string]map[string]bool), pending: make(map[string][]module.Session)}
}

// await records that s waits for key's answer; first reports that nobody
// is being asked yet, so s must be.
func (c *capsCache) await(key string, s module.Session) (first bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	waiting, asked := c.pending[key]
	c.pending[key] = append(waiting, s)
	return !asked
}

// settle ends the wait for key and returns the devices that waited.
func (c *capsCache) settle(key string) []module.Session {
	c.mu.Lock()
	defer c.mu.Unlock()
	waiting := c.pending[key]
	delete(c.pending, key)
	return waiting
}

func (c *capsCache) get(key string) (map[string]bool, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n, ok := c.nodes[key]
	return n, ok
}

func (c *capsCache) put(key string, nodes map[string]bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.nodes) >= capsCacheSize {
		for k := range c.nodes { // evict an arbitrary entry
			delete(c.nodes, k)
			break
		}
	}
	c.nodes[key] = nodes
}

// capsOf returns the XEP-0115 element of a presence, or nil.
func capsOf(p *stanza.Element) *stanza.Element {
	if p == nil {
		return nil
	}
	c := p.Child(NSCaps, "c")
	if c == nil || c.Attr("ver") == "" || c.Attr("node") == "" {
		return nil
	}
	return c
}

// available learns the interests of a device from the caps of its presence
// (module.AvailableHook) and sends it the last items of the nodes it newly
// wants.
func (f *Feature) available(ctx context.Context, s module.Session, _ bool) {
	c := capsOf(s.Presence())
	if c == nil {
		f.setInterest(ctx, s, interest{})
		return
	}
	if f.interest(s).ver == c.Attr("ver") {
		return // unchanged
	}
	key := c.Attr("hash") + " " + c.Attr("ver")
	if nodes, ok := f.caps.get(key); ok {
		f.setInterest(ctx, s, interest{ver: c.Attr("ver"), nodes: nodes})
		return
	}
	if f.caps.await(key, s) {
		f.askCaps(ctx, s, c, true)
	}
}

// askCaps asks the device for the disco#info of its caps node. shared:
// the devices that announced the same caps meanwhile wait for this answer;
// a verified one counts for all of them, otherwise each is asked itself.
func (f *Feature) askCaps(ctx context.Context, s module.Session, c *stanza.Element, shared bool) {
	iq := stanza.NewIQ("get", "")
	iq.SetAttr("to", s.JID().String())
	iq.AddChild(stanza.NewElement(stanza.NSDiscoInfo, "query", "node", c.Attr("node")+"#"+c.Attr("ver")))
	hashName, ver := c.Attr("hash"), c.Attr("ver")
	f.req.RequestIQ(ctx, iq, capsTimeout, func(ctx context.Context, resp *stanza.Element) {
		var waiting []module.Session
		if shared {
			waiting = f.caps.settle(hashName + " " + ver)
		}
		q := resultQuery(resp)
		verified := q != nil && verify(hashName, q) == ver
		for _, w := range waiting {
			if w != s && !verified {
				f.askCaps(ctx, w, c, false)
			}
		}
		if q == nil {
			f.log.Debug("no capabilities from a device", "jid", s.JID().String())
			return
		}
		nodes := notifyNodes(q)
		if !verified {
			f.setInterest(ctx, s, interest{ver: ver, nodes: nodes}) // what s said counts for s only
			return
		}
		f.caps.put(hashName+" "+ver, nodes)
		if !shared {
			waiting = []module.Session{s}
		}
		for _, w := range waiting {
			f.setInterest(ctx, w, interest{ver: ver, nodes: nodes})
		}
	})
}

func resultQuery(resp *stanza.Element) *stanza.Element {
	if resp == nil || resp.Type() != "result" {
		return nil
	}
	return resp.Child(stanza.NSDiscoInfo, "query")
}

// notifyNodes returns the nodes of the "node+notify" features of q.
func notifyNodes(q *stanza.Element) map[string]bool {
	nodes := make(map[string]bool)
	for _, c := range q.Children {
		if c.Space == stanza.NSDiscoInfo && c.Name == "feature" {
			if n, ok := strings.CutSuffix(c.Attr("var"), "+notify"); ok && n != "" {
				nodes[n] = true
			}
		}
	}
	return nodes
}

func (f *Feature) interest(s module.Session) interest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.interests[s]
}

// setInterest records what s wants and sends it the last items of the
// nodes it did not want before.
func (f *Feature) setInterest(ctx context.Context, s module.Session, in interest) {
	f.mu.Lock()
	old := f.interests[s]
	if len(in.nodes) == 0 {
		delete(f.interests, s)
	} else {
		f.interests[s] = in
	}
	f.mu.Unlock()
	var added []string
	for n := range in.nodes {
		if !old.wants(n) {
			added = append(added, n)
		}
	}
	if len(added) > 0 && s.Available() {
		slices.Sort(added)
		f.sendLastItems(ctx, s, added)
	}
}

func (f *Feature) forget(_ context.Context, s module.Session) {
	f.mu.Lock()
	delete(f.interests, s)
	f.mu.Unlock()
}

// verify computes the XEP-0115 verification string's hash of q with the
// named algorithm ("" when the algorithm is unknown).
func verify(hashName string, q *stanza.Element) string {
	var h hash.Hash
	switch hashName {
	case "sha-1":
		h = sha1.New()
	case "sha-256":
		h = sha256.New()
	default:
		return ""
	}
	var ids, feats []string
	var forms []string
	for _, c := range q.Children {
		switch {
		case c.Space == stanza.NSDiscoInfo && c.Name == "identity":
			ids = append(ids, c.Attr("category")+"/"+c.Attr("type")+"/"+c.Lang()+"/"+c.Attr("name"))
		case c.Space == stanza.NSDiscoInfo && c.Name == "feature":
			feats = append(feats, c.Attr("var"))
		case c.Space == nsData && c.Name == "x":
			forms = append(forms, formString(c))
		}
	}
	h.Write([]byte(sortedJoin(ids) + sortedJoin(feats) + strings.Join(sorted(forms), "")))
	return base64.StdEncoding.EncodeToString(h.Sum(nil))
}

// formString is a form's part of the verification string: FORM_TYPE,
// then each field's var and sorted values.
func formString(x *stanza.Element) string {
	formType := ""
	var fields []string
	for _, fl := range x.Children {
		if fl.Name != "field" {
			continue
		}
		var values []string
		for _, v := range fl.Children {
			if v.Name == "value" {
				values = append(values, v.Text)
			}
		}
		if fl.Attr("var") == "FORM_TYPE" {
			formType = sortedJoin(values)
			continue
		}
		fields = append(fields, fl.Attr("var")+"\x00"+sortedJoin(values))
	}
	// Fields sort by var (the NUL keeps a var before its longer relatives).
	out := formType
	for _, fl := range sorted(fields) {
		out += strings.Replace(fl, "\x00", "<", 1)
	}
	return out
}

// sortedJoin sorts list and joins it with "<" after each string.
func sortedJoin(list []string) string {
	var b strings.Builder
	for _, s := range sorted(list) {
		b.WriteString(s)
		b.WriteByte('<')
	}
	return b.String()
}

func sorted(list []string) []string {
	slices.Sort(list)
	return list
}
