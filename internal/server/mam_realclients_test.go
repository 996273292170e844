package server

// Message archive scenarios (XEP-0313 with RSM paging) with slixmpp and
// xmpp.js, the senders being the Go test client: 25 messages in pages of
// 10, 10 and 5, forward and backward; a filter by peer; the archive ids
// equal the stanza-ids of the offline delivery, so the client dedupes; and
// with --no-server-history MAM is neither offered nor answered. The Go
// client library's History is tested in client/history_test.go.
//
// Run: go test -run TestRealClientsMAM -v ./internal/server/

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/parley-im/parley/internal/config"
	"github.com/parley-im/parley/internal/stanza"
	"github.com/parley-im/parley/internal/wire/xmlstream"
	"github.com/parley-im/parley/internal/xmpptest"
)

// mamPage is a "mam_page" event of agent.py.
type mamPage struct {
	IDs        []string `json:"ids"`
	Bodies     []string `json:"bodies"`
	StanzaIDs  []string `json:"stanza_ids"`
	Count      int      `json:"count"`
	First      string   `json:"first"`
	FirstIndex int      `json:"first_index"`
	Last       string   `json:"last"`
	Complete   bool     `json:"complete"`
}

// mamQuery asks a (--mam) slixmpp agent for one page and returns it.
func mamQuery(t *testing.T, a *agent, cmd map[string]any) mamPage {
	t.Helper()
	cmd["cmd"] = "mam"
	a.do(cmd)
	o := a.expect(fmt.Sprintf("mam page %v", cmd), func(o observation) bool { return o.Event == "mam_page" || o.Event == "mam_error" })
	if o.Event == "mam_error" {
		t.Fatalf("mam query %v refused: %s", cmd, o.line)
	}
	var p mamPage
	if err := json.Unmarshal([]byte(o.line), &p); err != nil {
		t.Fatal(err)
	}
	return p
}

// wantPage checks a page against the stanza-ids want, its index, count 25
// and completeness.
func wantPage(t *testing.T, what string, p mamPage, want []string, firstBody, index int, complete bool) {
	t.Helper()
	if !slices.Equal(p.IDs, want) || !slices.Equal(p.StanzaIDs, want) || p.Count != 25 || p.FirstIndex != index ||
		p.Complete != complete || p.First != want[0] || p.Last != want[len(want)-1] {
		t.Fatalf("%s: got %+v\nwant ids %v index %d count 25 complete %v", what, p, want, index, complete)
	}
	for i, b := range p.Bodies {
		if b != fmt.Sprintf("message %d", firstBody+i) {
			t.Fatalf("%s: body %d = %q", what, i, b)
		}
	}
}

// sendAndSync sends n messages from c to bob, then waits for a ping answer:
// the session handles stanzas in order, so they are all routed (and
// archived) by then.
func sendAndSync(t *testing.T, c *xmpptest.Client, prefix string, n int) {
	t.Helper()
	for i := range n {
		c.SendRaw(fmt.Sprintf("<message to='bob@localhost' type='chat' id='%s%d'><body>%s %d</body></message>", prefix, i, prefix, i))
	}
	c.SendRaw("<iq type='get' id='sync'><ping xmlns='urn:xmpp:ping'/></iq>")
	c.Expect("ping answer", xmpptest.IsIQResult("sync"))
}

// stanzaIDOf returns the stanza-id by bob@localhost in a delivered message.
func stanzaIDOf(t *testing.T, o observation) string {
	t.Helper()
	el, err := xmlstream.ParseElement([]byte(o.XML), stanza.NSClient, xmlstream.DefaultLimits())
	if err != nil {
		t.Fatalf("parsing %s: %v", o.XML, err)
	}
	for _, c := range el.Children {
		if c.Space == stanza.NSSID && c.Name == "stanza-id" && c.Attr("by") == "bob@localhost" {
			return c.Attr("id")
		}
	}
	t.Fatalf("no stanza-id by bob@localhost in %s", o.XML)
	return ""
}

