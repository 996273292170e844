package server

import (
	"crypto/tls"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/parley-im/parley/internal/config"
	"github.com/parley-im/parley/internal/selfsigned"
)

// writeCert writes a fresh self-signed certificate and returns its files.
func writeCert(t *testing.T, name string) (certFile, keyFile string) {
	t.Helper()
	certPEM, keyPEM, err := selfsigned.PEM("localhost")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, name+".pem"), filepath.Join(dir, name+".key")
	if err := os.WriteFile(certFile, certPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, keyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

func servedSerial(t *testing.T, addr string) string {
	t.Helper()
	c, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.ConnectionState().PeerCertificates[0].SerialNumber.String()
}

// TestReloadSwapsTheCertificateForNewConnections: a renewed certificate
// is picked up without a restart; settings that need one are named.
func TestReloadSwapsTheCertificateForNewConnections(t *testing.T) {
	certA, keyA := writeCert(t, "a")
	var cfg config.Config
	ts := startServer(t, func(c *config.Config) { c.TLSCert, c.TLSKey = certA, keyA; cfg = *c })
	before := servedSerial(t, ts.addrs.C2STLS)

	certB, keyB := writeCert(t, "b")
	next := cfg
	next.TLSCert, next.TLSKey, next.LogFormat = certB, keyB, "json"
	restart, err := ts.Reload(next)
	if err != nil {
		t.Fatal(err)
	}
	if after := servedSerial(t, ts.addrs.C2STLS); after == before {
		t.Fatal("the new certificate is not served after Reload")
	}
	if !slices.Equal(restart, []string{"log_format"}) {
		t.Fatalf("settings needing a restart: %v, want [log_format]", restart)
	}

	bad := next
	bad.TLSCert = filepath.Join(t.TempDir(), "missing.pem")
	if _, err := ts.Reload(bad); err == nil {
		t.Fatal("a missing certificate was accepted")
	}
	if servedSerial(t, ts.addrs.C2STLS) == before {
		t.Fatal("a failed reload changed the certificate")
	}
}

// TestReloadChangesLimits: the keep-alive interval and timeout, the
// mailbox size and the login failure limit change without a restart; a
// silent client is closed once the shorter ping settings apply.
func TestReloadChangesLimits(t *testing.T) {
	var cfg config.Config
	ts := startServer(t, func(c *config.Config) { c.PingInterval, c.PingTimeout = time.Hour, time.Hour; cfg = *c })
	ts.addUser(t, "alice", "pw-alice")
	silent := ts.login(t, "alice", "silent")
	if el := silent.Next(1500 * time.Millisecond); el != nil && el.Child("urn:xmpp:ping", "ping") != nil {
		t.Fatal("pinged before the reload, with an interval of an hour")
	}
	next := cfg
	next.PingInterval, next.PingTimeout = time.Second, time.Second
	next.MailboxSize, next.AuthFailuresPerMinute = 64, 2
	restart, err := ts.Reload(next)
	if err != nil {
		t.Fatal(err)
	}
	if len(restart) != 0 {
		t.Fatalf("settings needing a restart: %v, want none", restart)
	}
	if se := silent.Closed(); se == nil || se.Condition != "connection-timeout" {
		t.Fatalf("silent client got %v, want connection-timeout after the reload", se)
	}
	if got := ts.live.mailboxSize(); got != 64 {
		t.Fatalf("mailbox size %d after the reload, want 64", got)
	}
}
