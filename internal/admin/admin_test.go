package admin

import (
	"bufio"
	"context"
	"errors"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-im/parley/internal/logbuf"
)

// memAccounts is an in-memory Accounts for testing the socket protocol.
type memAccounts struct {
	mu    sync.Mutex
	users map[string]string // jid -> password
}

func (m *memAccounts) CreateUser(_ context.Context, jid, password string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !strings.Contains(jid, "@") {
		return userErr(ErrInvalid, "invalid JID %q", jid)
	}
	if _, ok := m.users[jid]; ok {
		return userErr(ErrUserExists, "user %s already exists", jid)
	}
	m.users[jid] = password
	return nil
}

func (m *memAccounts) DeleteUser(_ context.Context, jid string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.users[jid]; !ok {
		return userErr(ErrNoSuchUser, "no such user %s", jid)
	}
	delete(m.users, jid)
	return nil
}

func (m *memAccounts) SetPassword(_ context.Context, jid, password string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.users[jid]; !ok {
		return userErr(ErrNoSuchUser, "no such user %s", jid)
	}
	if jid == "broken@localhost" {
		return errors.New("disk on fire")
	}
	m.users[jid] = password
	return nil
}

func (m *memAccounts) ListUsers(_ context.Context, domain string) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for j := range m.users {
		if domain == "" || strings.HasSuffix(j, "@"+domain) {
			out = append(out, j)
		}
	}
	slices.Sort(out)
	return out, nil
}

type fixture struct {
	path string
	srv  *Server
	acc  *memAccounts
	log  *logbuf.Buffer
	done chan error
}

// start serves accounts (an in-memory set unless given) on a real unix
// socket in a temporary directory.
func start(t *testing.T, accounts Accounts) *fixture {
	t.Helper()
	f := &fixture{path: filepath.Join(t.TempDir(), "admin.sock"), log: &logbuf.Buffer{}, done: make(chan error, 1)}
	if accounts == nil {
		f.acc = &memAccounts{users: map[string]string{}}
		accounts = f.acc
	}
	l, err := Listen(f.path)
	if err != nil {
		t.Fatal(err)
	}
	f.srv = NewServer(accounts, slog.New(slog.NewTextHandler(f.log, &slog.HandlerOptions{Level: slog.LevelDebug})))
	go func() { f.done <- f.srv.Serve(l) }()
	t.Cleanup(func() { _ = f.srv.Close() })
	return f
}

