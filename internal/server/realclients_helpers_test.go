package server

// Plumbing for realclients_test.go: running the slixmpp and xmpp.js scripts
// in test/clients against an in-process server and collecting the JSON
// lines they print.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	debianPython  = "/usr/bin/python3" // python3-slixmpp is installed for Debian's interpreter only
	scriptTimeout = 60 * time.Second   // hard limit per script run (scripts time out internally after ~20-40 s)
	expectTimeout = 15 * time.Second   // waiting for one observation from an agent
)

// clientsDir is test/clients in the repository.
func clientsDir(t testing.TB) string {
	t.Helper()
	d, err := filepath.Abs(filepath.Join("..", "..", "test", "clients"))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// skipOrFatal skips loudly, except in CI where a missing client is an
// install-step bug that must fail the build.
func skipOrFatal(t testing.TB, reason string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("CI=true and a real client is missing: %s", reason)
	}
	t.Skipf("\n!!!!!!!! SKIPPED (real-client scenario not run) !!!!!!!!\n!!! %s\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!", reason)
}

var (
	slixOnce, nodeOnce sync.Once
	slixErr, nodeErr   string
)

func needSlixmpp(t testing.TB) {
	t.Helper()
	slixOnce.Do(func() {
		out, err := exec.Command(debianPython, "-c", "import slixmpp; print(slixmpp.__version__)").CombinedOutput()
		if err != nil {
			slixErr = fmt.Sprintf("%s cannot import slixmpp (%v: %s); install it with `sudo apt-get install python3-slixmpp`",
				debianPython, err, strings.TrimSpace(string(out)))
		}
	})
	if slixErr != "" {
		skipOrFatal(t, slixErr)
	}
}

func nodeBinary() string {
	if p, err := exec.LookPath("node"); err == nil {
		return p
	}
	return "/usr/bin/node"
}

func needXmppjs(t testing.TB) {
	t.Helper()
	dir := filepath.Join(clientsDir(t), "xmppjs")
	nodeOnce.Do(func() {
		if _, err := os.Stat(filepath.Join(dir, "node_modules", "@xmpp", "client")); err != nil {
			nodeErr = fmt.Sprintf("xmpp.js is not installed (%s/node_modules missing); install it with `cd test/clients/xmppjs && npm ci`", dir)
			return
		}
		if out, err := exec.Command(nodeBinary(), "--version").CombinedOutput(); err != nil {
			nodeErr = fmt.Sprintf("node is not runnable (%v: %s); install Node.js 20 (`sudo apt-get install nodejs npm`)", err, out)
		}
	})
	if nodeErr != "" {
		skipOrFatal(t, nodeErr)
	}
}

// observation is one JSON line printed by a script.
type observation struct {
	Event     string   `json:"event"`
	Kind      string   `json:"kind"` // message, presence, iq
	From      string   `json:"from"`
	To        string   `json:"to"`
	Type      string   `json:"type"`
	ID        string   `json:"id"`
	Body      *string  `json:"body"`
	Status    *string  `json:"status"`
	Children  []string `json:"children"` // "namespace name"
	XML       string   `json:"xml"`
	Condition string   `json:"condition"`
	JID       string   `json:"jid"`
	Mechanism string   `json:"mechanism"`
	Error     string   `json:"error"`
	Tag       string   `json:"tag"`

	raw  map[string]any
	line string
}

func (o observation) body() string {
	if o.Body == nil {
		return ""
	}
	return *o.Body
}

// has reports whether the stanza has a direct child {ns}name.
func (o observation) has(ns, name string) bool {
	for _, c := range o.Children {
		if c == ns+" "+name {
			return true
		}
	}
	return false
}

func (o observation) String() string { return o.line }

func parseObservation(line string) (observation, bool) {
	var o observation
	if err := json.Unmarshal([]byte(line), &o); err != nil || o.Event == "" {
		return o, false
	}
	_ = json.Unmarshal([]byte(line), &o.raw)
	o.line = line
	return o, true
}

