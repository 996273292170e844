package tlsrecord

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// OpenSSL's s_client negotiates each of the three suites (a Go client
// always picks AES-128-GCM on this hardware) and sends KeyUpdates: "k"
// (update_not_requested: the server's reading keys change) and "K"
// (update_requested: the server answers with its own KeyUpdate before
// its next record, and its writing keys change too). The server echoes
// every line; the client must read each echo.
func TestOpenSSLClientSuitesAndKeyUpdates(t *testing.T) {
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("openssl is not installed: .ci/run installs it (Debian package openssl)")
		}
		t.Skip("SKIPPED: openssl is not installed (apt-get install openssl): the interop test of the record layer with another TLS 1.3 implementation did not run")
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
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = stdin.Close(); _ = cmd.Process.Kill(); _ = cmd.Wait(); _ = pw.Close() }()
	lines := make(chan string, 256)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
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
	waitFor := func(s string) { // reads s_client's output up to a line with s
		t.Helper()
		timeout := time.After(10 * time.Second)
		for {
			select {
			case line, ok := <-lines:
				if !ok {
					t.Fatalf("s_client ended before %q", s)
				}
				if strings.Contains(line, s) {
					return
				}
			case <-timeout:
				t.Fatalf("no %q from s_client", s)
			}
		}
	}
	// s_client takes a command only at the start of what it reads from
	// its input at once: each goes alone, and is seen done before more.
	send("one\n")
	waitFor("echo:one")
	send("k\n")
	waitFor("KEYUPDATE")
	send("two\n")
	waitFor("echo:two")
	send("K\n")
	waitFor("KEYUPDATE")
	send("three\n")
	waitFor("echo:three")
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
