package auth

import (
	"context"
	"errors"
	"testing"

	"github.com/parley-im/parley/internal/devicelink"
)

// fuzzDeviceToken is the token of the one device the fuzzer may log in as.
const fuzzDeviceToken = "mF0dKq3Xw9ZlT1bQy7VnR2cH5sJ8uA4eG6iO0pLkM3N"

// FuzzDeviceLogin feeds arbitrary X-PARLEY-DEVICE messages: no panic,
// every error a *Failure with an RFC 6120 condition, success only for the
// one real device with its token. Seeds in testdata/fuzz/FuzzDeviceLogin.
func FuzzDeviceLogin(f *testing.F) {
	a, _ := newTestAuth(f)
	devs := devStore{"alice@" + testDomain + "/dev-1": {ID: "dev-1", TokenHash: devicelink.HashToken(fuzzDeviceToken)}}
	cfg := Config{Domain: testDomain, Devices: devs}
	f.Add([]byte("alice\x00dev-1\x00" + fuzzDeviceToken))
	f.Add([]byte("alice@" + testDomain + "\x00dev-1\x00x"))
	f.Fuzz(func(t *testing.T, msg []byte) {
		n, _, err := a.Start(context.Background(), cfg, MechDevice, msg)
		if err != nil {
			var fl *Failure
			if !errors.As(err, &fl) || !knownConditions[fl.Condition] {
				t.Fatalf("%q: error %v is not a known SASL failure", msg, err)
			}
			return
		}
		if len(msg) == 0 && !n.Done() { // no initial response: the exchange waits
			return
		}
		if !n.Done() || n.User() != "alice@"+testDomain || n.Device() != "dev-1" {
			t.Fatalf("%q: logged in as %q device %q", msg, n.User(), n.Device())
		}
	})
}
