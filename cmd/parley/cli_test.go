package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/parley-im/parley/internal/admin"
	"github.com/parley-im/parley/internal/auth"
	"github.com/parley-im/parley/internal/config"
	"github.com/parley-im/parley/internal/selfsigned"
	"github.com/parley-im/parley/internal/store/pebble"
)

var none runOpts

// openStore opens the store of a data directory in the test process.
func openTestStore(t *testing.T, data string) *pebble.Store {
	t.Helper()
	st, err := pebble.Open(filepath.Join(data, "store"), pebble.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// checkPassword verifies that the stored SCRAM-SHA-256 key of user was
// derived from password.
func checkPassword(t *testing.T, st *pebble.Store, user, password string) {
	t.Helper()
	a, err := st.GetAccount(context.Background(), user)
	if err != nil {
		t.Fatal(err)
	}
	k := auth.DeriveKeys(password, auth.SHA256, a.SHA256.Salt, a.SHA256.Iterations)
	if !bytes.Equal(k.StoredKey, a.SHA256.StoredKey) {
		t.Errorf("%s: stored key does not match the password %q", user, password)
	}
}

func TestUserAddAndListDirect(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data") // does not exist yet
	r := ok(t, none, "user", "add", "alice@localhost", "--password", "pw-alice", "--data", data)
	if strings.TrimSpace(r.stdout) != "created user alice@localhost" {
		t.Errorf("stdout %q", r.stdout)
	}
	ok(t, runOpts{stdin: "pw-bob\n"}, "user", "add", "Bob@LocalHost", "--password-stdin", "--data", data)
	ok(t, none, "user", "add", "carol@example.org", "--password", "pw-carol", "--data", data)

	r = ok(t, none, "user", "list", "--data", data)
	if r.stdout != "alice@localhost\nbob@localhost\ncarol@example.org\n" {
		t.Errorf("user list:\n%s", r.stdout)
	}
	r = ok(t, none, "user", "list", "--domain", "localhost", "--data", data)
	if r.stdout != "alice@localhost\nbob@localhost\n" {
		t.Errorf("user list --domain localhost:\n%s", r.stdout)
	}

	fi, err := os.Stat(data)
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("data directory: %v %v", fi.Mode(), err)
	}
	st := openTestStore(t, data)
	checkPassword(t, st, "alice@localhost", "pw-alice")
	checkPassword(t, st, "bob@localhost", "pw-bob")
	_ = st.Close()

	// The data directory from the environment and from a config file.
	r = ok(t, runOpts{env: []string{"PARLEY_DATA=" + data}}, "user", "list")
	if !strings.Contains(r.stdout, "alice@localhost") {
		t.Errorf("PARLEY_DATA ignored: %q", r.stdout)
	}
	file := filepath.Join(t.TempDir(), "parley.toml")
	if err := os.WriteFile(file, []byte("data = \""+data+"\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r = ok(t, none, "user", "list", "--config", file)
	if !strings.Contains(r.stdout, "alice@localhost") {
		t.Errorf("--config ignored: %q", r.stdout)
	}
}

func TestUserErrors(t *testing.T) {
	data := t.TempDir()
	ok(t, none, "user", "add", "alice@localhost", "--password", "pw", "--data", data)

	fails(t, none, 1, "parley: user alice@localhost already exists\n",
		"user", "add", "alice@localhost", "--password", "other", "--data", data)
	fails(t, none, 1, "parley: user alice@localhost already exists\n",
		"user", "add", "ALICE@localhost", "--password", "other", "--data", data)
	fails(t, none, 1, `parley: invalid JID "alice": an account address looks like alice@localhost`,
		"user", "add", "alice", "--password", "pw", "--data", data)
	fails(t, none, 1, `invalid JID "alice@localhost/phone"`,
		"user", "add", "alice@localhost/phone", "--password", "pw", "--data", data)
	fails(t, none, 1, "parley: empty password refused",
		"user", "add", "bob@localhost", "--password", "", "--data", data)
	fails(t, runOpts{stdin: "\n"}, 1, "parley: empty password refused",
		"user", "add", "bob@localhost", "--password-stdin", "--data", data)
	fails(t, none, 1, "no password on standard input",
		"user", "add", "bob@localhost", "--password-stdin", "--data", data)
	fails(t, none, 2, "missing the password: add --password-stdin",
		"user", "add", "bob@localhost", "--data", data)
	fails(t, runOpts{stdin: "pw\n"}, 2, "use either --password or --password-stdin, not both",
		"user", "add", "bob@localhost", "--password", "pw", "--password-stdin", "--data", data)
	fails(t, none, 2, "missing the user's address", "user", "add", "--password", "pw", "--data", data)
	fails(t, none, 2, "too many arguments", "user", "del", "a@localhost", "b@localhost", "--data", data)
	fails(t, none, 1, "parley: no such user bob@localhost\n", "user", "del", "bob@localhost", "--data", data)
	fails(t, none, 1, "parley: no such user bob@localhost\n",
		"user", "passwd", "bob@localhost", "--password", "x", "--data", data)
	fails(t, none, 1, "no Parley data in", "user", "list", "--data", filepath.Join(data, "nothing-here"))
	fails(t, none, 2, `unknown command "lst" for "parley user" (did you mean "list"?)`, "user", "lst")
	fails(t, none, 2, "unknown flag: --pasword", "user", "add", "x@localhost", "--pasword", "x")

	// A user outside the configured domain is created, with a warning.
	r := ok(t, none, "user", "add", "dave@example.org", "--password", "pw", "--data", data)
	if !strings.Contains(r.stderr, `warning: dave@example.org is not in the configured domain "localhost"`) {
		t.Errorf("no warning: %q", r.stderr)
	}

	// Passwords are never echoed.
	for _, out := range []string{r.stdout, r.stderr} {
		if strings.Contains(out, "pw") {
			t.Errorf("password echoed: %q", out)
		}
	}
}

func TestUserPasswdAndDel(t *testing.T) {
	data := t.TempDir()
	ok(t, none, "user", "add", "alice@localhost", "--password", "old-pw", "--data", data)
	r := ok(t, runOpts{stdin: "new pw with spaces \r\n"}, "user", "passwd", "alice@localhost", "--password-stdin", "--data", data)
	if strings.Contains(r.stdout+r.stderr, "new pw") {
		t.Errorf("password echoed: %q %q", r.stdout, r.stderr)
	}
	st := openTestStore(t, data)
	checkPassword(t, st, "alice@localhost", "new pw with spaces ") // only the line ending is stripped
	_ = st.Close()

	ok(t, none, "user", "del", "alice@localhost", "--data", data)
	r = ok(t, none, "user", "list", "--data", data)
	if r.stdout != "" || !strings.Contains(r.stderr, "no users") {
		t.Errorf("after del: stdout %q stderr %q", r.stdout, r.stderr)
	}
}

// TestUserThroughAdminSocket serves the admin API from this process, which
// also holds the store's lock: "parley user" can only succeed through the
// socket.
func TestUserThroughAdminSocket(t *testing.T) {
	data := t.TempDir()
	st := openTestStore(t, data)
	defer st.Close()
	l, err := admin.Listen(filepath.Join(data, "admin.sock"))
	if err != nil {
		t.Fatal(err)
	}
	srv := admin.NewServer(admin.StoreAccounts(st, 0), nil)
	go func() { _ = srv.Serve(l) }()

	ok(t, runOpts{stdin: "pw-carol\n"}, "user", "add", "carol@localhost", "--password-stdin", "--data", data)
	checkPassword(t, st, "carol@localhost", "pw-carol")
	fails(t, none, 1, "parley: user carol@localhost already exists\n",
		"user", "add", "carol@localhost", "--password", "x", "--data", data)
	ok(t, none, "user", "passwd", "carol@localhost", "--password", "pw2", "--data", data)
	checkPassword(t, st, "carol@localhost", "pw2")
	if r := ok(t, none, "user", "list", "--data", data); r.stdout != "carol@localhost\n" {
		t.Errorf("list: %q", r.stdout)
	}
	ok(t, none, "user", "del", "carol@localhost", "--data", data)
	if _, err := st.GetAccount(context.Background(), "carol@localhost"); err == nil {
		t.Error("not deleted")
	}

	// An explicit --admin-socket elsewhere.
	other := filepath.Join(t.TempDir(), "other.sock")
	l2, err := admin.Listen(other)
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(l2) }()
	ok(t, none, "user", "add", "dan@localhost", "--password", "pw", "--data", t.TempDir(), "--admin-socket", other)
	checkPassword(t, st, "dan@localhost", "pw")

	// With the admin server gone and the store still locked, the direct
	// path is taken and fails clearly.
	_ = srv.Close()
	fails(t, none, 1, "is in use by another process, and no server answers on its admin socket",
		"user", "list", "--data", data)
}

// TestStaleSocketFallsBack: a socket file left by a crashed server does
// not stop "parley user" from opening the store.
func TestStaleSocketFallsBack(t *testing.T) {
	data := t.TempDir()
	sock := filepath.Join(data, "admin.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	l.(*net.UnixListener).SetUnlinkOnClose(false)
	_ = l.Close()
	ok(t, none, "user", "add", "erin@localhost", "--password", "pw", "--data", data)
	if r := ok(t, none, "user", "list", "--data", data); r.stdout != "erin@localhost\n" {
		t.Errorf("list: %q", r.stdout)
	}
}

func TestConfigCheck(t *testing.T) {
	r := ok(t, none, "config", "check")
	if !strings.Contains(r.stdout, "\ndomain = \"localhost\"\n") || !strings.Contains(r.stdout, "resume_timeout = \"5m\"") {
		t.Errorf("config check output:\n%s", r.stdout)
	}
	// The output is a configuration file that loads back.
	file := filepath.Join(t.TempDir(), "out.toml")
	if err := os.WriteFile(file, []byte(r.stdout), 0o600); err != nil {
		t.Fatal(err)
	}
	ok(t, none, "config", "check", "--config", file)

	// Precedence: file < environment < flags.
	if err := os.WriteFile(file, []byte("domain = \"file.example\"\nmailbox_size = 7\nping_interval = \"2m\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r = ok(t, runOpts{env: []string{"PARLEY_CONFIG=" + file, "PARLEY_MAILBOX_SIZE=8", "PARLEY_DOMAIN=env.example"}},
		"config", "check", "--domain", "flag.example")
	for _, want := range []string{`domain = "flag.example"`, "mailbox_size = 8", `ping_interval = "2m"`} {
		if !strings.Contains(r.stdout, want+"\n") {
			t.Errorf("missing %q in\n%s", want, r.stdout)
		}
	}

	fails(t, none, 1, `parley: --domain "a b": invalid domain`, "config", "check", "--domain", "a b")
	r = fails(t, none, 1, "parley: --mailbox-size 0: must be positive", "config", "check", "--mailbox-size", "0", "--c2s", "nope")
	if !strings.Contains(r.stderr, `parley: --c2s "nope": want host:port`) || r.stdout != "" {
		t.Errorf("every problem should be listed, nothing printed on stdout: %q %q", r.stderr, r.stdout)
	}
	fails(t, none, 2, `invalid argument "lots" for "--mailbox-size" flag`, "config", "check", "--mailbox-size", "lots")
	fails(t, none, 2, `invalid argument "soon" for "--ping-timeout" flag`, "config", "check", "--ping-timeout", "soon")
	fails(t, none, 1, "--tls-cert", "config", "check", "--tls-cert", "cert.pem")
	fails(t, runOpts{env: []string{"PARLEY_ALLOW_REGISTRATION=maybe"}}, 1,
		`parley: environment variable PARLEY_ALLOW_REGISTRATION: "maybe" is not a boolean`, "config", "check")

	if err := os.WriteFile(file, []byte("domian = \"x\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	fails(t, none, 1, `unknown key "domian"`, "config", "check", "--config", file)
	fails(t, none, 1, "no such file", "config", "check", "--config", filepath.Join(t.TempDir(), "missing.toml"))
	checkEveryProblemListed(t, file)
}

// checkEveryProblemListed: config check lists the problems of the file
// and those of the values, each naming the file's key when the value came
// from there and the flag when a flag overrode it.
func checkEveryProblemListed(t *testing.T, file string) {
	t.Helper()
	body := "domian = \"x\"\nresume_timeout = \"10 minutes\"\nlog_level = \"verbose\"\nc2s = \"nohostport\"\nping_interval = \"1ms\"\n"
	if err := os.WriteFile(file, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	r := fails(t, none, 1, `unknown key "domian"`, "config", "check", "--config", file, "--ping-interval", "2ms")
	for _, want := range []string{
		`key "resume_timeout": "10 minutes" is not a duration`,
		`parley: config file ` + file + `: log_level = "verbose": unknown log level`,
		`parley: config file ` + file + `: c2s = "nohostport": want host:port`,
		`parley: --ping-interval 2ms: must be at least 1s`,
	} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("config check: no %q in\n%s", want, r.stderr)
		}
	}
}

func TestVersion(t *testing.T) {
	r := ok(t, none, "version")
	for _, want := range []string{"parley ", "commit ", "go      go1."} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("version output lacks %q:\n%s", want, r.stdout)
		}
	}
	ok(t, none, "--version")
}

// TestHelp runs --help for every command: exit 0, and every flag of the
// command (its own and inherited) is mentioned, as are its examples.
func TestHelp(t *testing.T) {
	var walk func(c *cobra.Command)
	var cmds []*cobra.Command
	walk = func(c *cobra.Command) {
		if c.Hidden || c.Name() == "help" {
			return
		}
		cmds = append(cmds, c)
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(newRootCmd(&app{}))
	var names []string
	for _, c := range cmds {
		path := strings.Fields(c.CommandPath())[1:]
		names = append(names, strings.Join(path, " "))
		r := ok(t, none, append(path, "--help")...)
		if !strings.Contains(r.stdout, "Usage:") {
			t.Errorf("%s --help: no usage:\n%s", c.CommandPath(), r.stdout)
		}
		if c.Example == "" || !strings.Contains(r.stdout, "Examples:") {
			t.Errorf("%s has no examples", c.CommandPath())
		}
		c.Flags().VisitAll(func(f *pflag.Flag) { checkFlag(t, c, r.stdout, f) })
		c.InheritedFlags().VisitAll(func(f *pflag.Flag) { checkFlag(t, c, r.stdout, f) })
	}
	for _, want := range []string{"serve", "user add", "user del", "user passwd", "user list", "config check", "version", "chat", "send", "listen",
		"link", "pair", "devices list", "devices revoke"} {
		if !slices.Contains(names, want) {
			t.Errorf("no command %q (have %q)", want, names)
		}
	}
}

// TestHelpTopics: "parley help COMMAND" is COMMAND's help; an unknown
// topic is a usage error, as an unknown command is, not the root's help.
func TestHelpTopics(t *testing.T) {
	if r := ok(t, none, "help", "user", "add"); !strings.Contains(r.stdout, "parley user add") {
		t.Errorf("help user add:\n%s", r.stdout)
	}
	for _, args := range [][]string{{"help", "nosuch"}, {"help", "user", "nosuch"}} {
		if r := fails(t, none, 2, `parley: unknown help topic "`+strings.Join(args[1:], " ")+`"`, args...); r.stdout != "" {
			t.Errorf("%s printed help:\n%s", args, r.stdout)
		}
	}
	fails(t, none, 2, `unknown help topic "sevre" (did you mean "serve"?)`, "help", "sevre")
}

// TestHelpTellsWhatEachCommandServes: serve's help names every default
// listener; the standalone relay and media server describe their --data,
// --http and --media as what they serve, not as serve's.
func TestHelpTellsWhatEachCommandServes(t *testing.T) {
	r := ok(t, none, "serve", "--help")
	for _, want := range []string{"5222", "5223", "5224", "5280", "the web client", "5281", "3478"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("serve --help does not mention %q", want)
		}
	}
	for _, c := range []struct{ cmd, want string }{
		{"turn", "HTTP listener, host:port, for /metrics and /healthz;"},
		{"turn", "data directory: the TURN secret"},
		{"media", "the media HTTP listener, host:port: uploads, downloads, /metrics and /healthz"},
		{"media", "data directory: the signing secret"},
	} {
		r := ok(t, none, c.cmd, "--help")
		if !strings.Contains(r.stdout, c.want) {
			t.Errorf("%s --help does not say %q", c.cmd, c.want)
		}
		for _, not := range []string{"web client", "WebSocket", "admin socket", "empty disables it here"} {
			if strings.Contains(r.stdout, not) {
				t.Errorf("%s --help mentions %q, which it does not serve", c.cmd, not)
			}
		}
	}
}

func checkFlag(t *testing.T, c *cobra.Command, help string, f *pflag.Flag) {
	if !f.Hidden && !strings.Contains(help, "--"+f.Name) {
		t.Errorf("%s --help does not mention --%s", c.CommandPath(), f.Name)
	}
}

// TestServeFlags checks, in-process, that serve hands the loaded
// configuration to the server and maps its outcome to an exit status.
func TestServeFlags(t *testing.T) {
	for _, k := range []string{"PARLEY_CONFIG", "PARLEY_DOMAIN", "PARLEY_DATA"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	var got config.Config
	var stderr bytes.Buffer
	a := &app{stdin: strings.NewReader(""), stdout: &bytes.Buffer{}, stderr: &stderr,
		runServer: func(ctx context.Context, cfg config.Config, log *slog.Logger, _ <-chan config.Config) error {
			got = cfg
			if ctx.Err() != nil {
				t.Error("context cancelled before the server ran")
			}
			log.Info("fake server ran")
			return nil
		}}
	data := t.TempDir()
	file := filepath.Join(t.TempDir(), "parley.toml")
	if err := os.WriteFile(file, []byte("domain = \"file.example\"\nhttp = \"\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PARLEY_CONFIG", file)
	t.Setenv("PARLEY_LOG_FORMAT", "json")
	code := run(context.Background(), a, []string{"serve", "--data", data, "--c2s", "127.0.0.1:0", "--allow-registration"})
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	want := config.Default()
	want.Data, want.C2S, want.AllowRegistration = data, "127.0.0.1:0", true
	want.Domain, want.HTTP, want.LogFormat = "file.example", "", "json"
	if got != want {
		t.Errorf("server got\n%+v\nwant\n%+v", got, want)
	}
	if !strings.Contains(stderr.String(), `"msg":"fake server ran"`) {
		t.Errorf("logger not built from the config: %s", stderr.String())
	}

	// An invalid configuration never reaches the server.
	a.runServer = func(context.Context, config.Config, *slog.Logger, <-chan config.Config) error {
		t.Error("server run with an invalid configuration")
		return nil
	}
	stderr.Reset()
	if code := run(context.Background(), a, []string{"serve", "--domain", "a b"}); code != 1 ||
		!strings.Contains(stderr.String(), `parley: --domain "a b": invalid domain`) {
		t.Errorf("exit %d: %s", code, stderr.String())
	}

	// A server error is a failure; cancellation is a clean stop.
	a.runServer = func(context.Context, config.Config, *slog.Logger, <-chan config.Config) error {
		return errors.New("port in use")
	}
	stderr.Reset()
	if code := run(context.Background(), a, []string{"serve", "--data", data}); code != 1 ||
		!strings.Contains(stderr.String(), "parley: port in use\n") {
		t.Errorf("exit %d: %s", code, stderr.String())
	}
	a.runServer = func(ctx context.Context, _ config.Config, _ *slog.Logger, _ <-chan config.Config) error {
		<-ctx.Done()
		return ctx.Err()
	}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	if code := run(ctx, a, []string{"serve", "--data", data}); code != 0 {
		t.Errorf("exit %d after cancellation: %s", code, stderr.String())
	}
}

// TestServeStopsOnSignal runs the real server and stops it with SIGTERM,
// then SIGINT.
func TestServeStopsOnSignal(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		data := t.TempDir()
		cmd := exec.Command(parleyBin, "serve", "--data", data, "--c2s", "127.0.0.1:0", "--c2s-tls", "", "--native", "", "--http", "", "--media", "127.0.0.1:0", "--turn", "")
		cmd.Env = cleanEnv()
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		sock := filepath.Join(data, "admin.sock")
		deadline := time.Now().Add(20 * time.Second)
		for {
			if c, err := admin.Dial(sock); err == nil {
				_ = c.Close()
				break
			}
			if time.Now().After(deadline) {
				_ = cmd.Process.Kill()
				t.Fatalf("server did not start:\n%s", stderr.String())
			}
			time.Sleep(20 * time.Millisecond)
		}
		_ = cmd.Process.Signal(sig)
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("%v: %v\n%s", sig, err, stderr.String())
			}
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			t.Fatalf("%v: server did not stop:\n%s", sig, stderr.String())
		}
		if !strings.Contains(stderr.String(), "open file limit") {
			t.Errorf("the open file limit is not logged:\n%s", stderr.String())
		}
	}
}

// TestConfigCheckReadsFiles: config check loads the files the
// configuration names, as serve would at start, and lists every one that
// cannot serve.
func TestConfigCheckReadsFiles(t *testing.T) {
	dir := t.TempDir()
	certPEM, keyPEM, err := selfsigned.PEM("localhost")
	if err != nil {
		t.Fatal(err)
	}
	cert, key, secret := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem"), filepath.Join(dir, "push.secret")
	for file, body := range map[string][]byte{cert: certPEM, key: keyPEM, secret: []byte("s3cret\n")} {
		if err := os.WriteFile(file, body, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	ok(t, none, "config", "check", "--tls-cert", cert, "--tls-key", key, "--component-secrets", "push.example.org="+secret)

	missing := filepath.Join(dir, "missing")
	r := fails(t, none, 1, "loading --tls-cert/--tls-key: open "+missing, "config", "check",
		"--tls-cert", missing, "--tls-key", key, "--component-secrets", "push.example.org="+missing+",b.example.org="+secret)
	if !strings.Contains(r.stderr, "--component-secrets: secret of push.example.org: open "+missing) || r.stdout != "" {
		t.Errorf("config check with missing files:\nstdout %q\nstderr %q", r.stdout, r.stderr)
	}
	fails(t, none, 1, "--tls-cert/--tls-key", "config", "check", "--tls-cert", key, "--tls-key", cert)
}

// TestSecondServeOnADataDirectoryInUse: a second server on a data
// directory says that the store is in use and by which process, as
// "parley user" does, not pebble's "resource temporarily unavailable".
func TestSecondServeOnADataDirectoryInUse(t *testing.T) {
	srv := startServe(t)
	pidFile := filepath.Join(srv.data, "parley.pid")
	waitForFile(t, pidFile)
	want := fmt.Sprintf("parley: the store in %s is in use by another process (pid %d, from %s): is \"parley serve\" already running",
		filepath.Join(srv.data, "store"), srv.cmd.Process.Pid, pidFile)
	fails(t, none, 1, want, "serve", "--data", srv.data, "--c2s", "127.0.0.1:0", "--c2s-tls", "", "--native", "", "--http", "",
		"--media", "", "--turn", "")
}

// waitForFile waits until path exists.
func waitForFile(t *testing.T, path string) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if _, err := os.Stat(path); err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s", path)
		}
	}
}

// TestServeDataDirectoryCannotBeCreated: serve fails with the data
// directory's error alone, without first warning that live upgrades are
// off (they are off because of that same error).
func TestServeDataDirectoryCannotBeCreated(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	r := fails(t, none, 1, "parley: creating data directory: mkdir "+file+": not a directory",
		"serve", "--data", filepath.Join(file, "data"), "--c2s", "127.0.0.1:0", "--c2s-tls", "", "--native", "", "--http", "", "--media", "", "--turn", "")
	if strings.Contains(r.stderr, "WARN") {
		t.Errorf("a warning before the error:\n%s", r.stderr)
	}
}
