package turn_test

import (
	"strings"
	"testing"
	"time"

	"github.com/parley-im/parley/internal/turn"
)

// FuzzCheck: any username either is refused with ErrMalformed or
// ErrExpired, or yields the password Issue would give for it; never a
// panic. Seeds in testdata/fuzz/FuzzCheck.
func FuzzCheck(f *testing.F) {
	f.Add("1700003600:alice@localhost")
	f.Add(":")
	secret := []byte("fuzz secret")
	now := time.Unix(1_700_000_000, 0)
	f.Fuzz(func(t *testing.T, username string) {
		pass, user, err := turn.Check(secret, username, now)
		if err != nil {
			if pass != "" || user != "" {
				t.Fatalf("%q: refused but returned %q %q", username, pass, user)
			}
			return
		}
		if user == "" || !strings.HasSuffix(username, ":"+user) || turn.UserOf(username) != user {
			t.Fatalf("%q: user %q", username, user)
		}
		again, _, _ := turn.Check(secret, username, now)
		if again != pass || pass == "" {
			t.Fatalf("%q: password not stable", username)
		}
	})
}
