package server

import (
	"bytes"
	"io"
	"net/http"
	"regexp"
	"runtime"
	"runtime/pprof"
	"strconv"
	"testing"
	"time"

	"github.com/parley-im/parley/internal/config"
	"github.com/parley-im/parley/internal/stanza"
	"github.com/parley-im/parley/internal/xmpptest"
)

// TestIdleConnectionsHoldNoGoroutine checks issue 5's design point: an
// idle, logged-in connection is parked in the epoll set with no goroutine
// of its own, wakes up for the next stanza, and a parked connection that
// the server closes (or whose client goes away) still ends its session.
func TestIdleConnectionsHoldNoGoroutine(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the epoll parker is Linux only; elsewhere a goroutine waits per idle connection")
	}
	ts := startServer(t, nil)
	ts.addUser(t, "alice", "pw-alice")
	ts.addUser(t, "bob", "pw-bob")
	const n = 20
	clients := make([]*xmpptest.Client, n)
	for i := range clients {
		user := []string{"alice", "bob"}[i%2]
		clients[i] = ts.login(t, user, "d"+strconv.Itoa(i))
	}
	waitMetric(t, ts, "parley_c2s_parked_connections", n)
	if g := connGoroutines(t); g != 0 {
		t.Fatalf("%d goroutines still run c2s connection code with %d idle connections", g, n)
	}

	// A parked connection wakes for what its client sends, and the
	// recipient's parked connection is written to without waking.
	alice, bob := clients[0], clients[1]
	alice.SendRaw("<message to='bob@localhost/d1' id='m1' type='chat'><body>still there?</body></message>")
	got := bob.Expect("alice's message", func(el *stanza.Element) bool { return el.Name == "message" && el.ID() == "m1" })
	if got.ChildText("", "body") != "still there?" {
		t.Fatalf("bob got %v", got)
	}
	waitMetric(t, ts, "parley_c2s_parked_connections", n)

	// The server closes a parked connection (a new login takes its
	// resource): the old session ends and its connection is gone.
	ts.login(t, "alice", "d0")
	if se := alice.Closed(); se == nil || se.Condition != "conflict" {
		t.Fatalf("replaced session got %v, want conflict", se)
	}
	waitMetric(t, ts, "parley_c2s_connections", n)
	// A client that goes away while parked: its session ends too.
	clients[2].Drop()
	waitMetric(t, ts, "parley_c2s_connections", n-1)
	waitMetric(t, ts, "parley_sessions_active", n-1)
}

// connGoroutines counts goroutines whose stack is in a client
// connection's code (reading, waiting or handling).
func connGoroutines(t *testing.T) int {
	t.Helper()
	var buf bytes.Buffer
	if err := pprof.Lookup("goroutine").WriteTo(&buf, 2); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, g := range bytes.Split(buf.Bytes(), []byte("\n\n")) {
		if bytes.Contains(g, []byte("internal/c2s.(*conn)")) {
			n++
		}
	}
	return n
}

// waitMetric waits until the server's /metrics reports want for name.
func waitMetric(t *testing.T, ts *testServer, name string, want int) {
	t.Helper()
	re := regexp.MustCompile(`(?m)^` + name + ` (\S+)$`)
	var last string
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		resp, err := http.Get("http://" + ts.addrs.HTTP + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		m := re.FindSubmatch(body)
		if m == nil {
			last = "absent"
			continue
		}
		last = string(m[1])
		if v, err := strconv.ParseFloat(last, 64); err == nil && int(v) == want {
			return
		}
	}
	t.Fatalf("%s = %s, want %d", name, last, want)
}

// TestKeepAlivesOfParkedConnectionsStayParked: an idle phone's pulses
// (white space between stanzas) are absorbed by the poller without waking
// its connection, several at a time (a parked socket is reported readable
// once four bytes, the smallest element, are queued; over TLS 1.3 once a
// record longer than one pulse's could be there, so two pulses' records),
// while white space inside a stanza that arrives in pieces is the
// stanza's, delivered intact. Over TLS 1.3 (STARTTLS and direct TLS) each
// pulse is a record of its own that the poller opens.
func TestKeepAlivesOfParkedConnectionsStayParked(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the epoll parker is Linux only")
	}
	for _, tc := range []struct {
		name          string
		direct        bool
		tweak         func(*xmpptest.Options)
		pulsesPerWake int
	}{
		{"plain", false, func(o *xmpptest.Options) { o.NoTLS = true }, 4},
		{"starttls", false, func(*xmpptest.Options) {}, 2},
		{"directtls", true, func(o *xmpptest.Options) { o.DirectTLS = true }, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts := startServer(t, func(c *config.Config) { c.AllowPlaintextAuth = true })
			ts.addUser(t, "alice", "pw-alice")
			ts.addUser(t, "bob", "pw-bob")
			addr := ts.addrs.C2S
			if tc.direct {
				addr = ts.addrs.C2STLS
			}
			login := func(user string) *xmpptest.Client {
				o := xmpptest.Options{User: user, Password: "pw-" + user, Resource: "phone"}
				tc.tweak(&o)
				return xmpptest.Dial(t, addr, o)
			}
			keepAlivesStayParked(t, ts, login("alice"), login("bob"), tc.pulsesPerWake)
		})
	}
}

