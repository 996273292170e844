package server

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parley-im/parley/internal/config"
	"github.com/parley-im/parley/internal/stanza"
	"github.com/parley-im/parley/internal/xmpptest"
)

func errorCondition(el *stanza.Element) string {
	e := el.Child(stanza.NSClient, "error")
	if e == nil {
		return ""
	}
	for _, c := range e.Children {
		if c.Space == stanza.NSStanzaErr && c.Name != "text" {
			return c.Name
		}
	}
	return ""
}

// TestRoutingRules covers RFC 6121 section 8 and the server's own checks.
func TestRoutingRules(t *testing.T) {
	ts := startServer(t, nil)
	ts.addUser(t, "alice", "pw-alice")
	ts.addUser(t, "bob", "pw-bob")
	alice := ts.login(t, "alice", "phone")
	bobPhone := ts.login(t, "bob", "phone")
	bobLaptop := ts.login(t, "bob", "laptop")
	bobPhone.SendRaw("<presence><priority>5</priority></presence>")
	bobLaptop.SendRaw("<presence><priority>-1</priority></presence>")
	time.Sleep(100 * time.Millisecond)

	t.Run("from is stamped by the server", func(t *testing.T) {
		alice.SendRaw("<message from='mallory@localhost/evil' to='bob@localhost/phone' type='chat'><body>spoof?</body></message>")
		m := bobPhone.Expect("message", xmpptest.IsMessageWithBody("spoof?"))
		if got := m.Attr("from"); got != "alice@localhost/phone" {
			t.Fatalf("from = %q, want alice@localhost/phone", got)
		}
	})
	t.Run("bare JID: not to a negative-priority resource", func(t *testing.T) {
		alice.SendRaw("<message to='bob@localhost' type='chat'><body>to bare</body></message>")
		bobPhone.Expect("message to bare JID", xmpptest.IsMessageWithBody("to bare"))
		for el := bobLaptop.Next(300 * time.Millisecond); el != nil; el = bobLaptop.Next(300 * time.Millisecond) {
			if el.Name == "message" {
				t.Fatalf("negative-priority resource got %v", el)
			}
		}
	})
	t.Run("chat to an unavailable full JID goes to the bare JID", func(t *testing.T) {
		alice.SendRaw("<message to='bob@localhost/tablet' type='chat'><body>to gone resource</body></message>")
		bobPhone.Expect("message to a missing resource", xmpptest.IsMessageWithBody("to gone resource"))
	})
	t.Run("iq to an unavailable resource gets service-unavailable", func(t *testing.T) {
		alice.SendRaw("<iq type='get' id='q1' to='bob@localhost/tablet'><query xmlns='jabber:iq:version'/></iq>")
		r := alice.Expect("iq error", xmpptest.IsIQResult("q1"))
		if r.Type() != "error" || errorCondition(r) != "service-unavailable" {
			t.Fatalf("got %v, want service-unavailable", r)
		}
	})
	t.Run("iq to a connected resource is routed and answered", func(t *testing.T) {
		alice.SendRaw("<iq type='get' id='q2' to='bob@localhost/laptop'><query xmlns='urn:example:custom'/></iq>")
		q := bobLaptop.Expect("routed iq", xmpptest.IsIQResult("q2"))
		if q.Attr("from") != "alice@localhost/phone" {
			t.Fatalf("routed iq from %q", q.Attr("from"))
		}
		bobLaptop.SendRaw("<iq type='result' id='q2' to='alice@localhost/phone'/>")
		if r := alice.Expect("answer", xmpptest.IsIQResult("q2")); r.Type() != "result" || r.Attr("from") != "bob@localhost/laptop" {
			t.Fatalf("answer %v", r)
		}
	})
	t.Run("unknown iq to the server gets service-unavailable", func(t *testing.T) {
		alice.SendRaw("<iq type='get' id='q3' to='localhost'><query xmlns='urn:example:nothing'/></iq>")
		r := alice.Expect("iq error", xmpptest.IsIQResult("q3"))
		if c := errorCondition(r); r.Type() != "error" || (c != "service-unavailable" && c != "feature-not-implemented") {
			t.Fatalf("got %v", r)
		}
	})
	t.Run("message to another domain gets remote-server-not-found", func(t *testing.T) {
		alice.SendRaw("<message to='someone@example.org' type='chat' id='m9'><body>far</body></message>")
		r := alice.Expect("bounce", func(el *stanza.Element) bool { return el.Name == "message" && el.ID() == "m9" })
		if r.Type() != "error" || errorCondition(r) != "remote-server-not-found" {
			t.Fatalf("got %v", r)
		}
	})
}