func TestRealClientsMAM01SlixmppPagesDedupesAndFilters(t *testing.T) {
	t.Parallel()
	needSlixmpp(t)
	ts := startServer(t, nil)
	for _, u := range []string{"alice", "bob", "carol"} {
		ts.addUser(t, u, "pw-"+u)
	}
	// alice sends bob 25 messages, carol 2, while bob is offline.
	sendAndSync(t, ts.login(t, "alice", "phone"), "message", 25)
	sendAndSync(t, ts.login(t, "carol", "phone"), "carol", 2)

	// bob logs in with slixmpp and gets them from the offline queue.
	bob := slixAgent(t, ts, "bob", "phone", "--mam")
	bob.send("<presence/>")
	var offline []string
	for i := range 25 {
		o := bob.expect(fmt.Sprintf("offline message %d", i), msgWithBody(fmt.Sprintf("message %d", i)))
		offline = append(offline, stanzaIDOf(t, o))
	}

	// The account's disco#info offers MAM.
	bob.do(map[string]any{"cmd": "iq", "tag": "disco", "xml": "<iq type='get' to='bob@localhost'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>"})
	if d := bob.expect("account disco#info", isEvent("iq_result")); !strings.Contains(d.XML, "urn:xmpp:mam:2") {
		t.Fatalf("account disco#info without urn:xmpp:mam:2: %s", d.XML)
	}

	// Forward: 10, 10, 5 in order, complete and count 25; every archive id
	// is a stanza-id bob already has, so he drops all 25 as duplicates.
	p1 := mamQuery(t, bob, map[string]any{"with": "alice@localhost", "max": 10})
	wantPage(t, "page 1", p1, offline[:10], 0, 0, false)
	p2 := mamQuery(t, bob, map[string]any{"with": "alice@localhost", "max": 10, "after": p1.Last})
	wantPage(t, "page 2", p2, offline[10:20], 10, 10, false)
	p3 := mamQuery(t, bob, map[string]any{"with": "alice@localhost", "max": 10, "after": p2.Last})
	wantPage(t, "page 3", p3, offline[20:], 20, 20, true)

	// Backward from the newest (empty <before/>), then before the first.
	b1 := mamQuery(t, bob, map[string]any{"with": "alice@localhost", "max": 10, "before": ""})
	wantPage(t, "last page", b1, offline[15:], 15, 15, false)
	b2 := mamQuery(t, bob, map[string]any{"with": "alice@localhost", "max": 10, "before": b1.First})
	wantPage(t, "page before", b2, offline[5:15], 5, 5, false)
	b3 := mamQuery(t, bob, map[string]any{"with": "alice@localhost", "max": 10, "before": b2.First})
	wantPage(t, "first page, backward", b3, offline[:5], 0, 0, true)

	// Filter by peer: carol's two; all peers: 27.
	c := mamQuery(t, bob, map[string]any{"with": "carol@localhost", "max": 10})
	if c.Count != 2 || !c.Complete || !slices.Equal(c.Bodies, []string{"carol 0", "carol 1"}) {
		t.Fatalf("bob's archive with carol: %+v", c)
	}
	if all := mamQuery(t, bob, map[string]any{"max": 5}); all.Count != 27 || len(all.IDs) != 5 || all.Complete {
		t.Fatalf("bob's whole archive: %+v", all)
	}
	// An id that is not in the archive is item-not-found.
	bob.do(map[string]any{"cmd": "mam", "after": "no-such-id"})
	if e := bob.expect("unknown id", isEvent("mam_error")); e.Condition != "item-not-found" {
		t.Fatalf("query after an unknown id: %s", e.line)
	}
}

func TestRealClientsMAM02SlixmppNoServerHistory(t *testing.T) {
	t.Parallel()
	needSlixmpp(t)
	ts := startServer(t, func(c *config.Config) { c.NoServerHistory = true })
	ts.addUser(t, "alice", "pw-alice")
	ts.addUser(t, "bob", "pw-bob")
	sendAndSync(t, ts.login(t, "alice", "phone"), "message", 3)
	bob := slixAgent(t, ts, "bob", "phone", "--mam")
	bob.send("<presence/>")
	bob.expect("offline message", msgWithBody("message 2"))
	for _, to := range []string{"localhost", "bob@localhost"} {
		bob.do(map[string]any{"cmd": "iq", "tag": to, "xml": "<iq type='get' to='" + to + "'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>"})
		d := bob.expect("disco#info of "+to, isEvent("iq_result"))
		if strings.Contains(d.XML, "urn:xmpp:mam") {
			t.Fatalf("disco#info of %s offers MAM with --no-server-history: %s", to, d.XML)
		}
	}
	bob.do(map[string]any{"cmd": "mam", "max": 10})
	if e := bob.expect("refused query", isEvent("mam_error")); e.Condition != "service-unavailable" && e.Condition != "feature-not-implemented" {
		t.Fatalf("MAM query with --no-server-history: %s", e.line)
	}
}

