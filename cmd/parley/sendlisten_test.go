package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parley-im/parley/internal/servertest"
)

// chatServer starts a server with alice and bob.
func chatServer(t *testing.T) *servertest.Server {
	t.Helper()
	srv := servertest.Start(t, nil)
	srv.AddUser(t, "alice@localhost", "pw-alice")
	srv.AddUser(t, "bob@localhost", "pw-bob")
	return srv
}

// login is the flags that log user in on srv, its password from the
// environment.
func login(srv *servertest.Server, user string) (runOpts, []string) {
	return runOpts{env: []string{"PARLEY_PASSWORD=pw-" + user}},
		[]string{"--jid", user + "@localhost", "--server", srv.Native, "--insecure"}
}

// listenProc is a running "parley listen".
type listenProc struct {
	cmd    *exec.Cmd
	lines  chan map[string]any // the JSON lines on stdout
	stderr *bytes.Buffer
	done   chan error
}

func startListen(t *testing.T, srv *servertest.Server, user string, args ...string) *listenProc {
	t.Helper()
	o, flags := login(srv, user)
	cmd := exec.Command(parleyBin, append(append([]string{"listen"}, flags...), args...)...)
	cmd.Env = append(cleanEnv(), o.env...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderrR, stderrW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = stderrW
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stderrW.Close()
	p := &listenProc{cmd: cmd, lines: make(chan map[string]any, 100), stderr: &bytes.Buffer{}, done: make(chan error, 1)}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	go p.readLines(t, stdout)
	ready := make(chan struct{})
	go p.readStderr(stderrR, ready)
	select {
	case <-ready:
	case <-time.After(20 * time.Second):
		t.Fatalf("parley listen did not log in")
	}
	return p
}

func (p *listenProc) readLines(t *testing.T, r interface{ Read([]byte) (int, error) }) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		var v map[string]any
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			t.Errorf("listen printed a line that is not JSON: %q", sc.Text())
			continue
		}
		p.lines <- v
	}
	close(p.lines)
	p.done <- p.cmd.Wait()
}

func (p *listenProc) readStderr(r *os.File, ready chan struct{}) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		p.stderr.WriteString(sc.Text() + "\n") // read only after done
		if strings.Contains(sc.Text(), "listening as") {
			close(ready)
		}
	}
}

// nextMessage returns the next "message" line.
func (p *listenProc) nextMessage(t *testing.T) map[string]any {
	t.Helper()
	timeout := time.After(20 * time.Second)
	for {
		select {
		case v, ok := <-p.lines:
			if !ok {
				t.Fatal("listen ended before the message")
			}
			if v["type"] == "message" {
				return v
			}
		case <-timeout:
			t.Fatal("no message line from listen")
		}
	}
}

// wait waits for listen to exit and returns its error.
func (p *listenProc) wait(t *testing.T) error {
	t.Helper()
	for range p.lines {
	}
	select {
	case err := <-p.done:
		return err
	case <-time.After(20 * time.Second):
		t.Fatal("listen did not exit")
		return nil
	}
}