// TestServiceDiscoveryListsExactlyTheOfferedFeatures pins the feature list:
// a feature added or removed must update it (and docs/compliance). Push
// (XEP-0357) is offered only when an app server can be reached (a
// component or the webhook).
func TestServiceDiscoveryListsExactlyTheOfferedFeatures(t *testing.T) {
	base := []string{
		"http://jabber.org/protocol/disco#info",
		"http://jabber.org/protocol/disco#items",
		"jabber:iq:last",
		"jabber:iq:version",
		"msgoffline",
		"urn:parley:call:0",
		"urn:parley:devices:0",
		"urn:parley:groups:0",
		"urn:parley:privacy:0",
		"urn:xmpp:blocking",
		"urn:xmpp:carbons:2",
		"urn:xmpp:extdisco:2",
		"urn:xmpp:http:upload:0",
		"urn:xmpp:mam:2",
		"urn:xmpp:ping",
		"urn:xmpp:sid:0",
		"vcard-temp",
	}
	for _, tc := range []struct {
		name  string
		tweak func(*config.Config)
		want  []string
	}{
		{"default", nil, base},
		{"with a push component", func(c *config.Config) { componentConfig(t, c) }, append(slices.Clone(base), "urn:xmpp:push:0")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts := startServer(t, tc.tweak)
			ts.addUser(t, "alice", "pw-alice")
			c := ts.login(t, "alice", "phone")
			c.SendRaw("<iq type='get' id='d1' to='localhost'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>")
			r := c.Expect("disco#info", xmpptest.IsIQResult("d1"))
			var got []string
			for _, f := range r.Child(stanza.NSDiscoInfo, "query").Children {
				if f.Name == "feature" {
					got = append(got, f.Attr("var"))
				}
			}
			slices.Sort(got)
			want := slices.Sorted(slices.Values(tc.want))
			if !slices.Equal(got, want) {
				t.Fatalf("disco features\n got %q\nwant %q", got, want)
			}
		})
	}
}

// TestShutdownEndsEverySessionProperly: a stopping server sends
// system-shutdown and closes each stream, and delivered state is flushed.
func TestShutdownEndsEverySessionProperly(t *testing.T) {
	ts := startServer(t, nil)
	ts.addUser(t, "alice", "pw-alice")
	ts.addUser(t, "bob", "pw-bob")
	a := ts.login(t, "alice", "phone")
	b := ts.login(t, "bob", "phone")
	ts.stop()
	for _, c := range []*xmpptest.Client{a, b} {
		if se := c.Closed(); se == nil || se.Condition != stanza.StreamSystemShutdown {
			t.Fatalf("%s got %v, want system-shutdown", c.JID, se)
		}
		if !c.StreamEnded() {
			t.Fatalf("%s: the connection was dropped without </stream:stream>", c.JID)
		}
	}
}

// TestHealthAndMetricsEndpoints checks the operator's HTTP endpoints.
func TestHealthAndMetricsEndpoints(t *testing.T) {
	ts := startServer(t, nil)
	ts.addUser(t, "alice", "pw-alice")
	ts.login(t, "alice", "phone")
	get := func(path string) string {
		resp, err := http.Get("http://" + ts.addrs.HTTP + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %s %s", path, resp.Status, body)
		}
		return string(body)
	}
	// The session registers just after the client has its bind result.
	h := get("/healthz")
	for deadline := time.Now().Add(5 * time.Second); !strings.Contains(h, `"sessions":1`) && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
		h = get("/healthz")
	}
	if !strings.Contains(h, `"status":"ok"`) || !strings.Contains(h, `"sessions":1`) {
		t.Fatalf("/healthz: %s", h)
	}
	m := get("/metrics")
	if !strings.Contains(m, "parley_sessions_active 1") {
		t.Errorf("/metrics: parley_sessions_active is not 1")
	}
	for _, name := range []string{"parley_c2s_connections", "parley_auth_success_total", "parley_stanzas_out_total", "go_goroutines",
		"go_sched_latencies_seconds_bucket", "go_gc_gogc_percent"} {
		if !strings.Contains(m, name) {
			t.Errorf("/metrics has no %s", name)
		}
	}
}

// TestIdleHTTPConnectionIsClosed: a kept-alive connection to the HTTP
// listener that sends no next request is closed after the idle timeout
// (2 minutes; shortened here), where it waited for ever.
func TestIdleHTTPConnectionIsClosed(t *testing.T) {
	s := newTestServer(t, nil, nil)
	s.httpIdle = 200 * time.Millisecond
	ts := serveTestServer(t, s)
	c, err := net.Dial("tcp", ts.addrs.HTTP)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(c)
	resp, err := http.ReadResponse(r, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Close {
		t.Fatalf("GET /healthz: %s, close %v: want 200 on a kept-alive connection", resp.Status, resp.Close)
	}
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	start := time.Now()
	if _, err := r.ReadByte(); err != io.EOF {
		t.Fatalf("the idle connection after %v: %v, want the server to close it (EOF)", time.Since(start).Round(time.Millisecond), err)
	}
}

// TestProfilerOnlyWhenAsked: /debug/pprof/ exposes internals, so it is off
// unless --pprof is given.
func TestProfilerOnlyWhenAsked(t *testing.T) {
	for _, on := range []bool{false, true} {
		ts := startServer(t, func(c *config.Config) { c.Pprof = on })
		resp, err := http.Get("http://" + ts.addrs.HTTP + "/debug/pprof/")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := resp.StatusCode == http.StatusOK; got != on {
			t.Errorf("--pprof=%v: /debug/pprof/ answered %s", on, resp.Status)
		}
	}
}