func scriptCommand(ctx context.Context, t testing.TB, script string, args ...string) *exec.Cmd {
	t.Helper()
	dir := clientsDir(t)
	var cmd *exec.Cmd
	switch {
	case strings.HasSuffix(script, ".py"):
		needSlixmpp(t)
		cmd = exec.CommandContext(ctx, debianPython, append([]string{filepath.Join(dir, "slixmpp", script)}, args...)...)
		cmd.Dir = filepath.Join(dir, "slixmpp")
		cmd.Env = append(os.Environ(), "PYTHONUNBUFFERED=1", "PYTHONDONTWRITEBYTECODE=1")
	case strings.HasSuffix(script, ".mjs"):
		needXmppjs(t)
		cmd = exec.CommandContext(ctx, nodeBinary(), append([]string{filepath.Join(dir, "xmppjs", script)}, args...)...)
		cmd.Dir = filepath.Join(dir, "xmppjs")
		// Parley's test certificate is self-signed.
		cmd.Env = append(os.Environ(), "NODE_TLS_REJECT_UNAUTHORIZED=0", "NODE_NO_WARNINGS=1")
	default:
		t.Fatalf("unknown script kind %q", script)
	}
	cmd.WaitDelay = 2 * time.Second
	return cmd
}

// runScript runs a one-shot scenario script and returns what it printed. A
// non-zero exit (the script could not complete its steps) fails the test.
func runScript(t *testing.T, env []string, script string, args ...string) []observation {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), scriptTimeout)
	defer cancel()
	cmd := scriptCommand(ctx, t, script, args...)
	cmd.Env = append(cmd.Env, env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	var obs []observation
	for _, line := range strings.Split(stdout.String(), "\n") {
		if o, ok := parseObservation(strings.TrimSpace(line)); ok {
			obs = append(obs, o)
		}
	}
	if err != nil {
		t.Fatalf("%s %s: %v after %v\n--- stdout:\n%s--- stderr (tail):\n%s", script, strings.Join(args, " "), err,
			time.Since(start).Round(time.Millisecond), stdout.String(), tail(stderr.String(), 3000))
	}
	t.Logf("%s %s (%v):\n%s", script, strings.Join(args, " "), time.Since(start).Round(time.Millisecond), stdout.String())
	return obs
}

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}

// find returns the first observation matching pred.
func find(obs []observation, pred func(observation) bool) (observation, bool) {
	for _, o := range obs {
		if pred(o) {
			return o, true
		}
	}
	return observation{}, false
}

func isEvent(name string) func(observation) bool {
	return func(o observation) bool { return o.Event == name }
}

// agent is a long-running client process (agent.py / agent.mjs) driven by
// JSON commands on stdin.
type agent struct {
	t      *testing.T
	name   string
	cmd    *exec.Cmd
	stdin  interface{ Write([]byte) (int, error) }
	closeF func()
	stderr bytes.Buffer

	mu      sync.Mutex
	obs     []observation
	taken   []bool
	changed chan struct{}
	exited  chan struct{}
	JID     string
}

func startAgent(t *testing.T, name, script string, env []string, args ...string) *agent {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*scriptTimeout)
	cmd := scriptCommand(ctx, t, script, args...)
	cmd.Env = append(cmd.Env, env...)
	a := &agent{t: t, name: name, cmd: cmd, changed: make(chan struct{}), exited: make(chan struct{})}
	cmd.Stderr = &a.stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	a.stdin = stdin
	a.closeF = func() { stdin.Close() }
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			if o, ok := parseObservation(strings.TrimSpace(sc.Text())); ok {
				a.mu.Lock()
				a.obs = append(a.obs, o)
				a.taken = append(a.taken, false)
				close(a.changed)
				a.changed = make(chan struct{})
				a.mu.Unlock()
			}
		}
		_ = cmd.Wait()
		close(a.exited)
	}()
	t.Cleanup(func() {
		a.closeF()
		select {
		case <-a.exited:
		case <-time.After(5 * time.Second):
			cancel()
			<-a.exited
		}
		cancel()
		if t.Failed() {
			a.dump()
		}
	})
	ready := a.expect("ready (logged in)", isEvent("ready"))
	a.JID = ready.JID
	return a
}

func (a *agent) dump() {
	a.mu.Lock()
	defer a.mu.Unlock()
	var b strings.Builder
	for _, o := range a.obs {
		b.WriteString(o.line)
		b.WriteByte('\n')
	}
	a.t.Logf("transcript of %s:\n%s--- stderr (tail):\n%s", a.name, b.String(), tail(a.stderr.String(), 2000))
}

// slixAgent logs user@localhost/resource in with slixmpp over STARTTLS.
func slixAgent(t *testing.T, ts *testServer, user, resource string, flags ...string) *agent {
	t.Helper()
	args := append([]string{ts.addrs.C2S, user + "@localhost/" + resource}, flags...)
	return startAgent(t, user+"/"+resource+" (slixmpp)", "agent.py", []string{"PASSWORD=pw-" + user}, args...)
}

