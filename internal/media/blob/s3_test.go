package blob_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parley-im/parley/internal/media/blob"
	"github.com/parley-im/parley/internal/media/blob/blobtest"
)

// The S3 backend runs the suite against a real S3-compatible server:
// versitygw's posix gateway (github.com/versity/versitygw, installed by
// .ci/run with go install at a pinned version), started by the test.
const (
	s3Access = "parleytest"
	s3Secret = "parley-test-secret-key"
)

func TestS3(t *testing.T) {
	endpoint := startVersityGW(t)
	var n atomic.Int64
	blobtest.Run(t, func(t *testing.T) blob.Store {
		s, err := blob.NewS3(context.Background(), blob.S3Config{
			Endpoint: endpoint, Bucket: fmt.Sprintf("parley-test-%d", n.Add(1)),
			AccessKey: s3Access, SecretKey: s3Secret, CreateBucket: true,
		})
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestS3RefusesAMissingBucketAndBadCredentials(t *testing.T) {
	endpoint := startVersityGW(t)
	ctx := context.Background()
	if _, err := blob.NewS3(ctx, blob.S3Config{Endpoint: endpoint, Bucket: "absent", AccessKey: s3Access, SecretKey: s3Secret}); err == nil ||
		!strings.Contains(err.Error(), "does not exist") {
		t.Errorf("missing bucket: %v", err)
	}
	if _, err := blob.NewS3(ctx, blob.S3Config{Endpoint: endpoint, Bucket: "absent", AccessKey: s3Access, SecretKey: "wrong"}); err == nil {
		t.Error("wrong secret key accepted")
	}
	if _, err := blob.NewS3(ctx, blob.S3Config{Endpoint: "ftp://x", Bucket: "b"}); err == nil {
		t.Error("ftp endpoint accepted")
	}
}

// versityGW finds the versitygw binary: $PARLEY_VERSITYGW, $PATH, or
// $(go env GOPATH)/bin.
func versityGW() (string, error) {
	if p := os.Getenv("PARLEY_VERSITYGW"); p != "" {
		return p, nil
	}
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p, nil
	}
	out, err := exec.Command("go", "env", "GOPATH").Output()
	if err != nil {
		return "", err
	}
	p := filepath.Join(strings.TrimSpace(string(out)), "bin", "versitygw")
	if _, err := os.Stat(p); err != nil {
		return "", err
	}
	return p, nil
}

// startVersityGW starts a posix gateway over a temporary directory and
// returns its endpoint URL. A missing binary skips the test loudly, or
// fails it in CI.
func startVersityGW(t *testing.T) string {
	t.Helper()
	bin, err := versityGW()
	if err != nil {
		reason := "versitygw not found (" + err.Error() + "); install it with `go install github.com/versity/versitygw/cmd/versitygw@v1.8.0`"
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true and %s", reason)
		}
		t.Skipf("\n!!!!!!!! SKIPPED (S3 backend not tested) !!!!!!!!\n!!! %s\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!", reason)
	}
	root := t.TempDir()
	addr := freeAddr(t)
	cmd := exec.Command(bin, "--access", s3Access, "--secret", s3Secret, "--port", addr, "--quiet", "posix", "--nometa", root)
	var logs strings.Builder
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting versitygw: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("versitygw output:\n%s", logs.String())
		}
	})
	deadline := time.Now().Add(15 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return "http://" + addr
		}
		if time.Now().After(deadline) {
			t.Fatalf("versitygw did not listen on %s: %v\n%s", addr, err, logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func listAll(t *testing.T, s blob.Store) []string {
	t.Helper()
	var keys []string
	if err := s.List(context.Background(), "", func(i blob.Info) error { keys = append(keys, i.Key); return nil }); err != nil {
		t.Fatal(err)
	}
	return keys
}
