package tlsrecord

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer collects a process's output for polling.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// OpenSSL's s_client negotiates each of the three suites (a Go client
// always picks AES-128-GCM on this hardware) and sends KeyUpdates: "k"
// (update_not_requested: the server's reading keys change) and "K"
// (update_requested: the server answers with its own KeyUpdate before
// its next record, and its writing keys change too). The server echoes
// every line; the client must read each echo.
func TestOpenSSLClientSuitesAndKeyUpdates(t *testing.T) {
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("openssl is not installed")
	}
	for _, name := range []string{"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"} {
		t.Run(name, func(t *testing.T) { opensslKeyUpdates(t, openssl, name) })
	}
}

func opensslKeyUpdates(t *testing.T, openssl, suiteName string) {
	a := NewAcceptor(serverConfig(t), NewPool())
	addr, ch := listen(t, a)
	cmd := exec.Command(openssl, "s_client", "-connect", addr, "-tls1_3", "-ciphersuites", suiteName)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = stdin.Close(); _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	srv := <-ch
	if srv.err != nil {
		t.Fatal(srv.err)
	}
	c := recordConn(t, srv)
	defer c.Close()
	if got := tls.CipherSuiteName(srv.state.CipherSuite); got != suiteName {
		t.Fatalf("negotiated %s, want %s", got, suiteName)
	}
	report := make(chan string, 1)
	go echoLines(c, report)

	send := func(s string) { _, _ = fmt.Fprint(stdin, s) }
	waitFor := func(s string, n int) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			if strings.Count(out.String(), s) >= n {
				return
			}
		}
		t.Fatalf("no %q from the server; s_client said:\n%s", s, out.String())
	}
	// s_client takes a command only at the start of what it reads from
	// its input at once: each goes alone, and is seen done before more.
	send("one\n")
	waitFor("echo:one", 1)
	send("k\n")
	waitFor("KEYUPDATE", 1)
	send("two\n")
	waitFor("echo:two", 1)
	send("K\n")
	waitFor("KEYUPDATE", 2)
	send("three\n")
	waitFor("echo:three", 1)
	if r := <-report; r != "" {
		t.Fatal(r)
	}
}

// echoLines echoes three lines and reports (empty when right) whether
// the reading keys changed after the first and the writing keys after
// the third.
func echoLines(c *Conn, report chan<- string) {
	r := bufio.NewReader(c)
	var in0, out0 []byte
	for i := range 3 {
		line, err := r.ReadString('\n')
		if err != nil {
			report <- "server read: " + err.Error()
			return
		}
		c.wmu.Lock()
		if i == 0 {
			in0, out0 = bytes.Clone(c.in.key), bytes.Clone(c.out.key)
		}
		c.wmu.Unlock()
		if _, err := c.Write([]byte("echo:" + line)); err != nil {
			report <- "server write: " + err.Error()
			return
		}
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	switch {
	case bytes.Equal(in0, c.in.key):
		report <- "the client's KeyUpdates did not change the reading key"
	case bytes.Equal(out0, c.out.key):
		report <- "the server did not update its writing key when asked"
	default:
		report <- ""
	}
}