func dial(t *testing.T, path string) *Client {
	t.Helper()
	c, err := Dial(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func TestProtocol(t *testing.T) {
	f := start(t, nil)
	c := dial(t, f.path)
	ctx := context.Background()
	const secret = "correct horse battery staple"

	if err := c.CreateUser(ctx, "alice@localhost", secret); err != nil {
		t.Fatal(err)
	}
	if err := c.CreateUser(ctx, "bob@localhost", "pw-bob"); err != nil {
		t.Fatal(err)
	}
	if err := c.CreateUser(ctx, "carol@example.org", "pw-carol"); err != nil {
		t.Fatal(err)
	}

	err := c.CreateUser(ctx, "alice@localhost", "again")
	if !errors.Is(err, ErrUserExists) || err.Error() != "user alice@localhost already exists" {
		t.Errorf("duplicate add: %v", err)
	}
	if err := c.CreateUser(ctx, "nobody", "pw"); !errors.Is(err, ErrInvalid) {
		t.Errorf("invalid JID: %v", err)
	}

	users, err := c.ListUsers(ctx, "localhost")
	if err != nil || !slices.Equal(users, []string{"alice@localhost", "bob@localhost"}) {
		t.Errorf("list localhost: %v %v", users, err)
	}
	users, err = c.ListUsers(ctx, "")
	if err != nil || len(users) != 3 {
		t.Errorf("list all: %v %v", users, err)
	}
	users, err = c.ListUsers(ctx, "nowhere.example")
	if err != nil || users == nil || len(users) != 0 {
		t.Errorf("list empty domain: %#v %v", users, err)
	}

	if err := c.SetPassword(ctx, "bob@localhost", "new-pw"); err != nil {
		t.Fatal(err)
	}
	if f.acc.users["bob@localhost"] != "new-pw" {
		t.Error("password not changed")
	}
	if err := c.SetPassword(ctx, "zed@localhost", "x"); !errors.Is(err, ErrNoSuchUser) {
		t.Errorf("passwd of missing user: %v", err)
	}

	if err := c.DeleteUser(ctx, "bob@localhost"); err != nil {
		t.Fatal(err)
	}
	err = c.DeleteUser(ctx, "bob@localhost")
	if !errors.Is(err, ErrNoSuchUser) || err.Error() != "no such user bob@localhost" {
		t.Errorf("second delete: %v", err)
	}

	logs := f.log.String()
	if strings.Contains(logs, secret) || strings.Contains(logs, "new-pw") || strings.Contains(logs, "pw-bob") {
		t.Errorf("a password reached the log:\n%s", logs)
	}
	if !strings.Contains(logs, "user.add") || !strings.Contains(logs, "alice@localhost") {
		t.Errorf("operations should be logged:\n%s", logs)
	}
}

func TestInternalErrorIsReported(t *testing.T) {
	f := start(t, nil)
	f.acc.users["broken@localhost"] = "x"
	c := dial(t, f.path)
	err := c.SetPassword(context.Background(), "broken@localhost", "y")
	var e *Error
	if !errors.As(err, &e) || e.Kind != nil || !strings.Contains(err.Error(), "disk on fire") {
		t.Errorf("got %#v", err)
	}
}

// TestWireFormat pins the bytes on the wire, as documented.
func TestWireFormat(t *testing.T) {
	f := start(t, nil)
	conn, err := net.Dial("unix", f.path)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	r := bufio.NewReader(conn)
	for _, tc := range []struct{ req, resp string }{
		{`{"op":"user.add","jid":"alice@localhost","password":"s3cret"}`, `{"ok":true}`},
		{`{"op":"user.add","jid":"alice@localhost","password":"s3cret"}`, `{"error":"user alice@localhost already exists","code":"exists"}`},
		{`{"op":"user.list","domain":"localhost"}`, `{"ok":true,"users":["alice@localhost"]}`},
		{`{"op":"ping"}`, `{"ok":true}`},
		{`not json`, `{"error":"malformed request: want one JSON object per line","code":"invalid"}`},
		{`{"op":"user.explode"}`, `{"error":"unknown operation \"user.explode\"","code":"invalid"}`},
		{`{"op":"user.del","jid":"alice@localhost"}`, `{"ok":true}`},
	} {
		if _, err := conn.Write([]byte(tc.req + "\n")); err != nil {
			t.Fatal(err)
		}
		got, err := r.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if got != tc.resp+"\n" {
			t.Errorf("%s\n got %s want %s", tc.req, got, tc.resp)
		}
	}
}

func TestRequestSizeLimit(t *testing.T) {
	f := start(t, nil)
	c := dial(t, f.path)

	// Just under the limit is served.
	pw := strings.Repeat("p", MaxRequestBytes-100)
	if err := c.CreateUser(context.Background(), "big@localhost", pw); err != nil {
		t.Fatalf("request under the limit: %v", err)
	}

	conn, err := net.Dial("unix", f.path)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	huge := `{"op":"user.add","jid":"x@localhost","password":"` + strings.Repeat("x", MaxRequestBytes) + "\"}\n"
	go func() { _, _ = conn.Write([]byte(huge)) }()
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	r := bufio.NewReader(conn)
	got, err := r.ReadString('\n')
	if err != nil || !strings.Contains(got, "request larger than 65536 bytes") {
		t.Fatalf("got %q, %v", got, err)
	}
	if _, err := r.ReadString('\n'); err == nil {
		t.Error("the connection should be closed after an oversized request")
	}
	if _, ok := f.acc.users["x@localhost"]; ok {
		t.Error("oversized request was performed")
	}
}

func TestListenMode(t *testing.T) {
	f := start(t, nil)
	fi, err := os.Stat(f.path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode()&os.ModeSocket == 0 || fi.Mode().Perm() != 0o600 {
		t.Errorf("socket mode %v, want a socket with 0600", fi.Mode())
	}
	// A live socket is not taken over.
	if _, err := Listen(f.path); err == nil || !strings.Contains(err.Error(), "another process is listening") {
		t.Errorf("Listen on a live socket: %v", err)
	}
	// A regular file is not removed.
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Listen(file); err == nil || !strings.Contains(err.Error(), "not a socket") {
		t.Errorf("Listen on a file: %v", err)
	}
}

func TestListenReplacesStaleSocket(t *testing.T) {
	path := filepath.Join(t.TempDir(), "admin.sock")
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	l.(*net.UnixListener).SetUnlinkOnClose(false) // as if the process had died
	_ = l.Close()
	if _, err := os.Lstat(path); err != nil {
		t.Fatalf("stale socket should remain: %v", err)
	}
	l2, err := Listen(path)
	if err != nil {
		t.Fatalf("Listen over a stale socket: %v", err)
	}
	_ = l2.Close()
}

func TestDialWithoutServer(t *testing.T) {
	if _, err := Dial(filepath.Join(t.TempDir(), "none.sock")); err == nil {
		t.Fatal("Dial succeeded with no server")
	}
}

func TestClose(t *testing.T) {
	f := start(t, nil)
	c := dial(t, f.path)
	if err := f.srv.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-f.done:
		if !errors.Is(err, ErrServerClosed) {
			t.Errorf("Serve returned %v, want ErrServerClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return after Close")
	}
	if err := c.Ping(context.Background()); err == nil {
		t.Error("ping after Close succeeded")
	}
	if _, err := os.Lstat(f.path); !os.IsNotExist(err) {
		t.Errorf("socket file should be removed on Close: %v", err)
	}
	if err := f.srv.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestConcurrentClients(t *testing.T) {
	f := start(t, nil)
	shared := dial(t, f.path)
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := shared
			if i%2 == 0 {
				own, err := Dial(f.path)
				if err != nil {
					t.Error(err)
					return
				}
				defer own.Close()
				c = own
			}
			jid := "u" + string(rune('a'+i)) + "@localhost"
			if err := c.CreateUser(context.Background(), jid, "pw"); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	users, err := shared.ListUsers(context.Background(), "localhost")
	if err != nil || len(users) != 16 {
		t.Errorf("got %d users, %v", len(users), err)
	}
}

func TestContextCancel(t *testing.T) {
	// A server that accepts but never answers.
	path := filepath.Join(t.TempDir(), "mute.sock")
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	conn, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	c := &Client{conn: conn, r: bufio.NewReader(conn)}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := c.Ping(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("got %v, want context.DeadlineExceeded", err)
	}
	if err := c.Ping(context.Background()); err == nil {
		t.Error("a client that failed mid-exchange should stay failed")
	}
}
