package auth

import (
	"context"
	"encoding/base64"
	"errors"
	"testing"

	"github.com/parley-im/parley/internal/store"
)

// Fuzzing setup: user "user" / "pencil" with both key sets, a fixed server
// nonce so that a mutated client-final can carry the right nonce, and
// channel binding data so every mechanism is offered.
const (
	fuzzServerNonce = "SERVER"
	fuzzIterations  = 64
)

var fuzzCB = []byte("fuzz-channel-binding-data-32byte")

// fuzzMechs indexes the mechanism by the fuzzer's first argument.
var fuzzMechs = []string{MechSCRAMSHA256, MechSCRAMSHA1, MechSCRAMSHA256Plus, MechSCRAMSHA1Plus, MechPlain}

func fuzzAuth(t testing.TB) *Authenticator {
	t.Helper()
	salt, _ := base64.StdEncoding.DecodeString("QSXCR+Q6sek8bf92")
	acct := store.Account{
		JID:    "user@" + testDomain,
		SHA1:   DeriveKeys("pencil", SHA1, salt, fuzzIterations),
		SHA256: DeriveKeys("pencil", SHA256, salt, fuzzIterations),
	}
	a := NewAuthenticator(&memStore{accts: map[string]store.Account{acct.JID: acct}})
	a.nonce = func() string { return fuzzServerNonce }
	a.fakeIterations = fuzzIterations // PLAIN for unknown users runs PBKDF2 with it
	return a
}

var knownConditions = map[string]bool{
	CondAborted: true, CondAccountDisabled: true, CondCredentialsExpired: true, CondEncryptionRequired: true,
	CondIncorrectEncoding: true, CondInvalidAuthzid: true, CondInvalidMechanism: true, CondMalformedRequest: true,
	CondMechanismTooWeak: true, CondNotAuthorized: true, CondTemporaryAuthFailure: true,
}

// FuzzSCRAMServer feeds arbitrary client-first and client-final messages
// (and PLAIN messages) to the server: it must not panic, every error must
// be a *Failure with an RFC 6120 condition, and success must only ever be
// for the one real user. The seed corpus in testdata/fuzz/FuzzSCRAMServer
// holds valid exchanges for each mechanism (see TestFuzzSeeds).
func FuzzSCRAMServer(f *testing.F) {
	a := fuzzAuth(f)
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, mech uint8, first, final []byte) {
		cfg := cbConfig(fuzzCB)
		if mech&0x80 != 0 { // no channel binding: -PLUS not offered, "y" allowed
			cfg = plainConfig()
		}
		check := func(err error) {
			var fl *Failure
			if !errors.As(err, &fl) || !knownConditions[fl.Condition] {
				t.Fatalf("error %v is not a SASL failure", err)
			}
		}
		n, _, err := a.Start(ctx, cfg, fuzzMechs[int(mech&0x7f)%len(fuzzMechs)], first)
		if err != nil {
			check(err)
			return
		}
		if !n.Done() {
			if _, err := n.Step(ctx, final); err != nil {
				check(err)
				if n.Done() || n.User() != "" {
					t.Fatal("failed exchange reports success")
				}
				return
			}
		}
		if n.Done() && n.User() != "user@example.org" {
			t.Fatalf("authenticated as %q", n.User())
		}
	})
}