// jsAgent logs user@localhost/resource in with xmpp.js over TCP+STARTTLS
// ("tcp") or WebSocket ("ws").
func jsAgent(t *testing.T, ts *testServer, user, resource, transport string) *agent {
	t.Helper()
	return startAgent(t, user+"/"+resource+" (xmpp.js "+transport+")", "agent.mjs", []string{"PASSWORD=pw-" + user},
		xmppjsService(ts, transport), user, resource)
}

func xmppjsService(ts *testServer, transport string) string {
	if transport == "ws" {
		return "ws://" + ts.addrs.HTTP + "/xmpp-websocket"
	}
	return "xmpp://" + ts.addrs.C2S
}

// do sends one command to the agent.
func (a *agent) do(cmd map[string]any) {
	a.t.Helper()
	b, _ := json.Marshal(cmd)
	if _, err := a.stdin.Write(append(b, '\n')); err != nil {
		a.t.Fatalf("%s: writing command %s: %v", a.name, b, err)
	}
}

func (a *agent) send(xml string) { a.t.Helper(); a.do(map[string]any{"cmd": "send", "xml": xml}) }

// expect waits for an observation matching pred that no earlier expect
// took, and takes it.
func (a *agent) expect(desc string, pred func(observation) bool) observation {
	a.t.Helper()
	deadline := time.After(expectTimeout)
	for {
		exited := false
		select {
		case <-a.exited: // every line was read before exited closed
			exited = true
		default:
		}
		a.mu.Lock()
		for i, o := range a.obs {
			if !a.taken[i] && pred(o) {
				a.taken[i] = true
				a.mu.Unlock()
				return o
			}
			if o.Event == "fail" {
				a.mu.Unlock()
				a.t.Fatalf("%s: script failed while waiting for %s: %s", a.name, desc, o.Error)
			}
		}
		ch := a.changed
		a.mu.Unlock()
		if exited {
			a.t.Fatalf("%s: exited (%v) while waiting for %s", a.name, a.cmd.ProcessState, desc)
		}
		select {
		case <-ch:
		case <-a.exited:
		case <-deadline:
			a.t.Fatalf("%s: no %s within %v", a.name, desc, expectTimeout)
		}
	}
}

// countMatching counts observations matching pred (only those not taken if
// untakenOnly).
func (a *agent) countMatching(pred func(observation) bool, untakenOnly bool) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	n := 0
	for i, o := range a.obs {
		if pred(o) && (!untakenOnly || !a.taken[i]) {
			n++
		}
	}
	return n
}

// all returns every observation so far matching pred.
func (a *agent) all(pred func(observation) bool) []observation {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []observation
	for _, o := range a.obs {
		if pred(o) {
			out = append(out, o)
		}
	}
	return out
}

// quit ends the session gracefully and waits for the process.
func (a *agent) quit() {
	a.t.Helper()
	a.do(map[string]any{"cmd": "quit"})
	select {
	case <-a.exited:
	case <-time.After(10 * time.Second):
		a.t.Fatalf("%s did not exit after quit", a.name)
	}
}

// Stanza predicates.

func isStanza(kind string) func(observation) bool {
	return func(o observation) bool { return o.Event == "stanza" && o.Kind == kind }
}

func msgWithBody(body string) func(observation) bool {
	return func(o observation) bool { return o.Event == "stanza" && o.Kind == "message" && o.body() == body }
}

func msgWithChild(ns, name string) func(observation) bool {
	return func(o observation) bool { return o.Event == "stanza" && o.Kind == "message" && o.has(ns, name) }
}

func presenceFrom(bareOrFull, typ string) func(observation) bool {
	return func(o observation) bool {
		return o.Event == "stanza" && o.Kind == "presence" && o.Type == typ &&
			(o.From == bareOrFull || strings.HasPrefix(o.From, bareOrFull+"/"))
	}
}

// rosterPush matches a roster push carrying an item for jid whose XML
// contains every fragment in want (e.g. `subscription="to"`).
func rosterPush(jid string, want ...string) func(observation) bool {
	return func(o observation) bool {
		if o.Event != "stanza" || o.Kind != "iq" || o.Type != "set" || !o.has("jabber:iq:roster", "query") {
			return false
		}
		x := strings.ReplaceAll(o.XML, "'", `"`)
		if !strings.Contains(x, `jid="`+jid+`"`) {
			return false
		}
		for _, w := range want {
			if !strings.Contains(x, w) {
				return false
			}
		}
		return true
	}
}
