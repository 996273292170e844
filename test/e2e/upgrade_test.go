package e2e

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/parley-im/parley/client"
)

// TestLiveUpgradeUnderLoad runs `parley upgrade` while Parley's clients
// (binary protocol and XMPP XML, with stream management) send messages
// continuously and a dialer loop connects to every TCP listener (XMPP
// STARTTLS and direct TLS, binary, HTTP, media, TURN, component). It checks
// that no connection was refused during the switch, that every message the
// server acknowledged is delivered exactly once (and none twice), that
// every client is back, and that the new process serves with a new pid.
func TestLiveUpgradeUnderLoad(t *testing.T) {
	data := t.TempDir()
	const pairs = 4
	for i := range pairs {
		parley(t, "user", "add", fmt.Sprintf("a%d@localhost", i), "--password", "pw", "--data", data)
		parley(t, "user", "add", fmt.Sprintf("b%d@localhost", i), "--password", "pw", "--data", data)
	}
	addrs := map[string]string{"c2s": freeAddr(t), "c2s-tls": freeAddr(t), "native": freeAddr(t), "http": freeAddr(t),
		"media": freeAddr(t), "turn": freeAddr(t), "component": freeAddr(t)}
	secret := filepath.Join(t.TempDir(), "push.secret")
	if err := os.WriteFile(secret, []byte("component secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := startServeWith(t, data, addrs["c2s"], "--c2s-tls", addrs["c2s-tls"], "--native", addrs["native"],
		"--http", addrs["http"], "--media", addrs["media"], "--turn", addrs["turn"], "--turn-ports", "",
		"--component", addrs["component"], "--component-secrets", "push.localhost="+secret)
	oldPID := srv.cmd.Process.Pid
	stopUpgradedAtCleanup(t, srv, data, "server")

	// Senders a_i and receivers b_i: even pairs speak the binary protocol,
	// odd ones XML; a sender and its receiver use different encodings in
	// half of the pairs.
	var senders, receivers []*upgradeClient
	for i := range pairs {
		receivers = append(receivers, dialUpgradeClient(t, fmt.Sprintf("b%d@localhost", i), addrs, i%2 == 0))
		senders = append(senders, dialUpgradeClient(t, fmt.Sprintf("a%d@localhost", i), addrs, i/2 == 0))
	}
	dialer := startDialerLoop(addrs)

	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i, s := range senders {
		wg.Add(1)
		go func() { defer wg.Done(); s.sendEvery(t, fmt.Sprintf("b%d@localhost", i), 5*time.Millisecond, stop) }()
	}
	time.Sleep(time.Second)
	out := parley(t, "upgrade", "--data", data)
	t.Log(strings.TrimSpace(out))
	m := regexp.MustCompile(`upgraded: process (\d+) .* -> (\d+) `).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("parley upgrade said:\n%s", out)
	}
	newPID, _ := strconv.Atoi(m[2])
	if m[1] != strconv.Itoa(oldPID) || newPID == oldPID {
		t.Fatalf("upgrade from %s to %d, want from %d to another process", m[1], newPID, oldPID)
	}
	select {
	case <-srv.done:
		if code := srv.cmd.ProcessState.ExitCode(); code != 0 {
			t.Fatalf("the old process exited with %d", code)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the old process did not exit after the upgrade")
	}
	time.Sleep(1500 * time.Millisecond) // traffic through the new process
	close(stop)
	wg.Wait()
	refused, other, dials := dialer.stop()
	t.Logf("dialer loop: %d connections, %d refused, %d other errors", dials, refused, other)
	if refused > 0 || other > 0 || dials == 0 {
		t.Fatalf("dialer loop: %d refused, %d other errors in %d dials", refused, other, dials)
	}
	if pid := healthPID(t, addrs["http"]); pid != newPID {
		t.Fatalf("/healthz answers from pid %d, want the new process %d", pid, newPID)
	}
	for i, s := range senders {
		s.checkDelivered(t, receivers[i])
	}
	for _, c := range append(senders, receivers...) {
		if c.connects.Load() < 2 {
			t.Errorf("%s connected %d times: it did not come back after the upgrade", c.jid, c.connects.Load())
		}
	}
}

// upgradeClient is one device with what it sent, what the server
// acknowledged and what it received.
type upgradeClient struct {
	jid      string
	c        *client.Client
	connects atomic.Int32

	mu       sync.Mutex
	bodyOf   map[string]string // message id -> body
	acked    map[string]bool   // bodies the server acknowledged
	received map[string]int    // body -> times received
	log      []string          // connection events, for a failure
}

func dialUpgradeClient(t *testing.T, jid string, addrs map[string]string, binary bool) *upgradeClient {
	t.Helper()
	o := client.Options{JID: jid, Password: "pw", TLS: &tls.Config{InsecureSkipVerify: true}, Reconnect: true,
		MinBackoff: 100 * time.Millisecond, MaxBackoff: time.Second, EventBuffer: 1 << 16}
	if binary {
		o.Addr = addrs["native"]
	} else {
		o.Encoding, o.Transport, o.Addr = client.XML, client.STARTTLS, addrs["c2s"]
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, o)
	if err != nil {
		t.Fatalf("%s: %v", jid, err)
	}
	u := &upgradeClient{jid: jid, c: c, bodyOf: map[string]string{}, acked: map[string]bool{}, received: map[string]int{}}
	go u.events()
	if err := c.SetPresence("", ""); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return u
}

func (u *upgradeClient) events() {
	for ev := range u.c.Events() {
		u.mu.Lock()
		switch e := ev.(type) {
		case *client.Connected:
			u.connects.Add(1)
			u.log = append(u.log, fmt.Sprintf("%s connected (resumed %v)", time.Now().Format("15:04:05.000"), e.Resumed))
		case *client.Disconnected:
			u.log = append(u.log, fmt.Sprintf("%s disconnected: %v", time.Now().Format("15:04:05.000"), e.Err))
		case *client.Sent:
			if b, ok := u.bodyOf[e.ID]; ok {
				u.acked[b] = true
			}
		case *client.Message:
			u.received[e.Body]++
		}
		u.mu.Unlock()
	}
}

// checkDelivered waits until the server acknowledged every message u sent
// (those unacknowledged during the switch are sent again) and r got each,
// and checks that none came twice.
func (u *upgradeClient) checkDelivered(t *testing.T, r *upgradeClient) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		u.mu.Lock()
		acked := make([]string, 0, len(u.acked))
		for b := range u.acked {
			acked = append(acked, b)
		}
		sent := len(u.bodyOf)
		u.mu.Unlock()
		r.mu.Lock()
		var missing []string
		for _, b := range acked {
			if r.received[b] == 0 {
				missing = append(missing, b)
			}
		}
		var twice []string
		for b, n := range r.received {
			if n > 1 {
				twice = append(twice, b)
			}
		}
		got := len(r.received)
		r.mu.Unlock()
		if len(twice) > 0 {
			t.Logf("%s: %q; %s: %q", u.jid, u.log, r.jid, r.log)
			t.Fatalf("%s received %d messages twice, e.g. %q", r.jid, len(twice), twice[0])
		}
		if len(missing) == 0 && len(acked) == sent {
			t.Logf("%s -> %s: %d sent, %d acknowledged, %d received once", u.jid, r.jid, sent, len(acked), got)
			if len(acked) < 100 {
				t.Fatalf("%s: only %d messages acknowledged: the load did not run", u.jid, len(acked))
			}
			return
		}
		if time.Now().After(deadline) {
			t.Logf("%s: %q; %s: %q", u.jid, u.log, r.jid, r.log)
			t.Fatalf("%s: %d of %d messages acknowledged; %d of them never reached %s, e.g. %q", u.jid, len(acked), sent, len(missing), r.jid, missing)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// dialerLoop connects to every listener in a loop and counts failures.
type dialerLoop struct {
	done                  chan struct{}
	wg                    sync.WaitGroup
	refused, other, dials atomic.Int64
}

func startDialerLoop(addrs map[string]string) *dialerLoop {
	d := &dialerLoop{done: make(chan struct{})}
	for _, addr := range addrs {
		d.wg.Add(1)
		go func() {
			defer d.wg.Done()
			for {
				select {
				case <-d.done:
					return
				case <-time.After(2 * time.Millisecond):
				}
				c, err := net.DialTimeout("tcp", addr, 5*time.Second)
				d.dials.Add(1)
				switch {
				case errors.Is(err, syscall.ECONNREFUSED):
					d.refused.Add(1)
				case err != nil:
					d.other.Add(1)
				default:
					_ = c.Close()
				}
			}
		}()
	}
	return d
}

func (d *dialerLoop) stop() (refused, other, dials int64) {
	close(d.done)
	d.wg.Wait()
	return d.refused.Load(), d.other.Load(), d.dials.Load()
}

// healthPID asks /healthz which process serves.
func healthPID(t *testing.T, httpAddr string) int {
	t.Helper()
	resp, err := http.Get("http://" + httpAddr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var h struct {
		PID int `json:"pid"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&h); err != nil {
		t.Fatal(err)
	}
	return h.PID
}

// stopUpgradedAtCleanup stops, when the test ends, the process an upgrade
// of srv started (if any), and shows srv's log (label's) if the test
// failed.
func stopUpgradedAtCleanup(t *testing.T, srv *serverProc, data, label string) {
	oldPID := srv.cmd.Process.Pid
	t.Cleanup(func() {
		stopPIDFile(t, data, oldPID)
		if t.Failed() {
			b, _ := os.ReadFile(srv.log)
			t.Logf("%s log (first process):\n%s", label, b)
		}
	})
}

// stopPIDFile stops the process an upgrade started (not a child of the
// test: its parent, the old process, has exited): SIGTERM, then SIGKILL.
func stopPIDFile(t *testing.T, data string, oldPID int) {
	b, err := os.ReadFile(filepath.Join(data, "parley.pid"))
	if err != nil {
		return
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid == oldPID {
		return
	}
	_ = syscall.Kill(pid, syscall.SIGTERM)
	for range 200 {
		if !alive(pid) {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Errorf("the upgraded server %d did not stop after SIGTERM; killing it", pid)
	_ = syscall.Kill(pid, syscall.SIGKILL)
}

// alive reports whether pid runs (a zombie, waiting for a reaper, does not).
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	_, after, _ := strings.Cut(string(b), ") ")
	return !strings.HasPrefix(after, "Z")
}

// sendEvery sends a numbered message every interval until stop.
func (u *upgradeClient) sendEvery(t *testing.T, to string, interval time.Duration, stop <-chan struct{}) {
	for n := 0; ; n++ {
		select {
		case <-stop:
			return
		case <-time.After(interval):
		}
		body := fmt.Sprintf("%s #%d", u.jid, n)
		u.mu.Lock() // before the send: the Sent tick may come at once
		id, err := u.c.SendMessage(to, body)
		if err == nil {
			u.bodyOf[id] = body
		}
		u.mu.Unlock()
		if err != nil {
			t.Errorf("%s: %v", u.jid, err)
			return
		}
	}
}
