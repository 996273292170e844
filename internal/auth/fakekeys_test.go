package auth

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha512"
	"testing"
)

// TestFakeKeysReuseTheirKeyedHMAC: an unknown name's fake credentials come
// from a pooled HMAC-SHA-512 already keyed (Reset, not hmac.New, which
// hashes the key's pads again and allocates two digests): one allocation
// (the sum the keys are cut from) instead of six, and the same keys as a
// fresh HMAC's, call after call.
func TestFakeKeysReuseTheirKeyedHMAC(t *testing.T) {
	a := NewAuthenticator(nil)
	for _, name := range []string{"nobody", "somebody-else", "nobody"} {
		m := hmac.New(sha512.New, a.fakeKey[:])
		m.Write([]byte(SHA256.String() + "\x00" + name))
		want := m.Sum(nil)
		got := a.fakeKeys(SHA256, name)
		if !bytes.Equal(got.Salt, want[:saltLen]) || !bytes.Equal(got.StoredKey, want[saltLen:saltLen+SHA256.size()]) {
			t.Fatalf("fake keys of %q differ from a fresh HMAC's", name)
		}
	}
	if raceEnabled {
		return // sync.Pool drops items at random under the race detector
	}
	if n := testing.AllocsPerRun(100, func() { a.fakeKeys(SHA256, "nobody") }); n > 1 {
		t.Fatalf("fakeKeys allocates %.0f times, want at most 1", n)
	}
}
