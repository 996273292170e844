package client_test

import (
	"context"
	"errors"
	"testing"

	"github.com/parley-im/parley/client"
	"github.com/parley-im/parley/internal/servertest"
)

func TestKeyCacheLogsInAgainAndStillChecksThePassword(t *testing.T) {
	srv := servertest.Start(t, nil)
	srv.AddUser(t, "alice@localhost", "pw-alice")
	cache := client.NewKeyCache()
	for range 2 {
		c := dial(t, srv, "alice@localhost/phone", "pw-alice", func(o *client.Options) { o.KeyCache = cache })
		_ = c.Close()
	}
	_, err := client.Dial(context.Background(), client.Options{JID: "alice@localhost", Password: "wrong", Addr: srv.C2S,
		Encoding: client.XML, TLS: insecure, KeyCache: cache})
	var ae *client.AuthError
	if !errors.As(err, &ae) || ae.Condition != "not-authorized" {
		t.Fatalf("wrong password with a warm cache: %v", err)
	}
}

// BenchmarkLoginSCRAM measures a whole login over loopback (TLS, SCRAM-SHA-256,
// bind, stream management), with and without the client's key cache: the
// difference is the client's PBKDF2.
func BenchmarkLoginSCRAM(b *testing.B) {
	srv := servertest.Start(b, nil)
	srv.AddUser(b, "alice@localhost", "pw-alice")
	for _, tc := range []struct {
		name  string
		cache *client.KeyCache
	}{{"no-cache", nil}, {"key-cache", client.NewKeyCache()}} {
		b.Run(tc.name, func(b *testing.B) {
			for b.Loop() {
				c, err := client.Dial(context.Background(), client.Options{JID: "alice@localhost/b", Password: "pw-alice",
					Addr: srv.Native, TLS: insecure, Mechanism: "SCRAM-SHA-256", KeyCache: tc.cache})
				if err != nil {
					b.Fatal(err)
				}
				_ = c.Close()
			}
		})
	}
}