func keepAlivesStayParked(t *testing.T, ts *testServer, alice, bob *xmpptest.Client, pulsesPerWake int) {
	waitMetric(t, ts, "parley_c2s_parked_connections", 2)
	const rounds = 3
	for i := 1; i <= rounds; i++ {
		// One pulse at a time, each in its own segment: the poller reads
		// each client's pulsesPerWake in one wake-up, not one by one.
		for range pulsesPerWake {
			alice.SendRaw(" ")
			bob.SendRaw("\n")
			time.Sleep(20 * time.Millisecond)
		}
		waitMetric(t, ts, "parley_c2s_parked_keepalives_total", 2*i)
		time.Sleep(50 * time.Millisecond)
		waitMetric(t, ts, "parley_c2s_parked_keepalives_total", 2*i)
	}
	if g := connGoroutines(t); g != 0 {
		t.Fatalf("%d goroutines run c2s connection code after keep-alives of parked connections", g)
	}

	// A stanza in three pieces, each after a pause long enough to park:
	// the white space at the start of the second is the body's, and the
	// last piece is one byte (mid-stanza, a parked socket wakes for any).
	for _, piece := range []string{"<message to='bob@localhost/phone' id='m1' type='chat'><body>one", "  two</body></message"} {
		alice.SendRaw(piece)
		waitMetric(t, ts, "parley_c2s_parked_connections", 1) // woken: it lingers a second
		waitMetric(t, ts, "parley_c2s_parked_connections", 2)
	}
	alice.SendRaw(">")
	got := bob.Expect("alice's message", func(el *stanza.Element) bool { return el.Name == "message" && el.ID() == "m1" })
	if body := got.ChildText("", "body"); body != "one  two" {
		t.Fatalf("bob got body %q, want %q", body, "one  two")
	}
	waitMetric(t, ts, "parley_c2s_parked_keepalives_total", 2*rounds)
}

// TestUnreadKeepAlivesKeepAClientAlive: pulses that a parked socket holds
// unread below its low-water mark still count as the client's traffic (no
// ping while they keep coming), and a client that goes quiet is pinged.
func TestUnreadKeepAlivesKeepAClientAlive(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the epoll parker is Linux only")
	}
	ts := startServer(t, func(c *config.Config) {
		c.AllowPlaintextAuth = true
		c.PingInterval, c.PingTimeout = 2*time.Second, time.Hour
	})
	ts.addUser(t, "alice", "pw-alice")
	alice := ts.login(t, "alice", "phone", func(o *xmpptest.Options) { o.NoTLS = true })
	waitMetric(t, ts, "parley_c2s_parked_connections", 1)
	isPing := func(el *stanza.Element) bool { return el.Name == "iq" && el.Child(stanza.NSPing, "ping") != nil }
	// A pulse every 700 ms: the poller reads them four at a time, every
	// 2.8 s, more than the 2 s ping interval; a sweep that finds the
	// client quiet that long finds pulses queued since the last read.
	for end := time.Now().Add(6 * time.Second); time.Now().Before(end); {
		alice.SendRaw(" ")
		if el := alice.Next(700 * time.Millisecond); el != nil && isPing(el) {
			t.Fatalf("pinged while sending a keep-alive every 700 ms: %v", el)
		}
	}
	if n := metricValue(t, ts, "parley_c2s_parked_keepalives_total"); n == 0 {
		t.Fatal("no pulse was read by the poller: the connection did not stay parked")
	}
	alice.Expect("a ping once the pulses stop", isPing)
}

// metricValue reads name from the server's /metrics.
func metricValue(t *testing.T, ts *testServer, name string) float64 {
	t.Helper()
	resp, err := http.Get("http://" + ts.addrs.HTTP + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	m := regexp.MustCompile(`(?m)^` + name + ` (\S+)$`).FindSubmatch(body)
	if m == nil {
		t.Fatalf("%s not in /metrics", name)
	}
	v, err := strconv.ParseFloat(string(m[1]), 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
