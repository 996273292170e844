package auth

import (
	"context"
	"testing"

	"github.com/xdg-go/scram"
)

// BenchmarkSCRAMSHA256Server measures the server's share of one
// SCRAM-SHA-256 login: Start with client-first (parse, user lookup in an
// in-memory store, server-first) and Step with client-final (proof check,
// server signature). The client messages are computed once, outside the
// timer, with a fixed server nonce (which also skips the server's 24 bytes
// of crypto/rand per login). The server never runs PBKDF2 for SCRAM: the
// client does. "unknown" is a login for a user that does not exist (fake
// credentials), and should cost the same as "wrong" (an existing user, a
// wrong password); "known" succeeds, and computes the server's signature
// besides.
func BenchmarkSCRAMSHA256Server(b *testing.B) {
	for _, user := range []string{"known", "wrong", "unknown"} {
		b.Run(user, func(b *testing.B) {
			a := newFixedAuth(b, "SERVERNONCE", SHA256, "W22ZaJ0SNY7soEsUEjb6gQ==")
			name, password := "user", "pencil"
			switch user {
			case "unknown":
				name = "nobody"
			case "wrong":
				password = "pen"
			}
			c := scramClient(b, scram.SHA256, name, password, "").WithNonceGenerator(func() string { return "CLIENTNONCE" })
			conv := c.NewConversation()
			first, _ := conv.Step("")
			ctx := context.Background()
			_, sf, err := a.Start(ctx, plainConfig(), MechSCRAMSHA256, []byte(first))
			if err != nil {
				b.Fatal(err)
			}
			final, err := conv.Step(string(sf))
			if err != nil {
				b.Fatal(err)
			}
			firstB, finalB := []byte(first), []byte(final)
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				n, _, err := a.Start(ctx, plainConfig(), MechSCRAMSHA256, firstB)
				if err != nil {
					b.Fatal(err)
				}
				_, err = n.Step(ctx, finalB)
				if (err == nil) != (user == "known") {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkPLAIN measures one PLAIN verification: PBKDF2-HMAC-SHA-256 with
// DefaultIterations (4096) and a constant-time StoredKey comparison, for
// an existing and an unknown user (fake credentials, same PBKDF2).
func BenchmarkPLAIN(b *testing.B) {
	for _, user := range []string{"known", "unknown"} {
		b.Run(user, func(b *testing.B) {
			a, _ := newTestAuth(b)
			name := "alice"
			if user == "unknown" {
				name = "nobody"
			}
			msg := plainMsg("", name, alicePassword)
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				_, _, err := a.Start(ctx, plainConfig(), MechPlain, msg)
				if (err == nil) != (user == "known") {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkNewAccount measures creating both key sets (two PBKDF2 runs).
func BenchmarkNewAccount(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := NewAccount("alice@example.org", alicePassword, DefaultIterations); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSCRAMSHA256Client is the client's side of the same login, for
// comparison: it runs PBKDF2 (4096 iterations) on every login.
func BenchmarkSCRAMSHA256Client(b *testing.B) {
	a := newFixedAuth(b, "SERVERNONCE", SHA256, "W22ZaJ0SNY7soEsUEjb6gQ==")
	_, sf, _ := a.Start(context.Background(), plainConfig(), MechSCRAMSHA256, []byte("n,,n=user,r=CLIENTNONCE"))
	b.ReportAllocs()
	for b.Loop() {
		c := scramClient(b, scram.SHA256, "user", "pencil", "").WithNonceGenerator(func() string { return "CLIENTNONCE" })
		conv := c.NewConversation()
		_, _ = conv.Step("")
		if _, err := conv.Step(string(sf)); err != nil {
			b.Fatal(err)
		}
	}
}