// jsMAM runs one raw MAM query through an xmpp.js agent and returns the
// archive ids and bodies of its results (collected from the stanzas the
// agent saw before the iq result) and the <fin/>.
func jsMAM(t *testing.T, a *agent, qid, rsm string) (ids, bodies []string, fin *stanza.Element) {
	t.Helper()
	a.do(map[string]any{"cmd": "iq", "tag": qid, "xml": "<iq type='set' xmlns='jabber:client'><query xmlns='urn:xmpp:mam:2' queryid='" + qid + "'>" +
		"<set xmlns='http://jabber.org/protocol/rsm'>" + rsm + "</set></query></iq>"})
	res := a.expect("mam answer "+qid, func(o observation) bool { return o.Tag == qid })
	if res.Event != "iq_result" {
		t.Fatalf("query %s refused: %s", qid, res.line)
	}
	parse := func(s string) *stanza.Element {
		el, err := xmlstream.ParseElement([]byte(s), stanza.NSClient, xmlstream.DefaultLimits())
		if err != nil {
			t.Fatalf("parsing %s: %v", s, err)
		}
		return el
	}
	for _, o := range a.all(isStanza("message")) {
		r := parse(o.XML).Child(nsMAM, "result")
		if r == nil || r.Attr("queryid") != qid {
			continue
		}
		ids = append(ids, r.Attr("id"))
		bodies = append(bodies, r.Child("urn:xmpp:forward:0", "forwarded").Child(stanza.NSClient, "message").Body())
	}
	return ids, bodies, parse(res.XML).Child(nsMAM, "fin")
}

// TestRealClientsMAM03XmppjsPagesBackward: the same archive paged by an
// xmpp.js client over WebSocket, backward from the newest: 10, 10, 5 with
// count 25, complete on the oldest page; the ids are the stanza-ids of the
// offline delivery.
func TestRealClientsMAM03XmppjsPagesBackward(t *testing.T) {
	t.Parallel()
	needXmppjs(t)
	ts := startServer(t, nil)
	ts.addUser(t, "alice", "pw-alice")
	ts.addUser(t, "bob", "pw-bob")
	sendAndSync(t, ts.login(t, "alice", "phone"), "message", 25)
	bob := jsAgent(t, ts, "bob", "web", "ws")
	bob.send("<presence xmlns='jabber:client'/>")
	var offline []string
	for i := range 25 {
		offline = append(offline, stanzaIDOf(t, bob.expect(fmt.Sprintf("offline message %d", i), msgWithBody(fmt.Sprintf("message %d", i)))))
	}
	rsm := "<max>10</max><before/>"
	for i, want := range [][2]int{{15, 25}, {5, 15}, {0, 5}} {
		ids, bodies, fin := jsMAM(t, bob, fmt.Sprintf("back%d", i), rsm)
		set := fin.Child("http://jabber.org/protocol/rsm", "set")
		complete := fin.Attr("complete") == "true"
		if !slices.Equal(ids, offline[want[0]:want[1]]) || bodies[0] != fmt.Sprintf("message %d", want[0]) ||
			set.ChildText("http://jabber.org/protocol/rsm", "count") != "25" ||
			set.Child("http://jabber.org/protocol/rsm", "first").Attr("index") != fmt.Sprint(want[0]) || complete != (i == 2) {
			t.Fatalf("backward page %d: ids %v bodies %v fin %v\nwant ids %v", i, ids, bodies, fin, offline[want[0]:want[1]])
		}
		rsm = "<max>10</max><before>" + ids[0] + "</before>"
	}
}