// TestSendAndListen: bob listens for two messages; alice sends them, the
// first waiting for bob's receipt.
func TestSendAndListen(t *testing.T) {
	srv := chatServer(t)
	bob := startListen(t, srv, "bob", "--count", "2", "--timeout", "60s")

	o, alice := login(srv, "alice")
	r := ok(t, o, append([]string{"send", "--to", "bob@localhost", "--wait", "delivered", "hello bob"}, alice...)...)
	id1 := strings.TrimSpace(r.stdout)
	// bob's listen prints a message before it sends the receipt: the line
	// is there once send has returned.
	select {
	case v := <-bob.lines:
		for v["type"] != "message" {
			v = <-bob.lines
		}
		if v["body"] != "hello bob" || v["id"] != id1 || v["delayed"] != false || v["stanza_id"] == "" ||
			!strings.HasPrefix(v["from"].(string), "alice@localhost/") {
			t.Errorf("first message line %v (sent id %q)", v, id1)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("send --wait delivered returned before bob printed the message")
	}

	// The password on standard input this time.
	o.env, o.stdin = nil, "pw-alice\n"
	r = ok(t, o, append([]string{"send", "--to", "bob@localhost", "--password-stdin", "second"}, alice...)...)
	id2 := strings.TrimSpace(r.stdout)
	if v := bob.nextMessage(t); v["body"] != "second" || v["id"] != id2 || v["wants_receipt"] != true {
		t.Errorf("second message line %v (sent id %q)", v, id2)
	}
	if err := bob.wait(t); err != nil {
		t.Fatalf("listen --count 2: %v\n%s", err, bob.stderr)
	}
	if id1 == id2 || len(id1) < 10 {
		t.Errorf("ids %q %q", id1, id2)
	}
}

// TestSendWaitsForTicks: with bob offline, --wait delivered times out after
// the sent tick; bob's listen then gets the message from the offline queue,
// and a second wait for a message bob sees live succeeds.
func TestSendWaitsForTicks(t *testing.T) {
	srv := chatServer(t)
	o, alice := login(srv, "alice")
	r := fails(t, o, 1, "timed out waiting for the delivered tick of message",
		append([]string{"send", "--to", "bob@localhost", "--wait", "delivered", "--timeout", "2s", "while you were out"}, alice...)...)
	id := strings.TrimSpace(r.stdout)
	if id == "" || !strings.Contains(r.stderr, "the server has stored it") {
		t.Errorf("stdout %q stderr %q", r.stdout, r.stderr)
	}

	bob := startListen(t, srv, "bob", "--count", "1", "--timeout", "30s")
	v := bob.nextMessage(t)
	if v["body"] != "while you were out" || v["id"] != id || v["delayed"] != true || v["stamp"] == nil {
		t.Errorf("offline message line %v", v)
	}
	if err := bob.wait(t); err != nil {
		t.Fatalf("listen: %v\n%s", err, bob.stderr)
	}

	// --count with too few messages fails at --timeout.
	fails(t, o, 1, "timed out after 1s with 0 of 3 messages",
		append([]string{"listen", "--count", "3", "--timeout", "1s"}, alice...)...)
}

// TestSendRefused: a message to an account that does not exist, or to
// another server, fails at once with the server's reason, with or without
// --wait, over both encodings, and prints no id (the server keeps nothing).
func TestSendRefused(t *testing.T) {
	srv := chatServer(t)
	o, binary := login(srv, "alice")
	xml := []string{"--jid", "alice@localhost", "--server", srv.C2S, "--insecure", "--encoding", "xml"}
	const (
		noAccount = "nobody@localhost: no such account (service-unavailable)"
		noServer  = "someone@example.com: this server talks to no other server (remote-server-not-found)"
	)
	for _, c := range []struct {
		to, wait, why string
		login         []string
	}{
		{"nobody@localhost", "sent", noAccount, binary},
		{"nobody@localhost", "delivered", noAccount, binary},
		{"nobody@localhost", "sent", noAccount, xml},
		{"someone@example.com", "sent", noServer, binary},
		{"someone@example.com", "delivered", noServer, xml},
	} {
		args := append([]string{"send", "--to", c.to, "--wait", c.wait, "--timeout", "10s", "hi"}, c.login...)
		start := time.Now()
		r := fails(t, o, 1, c.why, args...)
		if r.stdout != "" || time.Since(start) > 5*time.Second {
			t.Errorf("%v: stdout %q after %v", args, r.stdout, time.Since(start))
		}
	}
}

func TestClientLoginSettings(t *testing.T) {
	srv := chatServer(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "client.toml")
	conf := "jid = \"alice@localhost\"\npassword = \"pw-alice\"\nserver = \"" + srv.C2S + "\"\nencoding = \"xml\"\ninsecure = true\n"
	if err := os.WriteFile(file, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	r := ok(t, none, "send", "--client-config", file, "--to", "bob@localhost", "from the file")
	if strings.Contains(r.stdout+r.stderr, "pw-alice") || !strings.Contains(r.stderr, "--insecure") {
		t.Errorf("stdout %q stderr %q", r.stdout, r.stderr)
	}
	// The same from the environment, with the password file readable by others.
	if err := os.Chmod(file, 0o644); err != nil {
		t.Fatal(err)
	}
	r = ok(t, runOpts{env: []string{"PARLEY_CLIENT_CONFIG=" + file}}, "send", "--to", "bob@localhost", "again")
	if !strings.Contains(r.stderr, "holds a password and other users can read it") {
		t.Errorf("no warning: %q", r.stderr)
	}

	o, alice := login(srv, "alice")
	send := func(extra ...string) []string {
		return append(append([]string{"send", "--to", "bob@localhost"}, extra...), "text")
	}
	fails(t, runOpts{env: []string{"PARLEY_PASSWORD=wrong-pw"}}, 1, "wrong password or no such account",
		send(alice...)...)
	fails(t, o, 1, "--insecure accepts it", send("--jid", "alice@localhost", "--server", srv.Native)...)
	fails(t, o, 2, "missing the account: add --jid", send()...)
	fails(t, none, 2, "missing the password", send(alice...)...)
	fails(t, o, 2, `invalid --tls "tcp"`, send(append(alice, "--tls", "tcp")...)...)
	fails(t, o, 2, "use either --password or --password-stdin", send(append(alice, "--password", "x", "--password-stdin")...)...)
	fails(t, o, 2, `invalid --wait "read"`, send(append(alice, "--wait", "read")...)...)
	fails(t, o, 2, "missing the recipient", append([]string{"send", "text"}, alice...)...)
	fails(t, o, 2, "missing the message text", append([]string{"send", "--to", "bob@localhost"}, alice...)...)
	fails(t, o, 1, "is \"parley serve\" running there?", send("--jid", "alice@localhost", "--server", "127.0.0.1:1")...)
	// The wrong --encoding or --tls for the port is named.
	fails(t, o, 1, "use --tls starttls", send("--jid", "alice@localhost", "--server", srv.C2S, "--encoding", "xml", "--tls", "plain")...)
	fails(t, o, 1, "use --encoding binary", send("--jid", "alice@localhost", "--server", srv.Native, "--encoding", "xml", "--insecure")...)
	fails(t, o, 1, "binary protocol is on port 5224", send("--jid", "alice@localhost", "--server", srv.C2S, "--insecure")...)
	fails(t, o, 1, "unknown key \"passwd\"", send("--client-config", writeFile(t, "passwd = \"x\"\n"))...)
}

func writeFile(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "f.toml")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
