package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-im/parley/internal/cluster/natstest"
	"github.com/parley-im/parley/internal/store/postgres/pgtest"
)

// rollingNode is one `parley serve` of the cluster a rolling upgrade
// replaces process by process.
type rollingNode struct {
	id, data, nats string
	addrs          map[string]string // c2s, native, http
	proc           *serverProc
}

// TestRollingUpgradeThreeNodes: three `parley serve` processes on one
// PostgreSQL schema and a three-server NATS cluster. Each node has a sender
// chatting with a receiver on the next node, without pause, half over the
// binary protocol, half over XMPP XML. Node 1, then 2, then 3 is upgraded
// with `parley upgrade` (the next only once the previous one's new process
// serves, its devices are back and every node's directory lists them),
// while a dialer loop connects to the node's ports. Then: no connection
// was refused, every message acknowledged as sent reached its receiver's
// application exactly once (no client-side dedupe: Options.Dedupe is off,
// as in TestLiveUpgradeUnderLoad), every client came back, each node runs
// under a new pid, and every node's /healthz lists the three nodes with
// their devices.
func TestRollingUpgradeThreeNodes(t *testing.T) {
	dsn := pgtest.Fresh(t)
	ns := natstest.Cluster(t, 3)
	nodes := make([]*rollingNode, 3)
	for i := range nodes {
		parley(t, "user", "add", fmt.Sprintf("a%d@localhost", i), "--password", "pw", "--store", dsn, "--data", t.TempDir())
		parley(t, "user", "add", fmt.Sprintf("b%d@localhost", i), "--password", "pw", "--store", dsn, "--data", t.TempDir())
		nodes[i] = &rollingNode{id: fmt.Sprintf("node%d", i+1), data: t.TempDir(), nats: ns[i].URL,
			addrs: map[string]string{"c2s": freeAddr(t), "native": freeAddr(t), "http": freeAddr(t)}}
	}
	var wg sync.WaitGroup
	for _, n := range nodes {
		wg.Add(1)
		go func() { defer wg.Done(); n.start(t, dsn) }()
	}
	wg.Wait()
	waitDirectory(t, nodes, 0)

	// a_i on node i sends to b_i on node i+1; a_i speaks the binary
	// protocol on even i, b_i on odd i.
	var senders, receivers []*upgradeClient
	for i := range nodes {
		senders = append(senders, dialUpgradeClient(t, fmt.Sprintf("a%d@localhost", i), nodes[i].addrs, i%2 == 0))
		receivers = append(receivers, dialUpgradeClient(t, fmt.Sprintf("b%d@localhost", i), nodes[(i+1)%3].addrs, i%2 == 1))
	}
	waitDirectory(t, nodes, 2)
	stop := make(chan struct{})
	for i, s := range senders {
		wg.Add(1)
		go func() { defer wg.Done(); s.sendEvery(t, fmt.Sprintf("b%d@localhost", i), 15*time.Millisecond, stop) }()
	}
	time.Sleep(time.Second)
	for i, n := range nodes {
		on := []*upgradeClient{senders[i], receivers[(i+2)%3]}
		n.upgrade(t, on)
		waitDirectory(t, nodes, 2)
	}
	time.Sleep(time.Second) // traffic through the new processes
	close(stop)
	wg.Wait()
	for i, s := range senders {
		s.checkDelivered(t, receivers[i])
	}
	for _, n := range nodes {
		n.checkOneProcessAtATime(t)
	}
}

// checkOneProcessAtATime fails if, in n's log (the old and the new process
// write to the same file), a node saw two processes with one node id: the
// new process heard the old one's heartbeat, or another node took the new
// one for a restart of a node it still listed (its proxies of the devices
// already moved would be dropped).
func (n *rollingNode) checkOneProcessAtATime(t *testing.T) {
	t.Helper()
	b, err := os.ReadFile(n.proc.log)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.Contains(line, "another node runs with this node id") || strings.Contains(line, "cluster: node restarted") {
			t.Errorf("%s: two processes with one node id in the cluster at once: %s", n.id, line)
		}
	}
}

func (n *rollingNode) start(t *testing.T, dsn string) {
	n.proc = startServeWith(t, n.data, n.addrs["c2s"], "--store", dsn, "--nats", n.nats, "--node-id", n.id,
		"--native", n.addrs["native"], "--http", n.addrs["http"], "--cluster-heartbeat", "250ms", "--media", "")
	stopUpgradedAtCleanup(t, n.proc, n.data, n.id)
}

// upgrade runs `parley upgrade` on n while a dialer loop connects to its
// ports, and waits until the old process exited, the new one serves on
// /healthz and the devices on n (clients) connected again.
func (n *rollingNode) upgrade(t *testing.T, clients []*upgradeClient) {
	t.Helper()
	before := make([]int32, len(clients))
	for i, c := range clients {
		before[i] = c.connects.Load()
	}
	oldPID := n.proc.cmd.Process.Pid
	dialer := startDialerLoop(n.addrs)
	out := parley(t, "upgrade", "--data", n.data)
	t.Logf("%s: %s", n.id, strings.TrimSpace(out))
	m := regexp.MustCompile(`upgraded: process (\d+) .* -> (\d+) `).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("%s: parley upgrade said:\n%s", n.id, out)
	}
	newPID, _ := strconv.Atoi(m[2])
	if m[1] != strconv.Itoa(oldPID) || newPID == oldPID {
		t.Fatalf("%s: upgrade from %s to %d, want from %d to another process", n.id, m[1], newPID, oldPID)
	}
	select {
	case <-n.proc.done:
		if code := n.proc.cmd.ProcessState.ExitCode(); code != 0 {
			t.Fatalf("%s: the old process exited with %d", n.id, code)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("%s: the old process did not exit after the upgrade", n.id)
	}
	if pid := healthPID(t, n.addrs["http"]); pid != newPID {
		t.Fatalf("%s: /healthz answers from pid %d, want the new process %d", n.id, pid, newPID)
	}
	for i, c := range clients {
		waitUntil(t, c.jid+" back on "+n.id, func() bool { return c.connects.Load() > before[i] })
	}
	refused, other, dials := dialer.stop()
	t.Logf("%s: dialer loop: %d connections, %d refused, %d other errors", n.id, dials, refused, other)
	if refused > 0 || other > 0 || dials == 0 {
		t.Fatalf("%s: dialer loop: %d refused, %d other errors in %d dials", n.id, refused, other, dials)
	}
}

// waitDirectory waits until every node's /healthz lists the three nodes,
// each with devices devices.
func waitDirectory(t *testing.T, nodes []*rollingNode, devices int) {
	t.Helper()
	for _, n := range nodes {
		var last string
		waitUntil(t, n.id+"'s directory", func() bool {
			var h struct {
				Cluster []struct {
					Node    string
					Devices int
				} `json:"cluster"`
			}
			resp, err := http.Get("http://" + n.addrs["http"] + "/healthz")
			if err != nil {
				return false
			}
			err = json.NewDecoder(resp.Body).Decode(&h)
			resp.Body.Close()
			last = fmt.Sprint(h.Cluster)
			if err != nil || len(h.Cluster) != len(nodes) {
				return false
			}
			for _, m := range h.Cluster {
				if m.Devices != devices {
					return false
				}
			}
			return true
		}, func() string { return last })
	}
}

// waitUntil polls cond for up to 30 s; detail, if given, explains a timeout.
func waitUntil(t *testing.T, what string, cond func() bool, detail ...func() string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			more := ""
			for _, d := range detail {
				more += " " + d()
			}
			t.Fatalf("timed out waiting for %s%s", what, more)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
